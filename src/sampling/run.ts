/** The entry point of the samplers and the state one run shares between its moves. */
import {appendContinuation, type Chain, emptyChain, hasEnded, sumFrom} from "./chain.js";
import type {Continuation, LanguageModel, SequenceBatch, Token} from "./model.js";
import {drawTemperature, type SamplingParams} from "./params.js";
import {runPower} from "./power.js";
import {Random} from "./random.js";

export interface Sample {
    /** Generated tokens, the end token (EOS or another end-of-generation token) excluded. */
    readonly tokens: Token[];
    /** "eos": ended with an end token; "length": cut at max tokens. */
    readonly finishReason: "eos" | "length";
    /** log p of the whole completion (end token included) under the base model at temperature 1. */
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
    /** Block of the least advanced unfinished chain (chains advance independently). */
    readonly block: number;
    readonly blocks: number;
    /** That chain's MCMC step within its block (0 while the block grows). */
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
        const run = new SamplingRun(batch, (token) => model.isEnd(token), params, options);
        const runChain = params.method === "power" ? runPower : runDirect;
        // Every chain settles before the batch is disposed, even when one fails.
        const outcomes = await Promise.allSettled(run.chains.map((_, index) => runChain(run, index)));
        const failure = outcomes.find((outcome) => outcome.status === "rejected");
        if (failure) throw failure.reason;
        return {samples: run.chains.map((chain) => toSample(chain, run.isEnd)), stats: run.stats()};
    } finally {
        await batch.dispose();
    }
}

/** Standard, low-temperature and greedy decoding: the chain drawn once from scratch. */
async function runDirect(run: SamplingRun, index: number): Promise<void> {
    run.moveTo(index, 1, 0);
    await run.extend(index, run.params.maxTokens);
    run.finish(index);
}

/**
 * The state of one run: its chains, their random streams and counters, in one place. Chains
 * advance independently; the batch decodes whatever they request at each step together.
 */
export class SamplingRun {
    readonly chains: Chain[];
    /** Each chain's token array; chains grow and shrink these arrays in place. */
    private readonly chainTokens: readonly (readonly Token[])[];
    readonly blocks: number;
    private readonly randoms: Random[];
    private readonly positions: {block: number; mcmcStep: number; finished: boolean}[];
    private readonly counters = {mcmcSteps: 0, acceptedSteps: 0, proposedTokens: 0};
    private readonly temperature: number;

    constructor(private readonly batch: SequenceBatch, readonly isEnd: (token: Token) => boolean, readonly params: SamplingParams,
        private readonly options: SampleOptions) {
        this.chains = Array.from({length: params.samples}, emptyChain);
        this.chainTokens = this.chains.map((chain) => chain.tokens);
        // One stream per chain: a chain's draws do not depend on how many chains run beside it.
        this.randoms = this.chains.map((_, index) => new Random(params.seed, index));
        this.positions = this.chains.map(() => ({block: 0, mcmcStep: 0, finished: false}));
        this.blocks = params.method === "power" ? Math.ceil(params.maxTokens / params.blockSize) : 1;
        this.temperature = drawTemperature(params);
    }

    get signal(): AbortSignal | undefined {
        return this.options.signal;
    }

    random(index: number): Random {
        return this.randoms[index]!;
    }

    /** Draws one continuation of chain `index` from `prefix`, at the method's temperature. */
    async draw(index: number, prefix: readonly Token[], maxTokens: number): Promise<Continuation> {
        const [continuation] = await this.batch.continue([{sequence: index, prefix, maxTokens}], {
            temperature: this.temperature,
            random: this.randoms[index]!,
            signal: this.options.signal,
            onStep: (drawnTokens) => {
                this.counters.proposedTokens += drawnTokens;
                this.reportProgress();
            }
        });
        return continuation!;
    }

    /** Grows chain `index` until an end token or `limit` tokens. */
    async extend(index: number, limit: number): Promise<void> {
        const chain = this.chains[index]!;
        appendContinuation(chain, await this.draw(index, chain.tokens, limit - chain.tokens.length));
        this.reportProgress();
    }

    moveTo(index: number, block: number, mcmcStep: number): void {
        Object.assign(this.positions[index]!, {block, mcmcStep});
    }

    countStep(accepted: boolean): void {
        this.counters.mcmcSteps++;
        if (accepted) this.counters.acceptedSteps++;
    }

    finish(index: number): void {
        this.positions[index]!.finished = true;
    }

    reportProgress(): void {
        if (!this.options.onProgress) return;
        const unfinished = this.positions.filter((position) => !position.finished);
        const slowest = unfinished.reduce((a, b) => (b.block < a.block || (b.block === a.block && b.mcmcStep < a.mcmcStep) ? b : a),
            unfinished[0] ?? this.positions[0]!);
        this.options.onProgress({
            block: slowest.block,
            blocks: this.blocks,
            mcmcStep: slowest.mcmcStep,
            ...this.counters,
            chains: this.chainTokens
        });
    }

    stats(): SamplingStats {
        const {proposedTokens, mcmcSteps, acceptedSteps} = this.counters;
        return {proposedTokens, mcmcSteps, acceptedSteps, acceptanceRate: mcmcSteps > 0 ? acceptedSteps / mcmcSteps : null};
    }
}

function toSample(chain: Chain, isEnd: (token: Token) => boolean): Sample {
    const finished = hasEnded(chain, isEnd);
    return {
        tokens: finished ? chain.tokens.slice(0, -1) : chain.tokens.slice(),
        finishReason: finished ? "eos" : "length",
        logProb: sumFrom(chain.logP),
        changedPositions: chain.changedPositions
    };
}
