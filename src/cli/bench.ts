/**
 * `power-sampling bench`: speed figures in one run, as ratios (the machines are shared and
 * noisy), in three parts:
 * - power: standard decode rate; power sampling against the ideal time for its proposed tokens;
 *   power sampling against the published implementation's model access (reference.ts);
 * - smc: Power-SMC's latency for one answer against standard decoding of that answer, split into
 *   the cost of the N-wide step and everything else (weights, resampling copies), and against MH
 *   on the same prompt;
 * - memory (full run only): the memory Power-SMC's particles take on the Qwen2.5-0.5B shape;
 * - threads (full run only): the decode rate with each thread count, on an idle machine and with
 *   a competing load (a busy loop per core, as a user's editor, language servers and builds are).
 *
 * Timed runs alternate (standard, measured, standard) and each ratio compares a run with its own
 * round's standard runs: drift and noisy moments hit both sides, and the median over rounds
 * ignores a bad round.
 */
import {spawn} from "node:child_process";
import os from "node:os";
import {LlamaLanguageModel} from "../llama/model.js";
import {ReferenceLanguageModel} from "../llama/reference.js";
import {openLlama, physicalCoreCount} from "../llama/runtime.js";
import {resolveParams, type SamplingParams} from "../protocol/params.js";
import type {LanguageModel, Token} from "../sampling/model.js";
import {sample} from "../sampling/run.js";
import {type ShapeName, writeShapeModel} from "../testmodels/shapes.js";
import {cachedFile} from "./cache.js";
import {withModel} from "./session.js";

export const BENCH_PARTS = ["power", "smc", "memory", "threads"] as const;
export type BenchPart = (typeof BENCH_PARTS)[number];

export interface BenchOptions {
    readonly cacheDir: string;
    /** A smaller run that checks the pipeline in well under a minute (no memory part). */
    readonly quick: boolean;
    readonly threads?: number;
    readonly json: boolean;
    /** The parts to run (default: all, memory only in a full run). */
    readonly parts?: readonly BenchPart[];
}

const SHAPE: ShapeName = "smollm2-135m";
const MEMORY_SHAPE: ShapeName = "qwen2.5-0.5b";
const PROMPT = "Solve: what is the sum of the first ten odd numbers?";
/** Chains in step: the published code runs them one at a time, we batch them. */
const CHAINS = 4;

interface Timed {
    readonly wallMs: number;
    readonly proposedTokens: number;
    /** Tokens drawn after the first step and the time they took: decoding without the prompt. */
    readonly decodeTokens: number;
    readonly decodeMs: number;
    readonly resamplings: number;
}

type Log = (line: string) => void;

/** Runs `params` on `target` and times it. */
type Time = (target: LanguageModel, params: SamplingParams) => Promise<Timed>;

export async function runBench(options: BenchOptions): Promise<void> {
    const parts = options.parts ?? (options.quick ? ["power", "smc"] : BENCH_PARTS);
    const log: Log = (line) => { if (!options.json) process.stdout.write(`${line}\n`); };
    const figures: Record<string, unknown> = {};
    const modelPath = await cachedFile(options.cacheDir, `${SHAPE}-q8_0-seed1.gguf`, (target) => writeShapeModel(SHAPE, target, {seed: 1}));
    if (parts.includes("power") || parts.includes("smc")) {
        await withModel(modelPath, {threads: options.threads}, async (model, loadMs, signal) => {
            const prompt = model.tokenize(PROMPT);
            const time = timer(prompt, signal);
            log(`power-sampling bench: ${SHAPE} shape (random weights, Q8_0), ${model.threads} threads, CPU, prompt ${prompt.length} tokens, model load ${(loadMs / 1000).toFixed(1)} s`);
            Object.assign(figures, {model: SHAPE, threads: model.threads, promptTokens: prompt.length});
            if (parts.includes("power")) Object.assign(figures, await benchPower(model, time, options.quick, log));
            if (parts.includes("smc")) figures.smc = await benchSmc(model, time, options.quick, log);
        });
    }
    if (parts.includes("memory")) figures.memory = await benchMemory(options, log);
    if (parts.includes("threads")) figures.threads = await benchThreads(modelPath, options, log);
    if (options.json) process.stdout.write(`${JSON.stringify(figures, null, 2)}\n`);
}

function timer(prompt: readonly Token[], signal: AbortSignal): Time {
    return async (target, params) => {
        const start = performance.now();
        let first: {at: number; tokens: number} | undefined;
        const {stats} = await sample(target, prompt, params, {
            signal,
            onProgress: (p) => { first ??= {at: performance.now(), tokens: p.proposedTokens}; }
        });
        const end = performance.now();
        return {wallMs: end - start, proposedTokens: stats.proposedTokens, decodeTokens: stats.proposedTokens - first!.tokens, decodeMs: end - first!.at,
            resamplings: stats.resamplings};
    };
}

/** Decode rate of timed runs, prompt excluded. */
function rateOf(runs: readonly Timed[]): number {
    return runs.reduce((sum, run) => sum + run.decodeTokens, 0) / (runs.reduce((sum, run) => sum + run.decodeMs, 0) / 1000);
}

function median<T>(items: readonly T[], key: (item: T) => number): T {
    return [...items].sort((a, b) => key(a) - key(b))[Math.floor((items.length - 1) / 2)]!;
}

function roundsText(values: readonly number[], digits: number): string {
    return values.length === 1 ? "" : ` (rounds: ${values.map((v) => v.toFixed(digits)).join(", ")})`;
}

/** MH power sampling against its ideal time and against the published implementation's model access. */
async function benchPower(model: LlamaLanguageModel, time: Time, quick: boolean, log: Log): Promise<Record<string, unknown>> {
    const size = quick
        ? {decodeTokens: 24, rounds: 1, power: {blockSize: 16, maxTokens: 32, mcmcSteps: 2}}
        : {decodeTokens: 64, rounds: 5, power: {blockSize: 32, maxTokens: 64, mcmcSteps: 4}};
    /** Standard runs on each side of a power run: about half of power's tokens (full: 2 x 4 x 64 of 1,070; quick: 2 x 4 x 24 of 314). */
    const decodeRunsEachSide = 2;
    const decode = async (chains: number, runs: number) => {
        const params = resolveParams({method: "standard", maxTokens: size.decodeTokens, samples: chains, seed: 1});
        const timed: Timed[] = [];
        for (let r = 0; r < runs; r++) timed.push(await time(model, params));
        return timed;
    };
    const singleRate = rateOf(await decode(1, 1));
    const powerParams = resolveParams({method: "power", alpha: 4, ...size.power, samples: CHAINS, seed: 1});
    const rounds: {decodeRate: number; power: Timed; idealMs: number; overhead: number}[] = [];
    for (let r = 0; r < size.rounds; r++) {
        const before = await decode(CHAINS, decodeRunsEachSide);
        const power = await time(model, powerParams);
        const rate = rateOf([...before, ...await decode(CHAINS, decodeRunsEachSide)]);
        const idealMs = power.proposedTokens / rate * 1000;
        rounds.push({decodeRate: rate, power, idealMs, overhead: power.wallMs / idealMs});
    }
    const typical = median(rounds, (round) => round.overhead);
    const {power} = typical;
    const describe = `${CHAINS} chains, alpha 4, block ${powerParams.blockSize}, ${powerParams.mcmcSteps} steps, ${powerParams.maxTokens} tokens, seed 1`;
    log(`  standard decoding        ${singleRate.toFixed(1)} tokens/s one chain, ${typical.decodeRate.toFixed(1)} tokens/s ${CHAINS} chains in step${roundsText(rounds.map((round) => round.decodeRate), 1)}, prompt excluded`);
    log(`  power (${describe}), median of ${rounds.length} round${rounds.length === 1 ? "" : "s"}`);
    log(`    ${power.proposedTokens} tokens proposed in ${(power.wallMs / 1000).toFixed(1)} s; ideal at that round's ${CHAINS}-chain decode rate ${(typical.idealMs / 1000).toFixed(1)} s`);
    log(`    overhead vs ideal       ${typical.overhead.toFixed(2)}x${roundsText(rounds.map((round) => round.overhead), 2)}   (target <= 1.25x)`);

    const reference = await time(new ReferenceLanguageModel(model), powerParams);
    const speedup = reference.wallMs / power.wallMs;
    const perToken = (reference.wallMs / reference.proposedTokens) / (power.wallMs / power.proposedTokens);
    log(`  reference, the published implementation's model access (re-feed prefix, full-vocabulary log-softmax per token, one chain at a time)`);
    log(`    ${reference.proposedTokens} tokens proposed in ${(reference.wallMs / 1000).toFixed(1)} s`);
    log(`    power is faster by      ${speedup.toFixed(2)}x wall, ${perToken.toFixed(2)}x per proposed token   (target >= 3x)`);
    return {
        chains: CHAINS,
        standard: {tokensPerSecondOneChain: singleRate, tokensPerSecondInStep: typical.decodeRate},
        power: {...power, params: powerParams, idealMs: typical.idealMs, overheadVsIdeal: typical.overhead},
        rounds: rounds.map((round) => ({tokensPerSecondInStep: round.decodeRate, wallMs: round.power.wallMs, idealMs: round.idealMs, overheadVsIdeal: round.overhead})),
        reference: {...reference, speedupWall: speedup, speedupPerToken: perToken}
    };
}

/**
 * Power-SMC's latency for one answer against standard decoding of one answer of the same length:
 * the ratio is the N-wide step's cost over the 1-wide step's (standard decoding of N chains in
 * step against one) times what SMC adds to an N-wide decode (weights, ESS, resampling copies).
 * Then SMC against MH (the default block size and steps) on the same prompt and length.
 */
async function benchSmc(model: LlamaLanguageModel, time: Time, quick: boolean, log: Log): Promise<Record<string, unknown>> {
    const tokens = quick ? 32 : 128;
    const rounds = quick ? 1 : 3;
    const standardOf = (samples: number) => resolveParams({method: "standard", maxTokens: tokens, samples, seed: 1});
    const byParticles: Record<string, unknown> = {};
    log(`  Power-SMC against standard decoding of one answer (${tokens} tokens per particle, resampling every 16 tokens), median of ${rounds} round${rounds === 1 ? "" : "s"}`);
    for (const particles of [8, 16]) {
        const smcParams = resolveParams({method: "smc", alpha: 4, maxTokens: tokens, particles, seed: 1});
        const measured: {latency: number; wideStep: number; smcOverWide: number; smc: Timed; single: number; wide: number}[] = [];
        for (let r = 0; r < rounds; r++) {
            const single = [await time(model, standardOf(1))];
            const wide = await time(model, standardOf(particles));
            const smc = await time(model, smcParams);
            single.push(await time(model, standardOf(1)));
            const singleMs = single.reduce((sum, run) => sum + run.wallMs, 0) / single.length;
            measured.push({latency: smc.wallMs / singleMs, wideStep: wide.wallMs / singleMs, smcOverWide: smc.wallMs / wide.wallMs, smc, single: singleMs, wide: wide.wallMs});
        }
        const typical = median(measured, (m) => m.latency);
        log(`    ${String(particles).padStart(2)} particles: ${(typical.smc.wallMs / 1000).toFixed(2)} s against ${(typical.single / 1000).toFixed(2)} s: `
            + `${typical.latency.toFixed(2)}x standard latency${roundsText(measured.map((m) => m.latency), 2)}${particles === 8 ? "   (goal <= 1.5x)" : ""}`);
        log(`        = ${typical.wideStep.toFixed(2)}x (${particles}-wide standard decoding over 1-wide) x ${typical.smcOverWide.toFixed(2)}x (SMC over ${particles}-wide decoding: `
            + `weights, ESS, ${typical.smc.resamplings} resampling${typical.smc.resamplings === 1 ? "" : "s"})`);
        byParticles[particles] = {latencyVsStandard: typical.latency, wideStepVsSingle: typical.wideStep, smcVsWideDecode: typical.smcOverWide,
            smcWallMs: typical.smc.wallMs, standardWallMs: typical.single, wideWallMs: typical.wide, resamplings: typical.smc.resamplings,
            rounds: measured.map((m) => m.latency)};
    }
    const mhParams = resolveParams({method: "power", alpha: 4, maxTokens: tokens, samples: 1, seed: 1, ...(quick ? {blockSize: 16} : {})});
    const smcParams = resolveParams({method: "smc", alpha: 4, maxTokens: tokens, seed: 1});
    const mh = await time(model, mhParams);
    const smc = await time(model, smcParams);
    log(`  Power-SMC (${smcParams.particles} particles) against MH (block ${mhParams.blockSize}, ${mhParams.mcmcSteps} steps) on the same prompt, ${tokens} tokens`);
    log(`    MH ${(mh.wallMs / 1000).toFixed(1)} s, ${mh.proposedTokens} tokens drawn; SMC ${(smc.wallMs / 1000).toFixed(1)} s, ${smc.proposedTokens} tokens drawn: `
        + `SMC is ${(mh.wallMs / smc.wallMs).toFixed(2)}x faster`);
    return {tokensPerParticle: tokens, particles: byParticles, vsMh: {mhWallMs: mh.wallMs, mhTokens: mh.proposedTokens, smcWallMs: smc.wallMs, smcTokens: smc.proposedTokens,
        speedup: mh.wallMs / smc.wallMs, mhParams, smcParams}};
}

/**
 * Particles' memory on a larger model: the cache per particle from the model's shape, and the
 * process's resident memory at its peak while N particles sample, above what it held before.
 */
async function benchMemory(options: BenchOptions, log: Log): Promise<Record<string, unknown>> {
    const modelPath = await cachedFile(options.cacheDir, `${MEMORY_SHAPE}-q8_0-seed1.gguf`, (target) => writeShapeModel(MEMORY_SHAPE, target, {seed: 1}));
    const tokens = 64;
    const llama = await openLlama();
    const model = await LlamaLanguageModel.load(llama, modelPath, {threads: options.threads});
    try {
        const prompt = model.tokenize(PROMPT);
        const perToken = model.shape.kvBytesPerToken;
        const perParticle = perToken * (prompt.length + tokens);
        log(`  memory: ${MEMORY_SHAPE} shape, ${tokens} tokens per particle after a ${prompt.length}-token prompt; the cache holds ${(perToken / 1024).toFixed(1)} KB a token, `
            + `${(perParticle / 2 ** 20).toFixed(2)} MB a particle`);
        const results: Record<string, unknown> = {kvBytesPerToken: perToken, kvBytesPerParticle: perParticle};
        for (const particles of [16, 64]) {
            const before = process.memoryUsage().rss;
            let peak = before;
            const watch = setInterval(() => { peak = Math.max(peak, process.memoryUsage().rss); }, 20);
            try {
                await sample(model, prompt, resolveParams({method: "smc", alpha: 4, maxTokens: tokens, particles, seed: 1}), {
                    onProgress: () => { peak = Math.max(peak, process.memoryUsage().rss); }
                });
            } finally {
                clearInterval(watch);
            }
            const rise = peak - before;
            log(`    ${String(particles).padStart(2)} particles: peak RSS ${(peak / 2 ** 20).toFixed(0)} MB, ${(rise / 2 ** 20).toFixed(0)} MB above the loaded model `
                + `(${(rise / particles / 2 ** 20).toFixed(1)} MB a particle); ${(os.freemem() / 2 ** 30).toFixed(1)} GB free`);
            results[particles] = {peakRssBytes: peak, riseBytes: rise, risePerParticleBytes: rise / particles};
        }
        return results;
    } finally {
        await model.dispose();
        await llama.dispose();
    }
}

/**
 * The decode rate (4 chains in step) with each thread count from 1 to the physical cores, on an
 * idle machine and under a competing load: llama.cpp's threads wait for each other by spinning,
 * so when another process holds a core a thread that waits for it burns its own.
 */
async function benchThreads(modelPath: string, options: BenchOptions, log: Log): Promise<Record<string, unknown>> {
    const cores = physicalCoreCount();
    const counts = Array.from({length: cores}, (_, i) => i + 1);
    const tokens = options.quick ? 16 : 48;
    const llama = await openLlama();
    const results: Record<string, {idle: number; loaded: number}> = {};
    log(`  threads: ${CHAINS} chains in step, ${tokens} tokens, ${cores} physical cores; a competing load is ${cores} busy loops`);
    try {
        for (const threads of counts) {
            const model = await LlamaLanguageModel.load(llama, modelPath, {threads});
            try {
                const prompt = model.tokenize(PROMPT);
                const time = timer(prompt, new AbortController().signal);
                const params = resolveParams({method: "standard", maxTokens: tokens, samples: CHAINS, seed: 1});
                const idle = rateOf([await time(model, params)]);
                const stop = busyLoops(cores);
                let loaded: number;
                try {
                    loaded = rateOf([await time(model, params)]);
                } finally {
                    stop();
                }
                results[threads] = {idle, loaded};
                log(`    ${threads} thread${threads === 1 ? " " : "s"}: ${idle.toFixed(1)} tokens/s idle, ${loaded.toFixed(1)} tokens/s under load (${(loaded / idle).toFixed(2)}x)`);
            } finally {
                await model.dispose();
            }
        }
    } finally {
        await llama.dispose();
    }
    return {chains: CHAINS, tokens, cores, tokensPerSecond: results};
}

/** `count` processes spinning until stopped (bounded: each ends by itself after 10 minutes). */
function busyLoops(count: number): () => void {
    const children = Array.from({length: count}, () => spawn(process.execPath,
        ["-e", "const end = Date.now() + 600000; while (Date.now() < end) {}"], {stdio: "ignore"}));
    return () => { for (const child of children) child.kill("SIGKILL"); };
}
