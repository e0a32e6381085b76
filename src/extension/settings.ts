/**
 * The extension's settings (powerSampling.*), checked with messages that name the setting. The
 * sampling parameters go through the protocol's one check (the backend runs the same one on
 * what it receives). No vscode import: the checks are unit-tested against package.json.
 */
import {GPU_CHOICES, type GpuChoice, type InitializationOptions} from "../protocol/backend.js";
import {InvalidInputError} from "../protocol/errors.js";
import {PARAMETERS, PROMPT_MODES, type PromptMode, resolveParams, type SamplingParams, show} from "../protocol/params.js";
import {applyPreset, type Preset, PRESETS} from "../protocol/presets.js";
import {parseServerUrl} from "../remote/address.js";

export interface Settings {
    readonly model: string;
    /** A llama-server's base URL, checked (see address.ts); "": the local model. */
    readonly server: string;
    /** Plain http to a server on another machine: the user's explicit opt-in. */
    readonly serverAllowPlainHttp: boolean;
    readonly preset: Preset;
    /** What runs: the preset's parameters over the individual settings; a fresh seed each time they are read. */
    readonly params: SamplingParams;
    /** The individual settings alone (the "custom" preset). */
    readonly customParams: SamplingParams;
    readonly promptMode: PromptMode;
    /** 0: as large as prompt + maxTokens needs, up to the model's trained context. */
    readonly contextSize: number;
    /** 0: chosen for the machine. */
    readonly threads: number;
    readonly gpu: GpuChoice;
    /** "": the extension's global storage. */
    readonly modelCacheFolder: string;
}

/** The panel shows alternatives as cards: more than this is a benchmark, which the command line runs. */
export const MAX_SETTINGS_SAMPLES = 64;

/** The sampling parameters a user sets (the seed is fresh for every run). */
export const SAMPLING_SETTINGS = (Object.keys(PARAMETERS) as (keyof typeof PARAMETERS)[]).filter((name) => name !== "seed");

export class SettingsError extends Error {
    override name = "SettingsError";
}

/**
 * Checks every setting given by `get` (a key without the "powerSampling." prefix to its value);
 * the first invalid one throws a SettingsError naming it.
 */
export function parseSettings(get: (key: string) => unknown): Settings {
    const integer = (key: string, min: number) => {
        const value = get(key);
        if (typeof value !== "number" || !Number.isInteger(value) || value < min)
            throw new SettingsError(`powerSampling.${key} must be an integer >= ${min}, got ${show(value)}`);
        return value;
    };
    const choice = <T extends string>(key: string, choices: readonly T[]) => {
        const value = get(key);
        if (!choices.includes(value as T)) throw new SettingsError(`powerSampling.${key} must be one of ${choices.join(", ")}, got ${show(value)}`);
        return value as T;
    };
    const flag = (key: string) => {
        const value = get(key) ?? false;
        if (typeof value !== "boolean") throw new SettingsError(`powerSampling.${key} must be true or false, got ${show(value)}`);
        return value;
    };
    const text = (key: string) => {
        const value = get(key) ?? "";
        if (typeof value !== "string") throw new SettingsError(`powerSampling.${key} must be a string, got ${show(value)}`);
        return value.trim();
    };
    let customParams: SamplingParams;
    try {
        customParams = resolveParams({method: get("method"), ...Object.fromEntries(SAMPLING_SETTINGS.map((name) => [name, get(name)]))},
            (name) => `powerSampling.${name}`);
    } catch (error) {
        if (error instanceof InvalidInputError) throw new SettingsError(error.message);
        throw error;
    }
    if (customParams.samples > MAX_SETTINGS_SAMPLES)
        throw new SettingsError(`powerSampling.samples must be at most ${MAX_SETTINGS_SAMPLES} in the editor, got ${customParams.samples}; the command line takes more`);
    const preset = choice("preset", PRESETS);
    const serverAllowPlainHttp = flag("serverAllowPlainHttp");
    return {
        model: text("model"),
        server: checkServer(text("server"), serverAllowPlainHttp),
        serverAllowPlainHttp,
        preset,
        params: applyPreset(preset, customParams),
        customParams,
        promptMode: choice("promptMode", PROMPT_MODES),
        contextSize: integer("contextSize", 0),
        threads: integer("threads", 0),
        gpu: choice("gpu", GPU_CHOICES),
        modelCacheFolder: text("modelCacheFolder")
    };
}

/** The server setting's URL in the form the backend uses, or "" (the local model). */
function checkServer(text: string, allowPlainHttp: boolean): string {
    if (text === "") return "";
    try {
        return parseServerUrl(text, {allowPlainHttp, optIn: "the powerSampling.serverAllowPlainHttp setting"});
    } catch (error) {
        if (error instanceof InvalidInputError) throw new SettingsError(`powerSampling.server: ${error.message}`);
        throw error;
    }
}

/**
 * What the backend process starts with. The API key (from SecretStorage, never a setting) goes
 * only with a server: the local engine has no use for it.
 */
export function backendOptions(settings: Settings, defaults: {readonly cacheDir: string; readonly apiKey?: string}): InitializationOptions {
    return {
        cacheDir: settings.modelCacheFolder || defaults.cacheDir,
        threads: settings.threads || undefined,
        gpu: settings.gpu,
        contextSize: settings.contextSize || undefined,
        ...settings.server !== "" && {server: settings.server, allowPlainHttp: settings.serverAllowPlainHttp, apiKey: defaults.apiKey || undefined}
    };
}

/** What runs the model, as measured decode rates are keyed: the server, else the model setting. */
export function engineKey(settings: Pick<Settings, "model" | "server">): string {
    return settings.server || settings.model;
}
