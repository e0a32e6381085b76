/**
 * What a run is expected to cost before it runs, from its parameters alone: the tokens drawn from
 * the model (an upper bound: samples may end before max tokens) and, with a rate measured on this
 * machine, the time. The panel shows it before a long run.
 */
import type {SamplingParams} from "./params.js";

/**
 * Tokens drawn for params.samples samples of up to maxTokens tokens each:
 * - standard, low temperature, greedy: maxTokens;
 * - power (MH): each block grows B tokens, then each of N steps redraws on average half of the
 *   block's length so far: T + N * sum_b (b * B / 2), about N * T^2 / (4B) (power-sampling.md);
 * - smc: every particle draws maxTokens.
 */
export function expectedTokens(params: SamplingParams): number {
    const {maxTokens: T, samples} = params;
    switch (params.method) {
        case "power": {
            const blocks = Math.ceil(T / params.blockSize);
            let redrawn = 0;
            for (let b = 1; b <= blocks; b++) redrawn += params.mcmcSteps * Math.min(b * params.blockSize, T) / 2;
            return samples * (T + redrawn);
        }
        case "smc": return samples * params.particles * T;
        default: return samples * T;
    }
}

export interface Estimate {
    readonly tokens: number;
    /** null when no rate has been measured for this model and method yet. */
    readonly ms: number | null;
}

/**
 * The run's tokens, and its time at `tokensPerSecond` measured on this machine for the same model
 * and method (the width a method decodes at decides its rate: many sequences in step draw more
 * tokens a second than one).
 */
export function estimate(params: SamplingParams, tokensPerSecond: number | null): Estimate {
    const tokens = expectedTokens(params);
    return {tokens, ms: tokensPerSecond && tokensPerSecond > 0 ? (tokens / tokensPerSecond) * 1000 : null};
}
