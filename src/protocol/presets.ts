/**
 * Presets: a few named choices of method and size, so that a user picks speed against care
 * without knowing the parameters. "custom" is the individual settings.
 */
import type {SamplingParams} from "./params.js";

export const PRESETS = ["fast", "balanced", "thorough", "custom"] as const;
export type Preset = (typeof PRESETS)[number];

type PresetParams = Pick<SamplingParams, "method" | "alpha" | "maxTokens"> & Partial<SamplingParams>;

/** What each named preset sets; the parameters it leaves out keep their defaults. */
export const PRESET_PARAMS: Record<Exclude<Preset, "custom">, PresetParams> = {
    fast: {method: "smc", alpha: 4, particles: 8, maxTokens: 512},
    balanced: {method: "smc", alpha: 4, particles: 16, maxTokens: 1024},
    // The paper's Metropolis-Hastings settings, with room for long answers.
    thorough: {method: "power", alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 2048}
};

export const PRESET_LABELS: Record<Preset, string> = {fast: "Fast", balanced: "Balanced", thorough: "Thorough", custom: "Custom"};

export const PRESET_DESCRIPTIONS: Record<Preset, string> = {
    fast: "Power-SMC, 8 particles, up to 512 tokens: a few times the cost of one plain answer",
    balanced: "Power-SMC, 16 particles, up to 1,024 tokens",
    thorough: "Metropolis-Hastings as in the paper (blocks of 192, 10 steps), up to 2,048 tokens: many times the cost",
    custom: "Your own method and parameters (the individual settings)"
};

/** `base` with the preset's parameters over it (custom: `base` as it is). */
export function applyPreset(preset: Preset, base: SamplingParams): SamplingParams {
    return preset === "custom" ? base : {...base, ...PRESET_PARAMS[preset]};
}
