/** One solve: prompt tokens in, decoded samples and honest statistics out (CLI and backend). */
import type {SampleOptions} from "../sampling/run.js";
import {sample} from "../sampling/run.js";
import type {Method, SamplingParams} from "../sampling/params.js";
import type {Token} from "../sampling/model.js";
import type {LlamaLanguageModel} from "./model.js";

export interface SolvedSample {
    readonly text: string;
    /** Each generated token's text, BOS and EOS excluded. */
    readonly tokens: string[];
    readonly finishReason: "eos" | "length";
    /** Base-model log p of the completion (EOS included), temperature 1. */
    readonly logProb: number;
    readonly tokenCount: number;
    /** Token positions where accepted MCMC moves changed the completion. */
    readonly changedPositions: number[];
}

export interface SolveStats {
    readonly proposedTokens: number;
    readonly mcmcSteps: number;
    readonly acceptedSteps: number;
    readonly acceptanceRate: number | null;
    /** Sampling time; model load excluded. */
    readonly wallMs: number;
    readonly promptTokens: number;
}

export interface SolveResult {
    readonly method: Method;
    readonly params: Omit<SamplingParams, "method">;
    readonly samples: SolvedSample[];
    readonly stats: SolveStats;
}

export async function solve(model: LlamaLanguageModel, promptTokens: readonly Token[], params: SamplingParams,
    options: SampleOptions = {}): Promise<SolveResult> {
    const start = performance.now();
    const result = await sample(model, promptTokens, params, options);
    const wallMs = performance.now() - start;
    const {method, ...rest} = params;
    return {
        method,
        params: rest,
        samples: result.samples.map((s) => ({
            text: model.detokenize(s.tokens, promptTokens),
            tokens: model.pieces(s.tokens, promptTokens),
            finishReason: s.finishReason,
            logProb: s.logProb,
            tokenCount: s.tokens.length,
            changedPositions: s.changedPositions
        })),
        stats: {...result.stats, wallMs, promptTokens: promptTokens.length}
    };
}
