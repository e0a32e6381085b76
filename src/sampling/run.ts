/**
 * The entry point of the samplers: opens a batch of as many sequences as fit the model's memory,
 * runs the method on the chains in waves of that size, and gathers samples, statistics and progress.
 * Several prompts (an evaluation's problems) can share the waves, each group with its own prompt.
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
    const [result] = await sampleEach(model, [{prompt, seed: params.seed}], params, options);
    return result!;
}

/** One prompt of a sampleEach call and the seed of its samples. */
export interface SamplingJob {
    readonly prompt: readonly Token[];
    /** Sample i draws from Random(seed, i) (SMC: its particles' and run's streams): the same whatever shares its batch. */
    readonly seed: number;
}

/**
 * Draws `params.samples` completions of each job's prompt with `params.method`, the samples of all
 * jobs in the same waves (one model step serves them all); one result per job, with its own
 * statistics. A job's samples are those `sample` would draw with the job's prompt and seed.
 */
export async function sampleEach(model: LanguageModel, jobs: readonly SamplingJob[], params: Omit<SamplingParams, "seed">,
    options: SampleOptions = {}): Promise<SamplingResult[]> {
    const groupSize = params.method === "smc" ? params.particles : 1;
    const units = jobs.flatMap((_, job) => Array.from({length: params.samples}, (_, index): Unit => ({job, index})));
    const longest = Math.max(...jobs.map((job) => job.prompt.length));
    const perWave = Math.min(units.length, Math.floor(model.batchCapacity(longest, params.maxTokens, groupSize) / groupSize));
    const tallies = jobs.map((): JobTally => ({counters: {mcmcSteps: 0, acceptedSteps: 0, resamplings: 0}, proposedTokens: 0}));
    const progress = new ProgressReporter(params, units.length, tallies, options);
    const samples = jobs.map((): Sample[] => []);
    const smc = jobs.map((): SmcRunResult[] => []);
    let batch: SequenceBatch | undefined;
    let batchPrompts: readonly (readonly Token[])[] = [];
    try {
        for (let first = 0; first < units.length; first += perWave) {
            const wave = units.slice(first, first + perWave);
            const prompts = wave.map((unit) => jobs[unit.job]!.prompt);
            // One batch serves every wave whose groups keep their prompts (always, for one job):
            // opening one can take longer than sampling a wave, and a sequence continued from a
            // fresh prefix keeps only the prompt of what it held before.
            if (batch === undefined || prompts.some((prompt, group) => prompt !== batchPrompts[group])) {
                await batch?.dispose();
                batch = undefined;
                batch = await model.openBatch(prompts[0]!, prompts.length * groupSize, params.maxTokens, {
                    groupSize, signal: options.signal, groupPrompts: jobs.length > 1 ? prompts : undefined
                });
                batchPrompts = prompts;
            }
            const running = new Wave(batch, model, params, jobs, tallies, progress, options.signal);
            if (params.method === "smc") (await running.runSmc(wave)).forEach((run, k) => smc[wave[k]!.job]!.push(run));
            else (await running.runChains(wave)).forEach((drawn, k) => samples[wave[k]!.job]!.push(drawn));
            progress.waveDone(wave.length);
        }
    } finally {
        await batch?.dispose();
    }
    return jobs.map((_, job) => ({
        samples: params.method === "smc" ? smc[job]!.map((run) => run.particles[run.drawn]!) : samples[job]!,
        smc: params.method === "smc" ? smc[job] : undefined,
        stats: statsOf(tallies[job]!)
    }));
}

/** Sample `index` of job `job`. */
interface Unit {
    readonly job: number;
    readonly index: number;
}

/** What a job has drawn and done so far, over all waves. */
interface JobTally {
    readonly counters: Counters;
    proposedTokens: number;
}

/** One batch's chains; each job's chains run against that job's MethodContext. */
class Wave {
    constructor(private readonly batch: SequenceBatch, private readonly model: LanguageModel, private readonly params: Omit<SamplingParams, "seed">,
        private readonly jobs: readonly SamplingJob[], private readonly tallies: readonly JobTally[],
        private readonly progress: ProgressReporter, private readonly signal: AbortSignal | undefined) {}

    /** Chains of the units (power or a direct method), one sequence each, in unit order. */
    async runChains(units: readonly Unit[]): Promise<Sample[]> {
        const chains = units.map((unit, i) => new Chain(i, new Random(this.jobs[unit.job]!.seed, unit.index)));
        this.progress.watch(chains, []);
        const contexts = this.jobContexts();
        if (this.params.method === "power") {
            await settleAll(chains.map((chain, i) => runPower(contexts[units[i]!.job]!, chain)));
        } else {
            const byJob = new Map<number, Chain[]>();
            chains.forEach((chain, i) => byJob.set(units[i]!.job, [...byJob.get(units[i]!.job) ?? [], chain]));
            await settleAll([...byJob].map(([job, own]) => runDirect(contexts[job]!, own)));
        }
        return chains.map((chain) => toSample(chain, this.model));
    }

    /** SMC runs of the units, `params.particles` sequences each; runs decode in step beside each other. */
    async runSmc(units: readonly Unit[]): Promise<SmcRunResult[]> {
        const n = this.params.particles;
        const contexts = this.jobContexts();
        const runs = units.map((unit, r) => {
            const {seed} = this.jobs[unit.job]!;
            return {
                context: contexts[unit.job]!,
                particles: Array.from({length: n}, (_, k) => {
                    const particle = new Chain(r * n + k, new Random(seed, unit.index * n + k));
                    particle.origin = k;
                    return particle;
                }),
                random: new Random(seed, RUN_STREAM_BASE + unit.index),
                state: newSmcRunState()
            };
        });
        this.progress.watch(runs.flatMap((run) => run.particles), runs.map((run) => run.state));
        await settleAll(runs.map((run) => runSmc(run.context, run.particles, run.random, run.state)));
        return runs.map(({particles, state}) => toSmcResult(particles, state, this.model));
    }

    private jobContexts(): JobContext[] {
        return this.tallies.map((tally, job) => new JobContext(this, {...this.params, seed: this.jobs[job]!.seed}, tally));
    }

    isEnd(token: Token): boolean {
        return this.model.isEnd(token);
    }

    draw(requests: readonly DrawRequest[], temperature: number): Promise<Continuation[]> {
        return this.batch.continue(requests.map(({chain, from, maxTokens}) => ({sequence: chain.sequence, prefix: chain.tokens.slice(0, from), maxTokens, random: chain.random})), {
            temperature,
            signal: this.signal,
            onStep: (drawnTokens) => this.progress.step(drawnTokens)
        });
    }

    copySequence(from: Chain, to: Chain): Promise<void> {
        return this.batch.copy(from.sequence, to.sequence);
    }
}

/** A job's view of a wave: the wave's batch, with the job's own counters and tally of drawn tokens. */
class JobContext implements MethodContext {
    readonly counters: Counters;

    constructor(private readonly wave: Wave, readonly params: SamplingParams, private readonly tally: JobTally) {
        this.counters = tally.counters;
    }

    isEnd(token: Token): boolean {
        return this.wave.isEnd(token);
    }

    async draw(requests: readonly DrawRequest[], temperature: number): Promise<Continuation[]> {
        const continuations = await this.wave.draw(requests, temperature);
        for (const continuation of continuations) this.tally.proposedTokens += continuation.tokens.length;
        return continuations;
    }

    copySequence(from: Chain, to: Chain): Promise<void> {
        return this.wave.copySequence(from, to);
    }
}

/** Waits for every promise, so that none still runs when the batch is disposed; then throws the first failure. */
async function settleAll(promises: readonly Promise<void>[]): Promise<void> {
    const outcomes = await Promise.allSettled(promises);
    const failure = outcomes.find((outcome) => outcome.status === "rejected");
    if (failure) throw failure.reason;
}

/** Progress for the whole run, across waves and jobs. */
class ProgressReporter {
    private proposedTokens = 0;
    private finishedUnits = 0;
    private chains: readonly Chain[] = [];
    private smcStates: readonly SmcRunState[] = [];
    private lastReport = -Infinity;

    /** `units`: samples over all jobs. */
    constructor(private readonly params: Omit<SamplingParams, "seed">, private readonly units: number, private readonly tallies: readonly JobTally[],
        private readonly options: SampleOptions) {}

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

    private snapshot(): SamplingProgress {
        const {params} = this;
        const base = {method: params.method, chains: this.chains.slice(0, MAX_PROGRESS_CHAINS).map((chain) => chain.tokens), proposedTokens: this.proposedTokens};
        const mcmcSteps = sumOf(this.tallies, (tally) => tally.counters.mcmcSteps);
        const acceptanceRate = mcmcSteps > 0 ? sumOf(this.tallies, (tally) => tally.counters.acceptedSteps) / mcmcSteps : null;
        const resamplings = sumOf(this.tallies, (tally) => tally.counters.resamplings);
        if (params.method === "smc") {
            const unfinished = this.smcStates.filter((state) => state.drawn === null);
            const slowest = unfinished.reduce((a, b) => (b.token < a.token ? b : a), unfinished[0] ?? this.smcStates[0]!);
            const inWave = sumOf(this.smcStates, (state) => (state.drawn === null ? state.token / params.maxTokens : 1));
            return {
                ...base,
                fraction: this.fraction(inWave),
                smc: {token: slowest.token, maxTokens: params.maxTokens, ess: slowest.ess.at(-1)?.ess ?? null, particles: params.particles, resamplings}
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
        return Math.min(1, (this.finishedUnits + inWave) / this.units);
    }
}

function statsOf({counters: {mcmcSteps, acceptedSteps, resamplings}, proposedTokens}: JobTally): SamplingStats {
    return {proposedTokens, mcmcSteps, acceptedSteps, acceptanceRate: mcmcSteps > 0 ? acceptedSteps / mcmcSteps : null, resamplings};
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
