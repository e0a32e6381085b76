/**
 * The sampling parameters: one table of names, bounds and defaults, and the one check every
 * boundary (the backend's requests, the command line, the extension's settings) runs on what
 * it receives. Every size a request can set is bounded here, before anything is allocated.
 */
import {InvalidInputError} from "./errors.js";

export const METHODS = ["power", "smc", "low-temperature", "standard", "greedy"] as const;
export type Method = (typeof METHODS)[number];

export interface SamplingParams {
    readonly method: Method;
    /** Exponent of the target p^alpha; the proposal runs at temperature 1/alpha. */
    readonly alpha: number;
    /** power: tokens added per block before the block's MCMC steps. */
    readonly blockSize: number;
    /** power: Metropolis-Hastings steps per block and chain. */
    readonly mcmcSteps: number;
    /** Most generated tokens per sample. */
    readonly maxTokens: number;
    /** Independent samples: chains (power and the direct methods) or whole SMC runs (smc), drawn in step. */
    readonly samples: number;
    /** smc: particles per run, decoded as one batch. */
    readonly particles: number;
    /** smc: tokens between effective-sample-size checks. */
    readonly resampleInterval: number;
    /** smc: resample when the effective sample size falls below this fraction of the particles. */
    readonly essThreshold: number;
    /** smc: tokens over which alpha ramps up from 1 (0: no ramp). */
    readonly alphaRampTokens: number;
    readonly seed: number;
}

/** A numeric parameter's bounds; every one but the seed (fresh per run) has a default. */
type NumberParam = {readonly kind: "integer" | "number"; readonly min: number; readonly max: number; readonly default?: number};

/** Bounds are what one request may ask for; memory decides what actually runs at once. */
export const PARAMETERS = {
    alpha: {kind: "number", min: 1, max: 64, default: 4},
    blockSize: {kind: "integer", min: 1, max: 32_768, default: 192},
    mcmcSteps: {kind: "integer", min: 0, max: 10_000, default: 10},
    maxTokens: {kind: "integer", min: 1, max: 32_768, default: 1024},
    samples: {kind: "integer", min: 1, max: 4096, default: 1},
    // One run's particles share a llama.cpp context, which holds at most 256 sequences.
    particles: {kind: "integer", min: 1, max: 256, default: 16},
    resampleInterval: {kind: "integer", min: 1, max: 32_768, default: 16},
    essThreshold: {kind: "number", min: 0, max: 1, default: 0.5},
    alphaRampTokens: {kind: "integer", min: 0, max: 32_768, default: 0},
    seed: {kind: "integer", min: 0, max: 2 ** 32 - 1}
} as const satisfies Record<Exclude<keyof SamplingParams, "method">, NumberParam>;

export type NumericParamName = keyof typeof PARAMETERS;

export const DEFAULT_METHOD: Method = "power";

export function randomSeed(): number {
    return Math.floor(Math.random() * 2 ** 32);
}

/**
 * Fills defaults and rejects anything a run cannot honour, naming the parameter with `name`
 * (a flag or a setting for the same field): a wrong type, a value out of bounds, an unknown name.
 */
export function resolveParams(input: unknown, name: (field: string) => string = (field) => field): SamplingParams {
    if (typeof input !== "object" || input === null || Array.isArray(input)) throw new InvalidInputError("sampling parameters must be an object");
    const given = Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined));
    const unknown = Object.keys(given).find((field) => field !== "method" && !(field in PARAMETERS));
    if (unknown !== undefined) throw new InvalidInputError(`unknown sampling parameter ${JSON.stringify(unknown)}`);
    const method = given.method ?? DEFAULT_METHOD;
    if (!METHODS.includes(method as Method))
        throw new InvalidInputError(`${name("method")} must be one of ${METHODS.join(", ")}, got ${show(method)}`);
    const params: Record<string, unknown> = {method};
    for (const [field, spec] of Object.entries(PARAMETERS) as [NumericParamName, NumberParam][]) {
        const value = given[field] ?? spec.default ?? randomSeed();
        if (typeof value !== "number" || !Number.isFinite(value) || (spec.kind === "integer" && !Number.isInteger(value))
            || value < spec.min || value > spec.max) {
            const what = spec.kind === "integer" ? "an integer" : "a number";
            throw new InvalidInputError(`${name(field)} must be ${what} in ${spec.min}..${spec.max}, got ${show(value)}`);
        }
        params[field] = value;
    }
    return params as unknown as SamplingParams;
}

/** A value as the user wrote it: NaN stays NaN (JSON would say null). */
export function show(value: unknown): string {
    return typeof value === "number" ? String(value) : JSON.stringify(value) ?? String(value);
}

/** The temperature a method draws its tokens at (power and smc: their proposal). */
export function drawTemperature(params: Pick<SamplingParams, "method" | "alpha">): number {
    switch (params.method) {
        case "standard": return 1;
        case "greedy": return 0;
        case "low-temperature":
        case "power":
        case "smc": return 1 / params.alpha;
    }
}

/** How a selection becomes the model's prompt; "auto" picks one of the others from the text and the model. */
export const PROMPT_MODES = ["auto", "raw", "chat", "math", "code"] as const;
export type PromptMode = (typeof PROMPT_MODES)[number];
/** The mode a prompt was built in. */
export type ResolvedPromptMode = Exclude<PromptMode, "auto">;

export function resolvePromptMode(value: unknown, name = "mode"): PromptMode {
    if (value === undefined) return "raw";
    if (!PROMPT_MODES.includes(value as PromptMode))
        throw new InvalidInputError(`${name} must be one of ${PROMPT_MODES.join(", ")}, got ${show(value)}`);
    return value as PromptMode;
}

/** Longer prompts than this overflow any model's context; refused before any work is done with them. */
export const MAX_PROMPT_BYTES = 1 << 20;

export function checkPrompt(prompt: unknown): string {
    if (typeof prompt !== "string") throw new InvalidInputError("prompt must be a string");
    const limit = MAX_PROMPT_BYTES.toLocaleString("en-US");
    // A UTF-16 code unit is at least one UTF-8 byte: a long string is refused without encoding it.
    if (prompt.length > MAX_PROMPT_BYTES) throw new InvalidInputError(`the prompt is over ${limit} bytes, the most accepted`);
    const bytes = new TextEncoder().encode(prompt).length;
    if (bytes > MAX_PROMPT_BYTES) throw new InvalidInputError(`the prompt is ${bytes.toLocaleString("en-US")} bytes; at most ${limit} are accepted`);
    return prompt;
}
