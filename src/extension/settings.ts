/**
 * The extension's settings (powerSampling.*), validated with messages that name the setting.
 * No vscode import: the checks are unit-tested against package.json's declared defaults.
 */
import {METHODS, type Method} from "../sampling/params.js";
import {PROMPT_MODES, type PromptMode} from "../backend/protocol.js";

export const GPU_CHOICES = ["auto", "cpu", "cuda", "vulkan", "metal"] as const;

export interface Settings {
    readonly model: string;
    readonly method: Method;
    readonly alpha: number;
    readonly blockSize: number;
    readonly mcmcSteps: number;
    readonly maxTokens: number;
    readonly alternatives: number;
    readonly promptMode: PromptMode;
    /** 0: as large as prompt + maxTokens needs, up to the model's trained context. */
    readonly contextSize: number;
    /** 0: the physical core count. */
    readonly threads: number;
    readonly gpu: (typeof GPU_CHOICES)[number];
    /** "": the extension's global storage. */
    readonly modelCacheFolder: string;
}

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
            throw new SettingsError(`powerSampling.${key} must be an integer >= ${min}, got ${JSON.stringify(value)}`);
        return value;
    };
    const choice = <T extends string>(key: string, choices: readonly T[]) => {
        const value = get(key);
        if (!choices.includes(value as T)) throw new SettingsError(`powerSampling.${key} must be one of ${choices.join(", ")}, got ${JSON.stringify(value)}`);
        return value as T;
    };
    const text = (key: string) => {
        const value = get(key) ?? "";
        if (typeof value !== "string") throw new SettingsError(`powerSampling.${key} must be a string, got ${JSON.stringify(value)}`);
        return value.trim();
    };
    const alpha = get("alpha");
    if (typeof alpha !== "number" || !Number.isFinite(alpha) || alpha < 1)
        throw new SettingsError(`powerSampling.alpha must be a number >= 1, got ${JSON.stringify(alpha)}`);
    return {
        model: text("model"),
        method: choice("method", METHODS),
        alpha,
        blockSize: integer("blockSize", 1),
        mcmcSteps: integer("mcmcSteps", 0),
        maxTokens: integer("maxTokens", 1),
        alternatives: integer("alternatives", 1),
        promptMode: choice("promptMode", PROMPT_MODES),
        contextSize: integer("contextSize", 0),
        threads: integer("threads", 0),
        gpu: choice("gpu", GPU_CHOICES),
        modelCacheFolder: text("modelCacheFolder")
    };
}
