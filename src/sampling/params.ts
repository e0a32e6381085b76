import {InvalidInputError} from "./errors.js";

export const METHODS = ["power", "low-temperature", "standard", "greedy"] as const;
export type Method = (typeof METHODS)[number];

export interface SamplingParams {
    readonly method: Method;
    /** Exponent of the target p^alpha; the proposal runs at temperature 1/alpha. */
    readonly alpha: number;
    /** Tokens added per block before the block's MCMC steps. */
    readonly blockSize: number;
    /** Metropolis-Hastings steps per block and chain. */
    readonly mcmcSteps: number;
    /** Most generated tokens per sample. */
    readonly maxTokens: number;
    /** Independent samples (chains), drawn in step. */
    readonly samples: number;
    readonly seed: number;
}

/** The paper's defaults (alpha 4, B 192, N 10); maxTokens kept modest for local models. */
export const DEFAULT_PARAMS: Omit<SamplingParams, "seed"> = {
    method: "power",
    alpha: 4,
    blockSize: 192,
    mcmcSteps: 10,
    maxTokens: 1024,
    samples: 1
};

/** Fills defaults and rejects anything a run cannot honour, naming the parameter. */
export function resolveParams(input: Partial<SamplingParams>): SamplingParams {
    const params: SamplingParams = {
        ...DEFAULT_PARAMS,
        seed: Math.floor(Math.random() * 2 ** 32),
        ...Object.fromEntries(Object.entries(input).filter(([, value]) => value !== undefined))
    };
    if (!METHODS.includes(params.method))
        throw new InvalidInputError(`method must be one of ${METHODS.join(", ")}, got "${params.method}"`);
    if (typeof params.alpha !== "number" || !Number.isFinite(params.alpha) || params.alpha < 1)
        throw new InvalidInputError(`alpha must be a number >= 1, got ${params.alpha}`);
    requireInteger("blockSize", params.blockSize, 1);
    requireInteger("mcmcSteps", params.mcmcSteps, 0);
    requireInteger("maxTokens", params.maxTokens, 1);
    requireInteger("samples", params.samples, 1);
    requireInteger("seed", params.seed, 0, 2 ** 32 - 1);
    return params;
}

function requireInteger(name: string, value: unknown, min: number, max = Number.MAX_SAFE_INTEGER): void {
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
        const range = max === Number.MAX_SAFE_INTEGER ? `an integer >= ${min}` : `an integer in ${min}..${max}`;
        throw new InvalidInputError(`${name} must be ${range}, got ${value}`);
    }
}

/** The temperature a method draws its tokens at (for power: its proposal). */
export function drawTemperature(params: Pick<SamplingParams, "method" | "alpha">): number {
    switch (params.method) {
        case "standard": return 1;
        case "greedy": return 0;
        case "low-temperature":
        case "power": return 1 / params.alpha;
    }
}
