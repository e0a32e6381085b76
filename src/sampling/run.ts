/**
 * The entry point of the samplers: opens a batch of as many sequences as fit the model's memory,
 * runs the method on the chains in waves of that size, and gathers samples, statistics and progress.
 */
import type {EssPoint} from "../protocol/results.js";
import type {SamplingParams} from "../protocol/params.js";
import {Chain, sumFrom} from "./chain.js";
import {runDirect} from "./direct.js";
import type {Counters, DrawRequest, MethodContext} from "./method.js";
import type {Continuation, LanguageModel, SequenceBatch, Token} from "./model.js";
import {blockCount, runPower} from "./power.js";
import {Random} from "./random.js";
import {newSmcRunState, runSmc, type SmcRunState} from "./smc.js";

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

/** A final SMC particle, as a sample with its place in the run. */
export interface Particle extends Sample {
    /** Normalised importance weight; a run's particles' weights add up to 1. */
    readonly weight: number;
    /** The particle at token 0 this one descends from. */
    readonly origin: number;
}

export interface SmcRunResult {
    /** All of the run's particles, in slot order (copies included). */
    readonly particles: Particle[];
    /** Index into `particles` of the one drawn: the run's sample. */
    readonly drawn: number;
    readonly ess: EssPoint[];
    readonly logNormaliser: number;
}

export interface SamplingStats {
    /** Every token drawn from the model: block growth, proposals, particles and direct samples. */
    readonly proposedTokens: number;
    readonly mcmcSteps: number;
    readonly acceptedSteps: number;
    /** acceptedSteps / mcmcSteps; null when no step ran. */
    readonly acceptanceRate: number | null;
    readonly resamplings: number;
}

export interface SamplingProgress {
    readonly method: SamplingParams["method"];
    /** The current completions of the wave's first chains or particles (at most MAX_PROGRESS_CHAINS). */
    readonly chains: readonly (readonly Token[])[];
    readonly proposedTokens: number;
    /** Estimated share of the run's work done, 0..1. */
    readonly fraction: number;
    /** power: the least advanced unfinished chain's block and step, and the acceptance rate so far. */
    readonly power?: {readonly block: number; readonly blocks: number; readonly mcmcStep: number; readonly mcmcSteps: number; readonly acceptanceRate: number | null};
    /** smc: tokens per live particle of the least advanced run, its latest effective sample size, resamplings so far. */
    readonly smc?: {readonly token: number; readonly maxTokens: number; readonly ess: number | null; readonly particles: number; readonly resamplings: number};
}

export interface SampleOptions {
    readonly signal?: AbortSignal;
    readonly onProgress?: (progress: SamplingProgress) => void;
    /** Least time between progress reports (0: after every model step). */
    readonly progressIntervalMs?: number;
}

export interface SamplingResult {
    /** params.samples samples: chains, or one draw per SMC run. */
    readonly samples: Sample[];
    /** smc: one entry per run. */
    readonly smc?: SmcRunResult[];
    readonly stats: SamplingStats;
}

/** Chains a progress report carries: enough for a panel to show, few enough to send often. */
const MAX_PROGRESS_CHAINS = 64;
/** Random streams of SMC runs (resampling, the final draw), apart from the particles' streams. */
const RUN_STREAM_BASE = 0x8000_0000;

/** Draws `params.samples` completions of `prompt` with `params.method`. */
export async function sample(model: LanguageModel, prompt: readonly Token[], params: SamplingParams,
    options: SampleOptions = {}): Promise<SamplingResult> {
    const groupSize = params.method === "smc" ? params.particles : 1;
    const perWave = Math.min(params.samples, Math.floor(model.batchCapacity(prompt.length, params.maxTokens, groupSize) / groupSize));
    const progress = new ProgressReporter(params, options);
    const samples: Sample[] = [];
    const smc: SmcRunResult[] = [];
    // One batch serves every wave: opening one can take longer than sampling a wave, and a
    // sequence continued from a fresh prefix keeps only the prompt of what it held before.
    const batch = await model.openBatch(prompt, perWave * groupSize, params.maxTokens, {groupSize, signal: options.signal});
    try {
        for (let first = 0; first < params.samples; first += perWave) {
            const units = Math.min(perWave, params.samples - first);
            const wave = new Wave(batch, model, params, progress, options.signal);
            if (params.method === "smc") smc.push(...await wave.runSmc(first, units));
            else samples.push(...await wave.runChains(first, units));
            progress.waveDone(units);
        }
    } finally {
        await batch.dispose();
    }
    if (params.method === "smc") samples.push(...smc.map((run) => run.particles[run.drawn]!));
    return {samples, smc: params.method === "smc" ? smc : undefined, stats: progress.stats()};
}

/** One batch's chains and the MethodContext the methods run against. */
class Wave implements MethodContext {
    readonly counters: Counters;
    readonly params: SamplingParams;

    constructor(private readonly batch: SequenceBatch, private readonly model: LanguageModel, params: SamplingParams,
        private readonly progress: ProgressReporter, private readonly signal: AbortSignal | undefined) {
        this.params = params;
        this.counters = progress.counters;
    }

    isEnd(token: Token): boolean {
        return this.model.isEnd(token);
    }

    async draw(requests: readonly DrawRequest[], temperature: number): Promise<Continuation[]> {
        return this.batch.continue(requests.map(({chain, from, maxTokens}) => ({sequence: chain.sequence, prefix: chain.tokens.slice(0, from), maxTokens, random: chain.random})), {
            temperature,
            signal: this.signal,
            onStep: (drawnTokens) => this.progress.step(drawnTokens)
        });
    }

    copySequence(from: Chain, to: Chain): Promise<void> {
        return this.batch.copy(from.sequence, to.sequence);
    }

    /** Chains `first`.. of the run (power or a direct method), one sequence each. */
    async runChains(first: number, count: number): Promise<Sample[]> {
        const chains = Array.from({length: count}, (_, i) => new Chain(i, new Random(this.params.seed, first + i)));
        this.progress.watch(chains, []);
        if (this.params.method === "power") await settleAll(chains.map((chain) => runPower(this, chain)));
        else await runDirect(this, chains);
        return chains.map((chain) => toSample(chain, this.model));
    }

    /** SMC runs `first`.., `params.particles` sequences each; runs decode in step beside each other. */
    async runSmc(first: number, count: number): Promise<SmcRunResult[]> {
        const n = this.params.particles;
        const runs = Array.from({length: count}, (_, r) => ({
            particles: Array.from({length: n}, (_, k) => {
                const particle = new Chain(r * n + k, new Random(this.params.seed, (first + r) * n + k));
                particle.origin = k;
                return particle;
            }),
            random: new Random(this.params.seed, RUN_STREAM_BASE + first + r),
            state: newSmcRunState()
        }));
        this.progress.watch(runs.flatMap((run) => run.particles), runs.map((run) => run.state));
        await settleAll(runs.map((run) => runSmc(this, run.particles, run.random, run.state)));
        return runs.map(({particles, state}) => toSmcResult(particles, state, this.model));
    }
}

/** Waits for every promise, so that none still runs when the batch is disposed; then throws the first failure. */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
    const outcomes = await Promise.allSettled(promises);
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
}

/** Counters and progress for the whole run, across waves. */
class ProgressReporter {
    readonly counters: Counters = {mcmcSteps: 0, acceptedSteps: 0, resamplings: 0};
    private proposedTokens = 0;
    private finishedUnits = 0;
    private chains: readonly Chain[] = [];
    private smcStates: readonly SmcRunState[] = [];
    private lastReport = -Infinity;

    constructor(private readonly params: SamplingParams, private readonly options: SampleOptions) {}

    watch(chains: readonly Chain[], smcStates: readonly SmcRunState[]): void {
        this.chains = chains;
        this.smcStates = smcStates;
    }

    step(drawnTokens: number): void {
        this.proposedTokens += drawnTokens;
        const now = performance.now();
        if (!this.options.onProgress || now - this.lastReport < (this.options.progressIntervalMs ?? 0)) return;
        this.lastReport = now;
        this.options.onProgress(this.snapshot());
    }

    waveDone(units: number): void {
        this.finishedUnits += units;
    }

    stats(): SamplingStats {
        const {mcmcSteps, acceptedSteps, resamplings} = this.counters;
        return {proposedTokens: this.proposedTokens, mcmcSteps, acceptedSteps, acceptanceRate: mcmcSteps > 0 ? acceptedSteps / mcmcSteps : null, resamplings};
    }

    private snapshot(): SamplingProgress {
        const {params} = this;
        const base = {method: params.method, chains: this.chains.slice(0, MAX_PROGRESS_CHAINS).map((chain) => chain.tokens), proposedTokens: this.proposedTokens};
        const acceptanceRate = this.counters.mcmcSteps > 0 ? this.counters.acceptedSteps / this.counters.mcmcSteps : null;
        if (params.method === "smc") {
            const unfinished = this.smcStates.filter((state) => state.drawn === null);
            const slowest = unfinished.reduce((a, b) => (b.token < a.token ? b : a), unfinished[0] ?? this.smcStates[0]!);
            const inWave = sumOf(this.smcStates, (state) => (state.drawn === null ? state.token / params.maxTokens : 1));
            return {
                ...base,
                fraction: this.fraction(inWave),
                smc: {token: slowest.token, maxTokens: params.maxTokens, ess: slowest.ess.at(-1)?.ess ?? null, particles: params.particles, resamplings: this.counters.resamplings}
            };
        }
        if (params.method === "power") {
            const blocks = blockCount(params);
            const unitsPerChain = blocks * (params.mcmcSteps + 1);
            const unfinished = this.chains.filter((chain) => !chain.done);
            const slowest = unfinished.reduce((a, b) => (b.block < a.block || (b.block === a.block && b.mcmcStep < a.mcmcStep) ? b : a),
                unfinished[0] ?? this.chains[0]!);
            const inWave = sumOf(this.chains, (chain) => (chain.done ? 1 : (Math.max(0, chain.block - 1) * (params.mcmcSteps + 1) + chain.mcmcStep) / unitsPerChain));
            return {...base, fraction: this.fraction(inWave), power: {block: slowest.block, blocks, mcmcStep: slowest.mcmcStep, mcmcSteps: params.mcmcSteps, acceptanceRate}};
        }
        return {...base, fraction: this.fraction(sumOf(this.chains, (chain) => (chain.done ? 1 : chain.tokens.length / params.maxTokens)))};
    }

    /** Finished units plus the current wave's progress, over all units. */
    private fraction(inWave: number): number {
        return Math.min(1, (this.finishedUnits + inWave) / this.params.samples);
    }
}

function sumOf<T>(items: readonly T[], value: (item: T) => number): number {
    return items.reduce((sum, item) => sum + value(item), 0);
}

function toSample(chain: Chain, model: LanguageModel): Sample {
    const ended = chain.ended((token) => model.isEnd(token));
    return {
        tokens: ended ? chain.tokens.slice(0, -1) : chain.tokens.slice(),
        finishReason: ended ? "eos" : "length",
        logProb: sumFrom(chain.logP),
        changedPositions: chain.changedPositions
    };
}

function toSmcResult(particles: readonly Chain[], state: SmcRunState, model: LanguageModel): SmcRunResult {
    const logWeights = particles.map((particle) => particle.logWeight);
    const max = Math.max(...logWeights);
    const total = logWeights.reduce((sum, logWeight) => sum + Math.exp(logWeight - max), 0);
    return {
        particles: particles.map((particle) => ({...toSample(particle, model), weight: Math.exp(particle.logWeight - max) / total, origin: particle.origin})),
        drawn: state.drawn!,
        ess: state.ess,
        logNormaliser: state.logNormaliser
    };
}
