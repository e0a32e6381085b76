/**
 * The extension's settings (powerSampling.*), checked with messages that name the setting. The
 * sampling parameters go through the protocol's one check (the backend runs the same one on
 * what it receives). No vscode import: the checks are unit-tested against package.json.
 */
import {GPU_CHOICES, type GpuChoice} from "../protocol/backend.js";
import {InvalidInputError} from "../protocol/errors.js";
import {PARAMETERS, PROMPT_MODES, type PromptMode, resolveParams, type SamplingParams, show} from "../protocol/params.js";
import {applyPreset, type Preset, PRESETS} from "../protocol/presets.js";

export interface Settings {
    readonly model: string;
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
    return {
        model: text("model"),
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
