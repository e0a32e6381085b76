/** The entry point of the samplers and the state one run shares between its moves. */
import {appendContinuation, type Chain, emptyChain, endsWith, sumFrom} from "./chain.js";
import type {Continuation, ContinueRequest, LanguageModel, SequenceBatch, Token} from "./model.js";
import {drawTemperature, type SamplingParams} from "./params.js";
import {runPower} from "./power.js";
import {Random} from "./random.js";

export interface Sample {
    /** Generated tokens, EOS excluded. */
    readonly tokens: Token[];
    readonly finishReason: "eos" | "length";
    /** log p of the whole completion (EOS included) under the base model at temperature 1. */
    readonly logProb: number;
    /** Token positions where accepted MCMC moves changed the completion, oldest first. */
    readonly changedPositions: number[];
}

export interface SamplingStats {
    /** Every token drawn from the model: block growth, proposals and direct samples. */
    readonly proposedTokens: number;
    readonly mcmcSteps: number;
    readonly acceptedSteps: number;
    /** acceptedSteps / mcmcSteps; null when no step ran. */
    readonly acceptanceRate: number | null;
}

export interface SamplingProgress {
    readonly block: number;
    readonly blocks: number;
    /** The MCMC step within the current block (0 while the block grows). */
    readonly mcmcStep: number;
    readonly mcmcSteps: number;
    readonly acceptedSteps: number;
    readonly proposedTokens: number;
    /** Each chain's current completion. */
    readonly chains: readonly (readonly Token[])[];
}

export interface SampleOptions {
    readonly signal?: AbortSignal;
    /** Called after every model step; cheap consumers only, or throttle. */
    readonly onProgress?: (progress: SamplingProgress) => void;
}

export interface SamplingResult {
    readonly samples: Sample[];
    readonly stats: SamplingStats;
}

/** Draws `params.samples` completions of `prompt` with `params.method`. */
export async function sample(model: LanguageModel, prompt: readonly Token[], params: SamplingParams,
    options: SampleOptions = {}): Promise<SamplingResult> {
    const batch = await model.openBatch(prompt, params.samples, params.maxTokens);
    try {
        const run = new SamplingRun(batch, model.eosToken, params, options);
        if (params.method === "power") await runPower(run);
        else await runDirect(run);
        return {samples: run.chains.map((chain) => toSample(chain, model.eosToken)), stats: run.stats()};
    } finally {
        await batch.dispose();
    }
}

/** Standard, low-temperature and greedy decoding: every chain drawn once from scratch. */
async function runDirect(run: SamplingRun): Promise<void> {
    run.progress.block = 1;
    run.progress.blocks = 1;
    await run.extend(run.chains.map((_, index) => index), run.params.maxTokens);
}

/** The state of one run: its chains, counters and random stream, in one place. */
export class SamplingRun {
    readonly chains: Chain[];
    readonly random: Random;
    readonly progress = {block: 0, blocks: 0, mcmcStep: 0, mcmcSteps: 0, acceptedSteps: 0, proposedTokens: 0};
    private readonly temperature: number;

    constructor(private readonly batch: SequenceBatch, readonly eosToken: Token, readonly params: SamplingParams,
        private readonly options: SampleOptions) {
        this.chains = Array.from({length: params.samples}, emptyChain);
        this.random = new Random(params.seed);
        this.temperature = drawTemperature(params);
    }

    get signal(): AbortSignal | undefined {
        return this.options.signal;
    }

    /** Draws continuations from the method's temperature, all requests in step. */
    draw(requests: readonly ContinueRequest[]): Promise<Continuation[]> {
        return this.batch.continue(requests, {
            temperature: this.temperature,
            random: this.random,
            signal: this.options.signal,
            onStep: (drawnTokens) => {
                this.progress.proposedTokens += drawnTokens;
                this.reportProgress();
            }
        });
    }

    /** Grows the named chains until EOS or `limit` tokens. */
    async extend(indices: readonly number[], limit: number): Promise<void> {
        const continuations = await this.draw(indices.map((index) => ({
            sequence: index,
            prefix: this.chains[index]!.tokens,
            maxTokens: limit - this.chains[index]!.tokens.length
        })));
        indices.forEach((index, k) => appendContinuation(this.chains[index]!, continuations[k]!));
        this.reportProgress();
    }

    reportProgress(): void {
        this.options.onProgress?.({...this.progress, chains: this.chains.map((chain) => chain.tokens)});
    }

    stats(): SamplingStats {
        const {proposedTokens, mcmcSteps, acceptedSteps} = this.progress;
        return {proposedTokens, mcmcSteps, acceptedSteps, acceptanceRate: mcmcSteps > 0 ? acceptedSteps / mcmcSteps : null};
    }
}

function toSample(chain: Chain, eosToken: Token): Sample {
    const finished = endsWith(chain, eosToken);
    return {
        tokens: finished ? chain.tokens.slice(0, -1) : chain.tokens.slice(),
        finishReason: finished ? "eos" : "length",
        logProb: sumFrom(chain.logP),
        changedPositions: chain.changedPositions
    };
}
