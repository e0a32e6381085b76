/**
 * `power-sampling bench`: speed figures in one run, as ratios (the machines are shared and
 * noisy): standard decode rate; power sampling against the ideal time for its proposed tokens;
 * power sampling against the published implementation's model access (reference.ts).
 *
 * Each round runs standard decoding, power sampling, then standard decoding again, about as many
 * tokens in all as power proposes, and compares power with that round's decode rate: drift and
 * noisy moments hit both sides of a ratio, and the median over rounds ignores a bad round.
 */
import {ReferenceLanguageModel} from "../llama/reference.js";
import type {LanguageModel} from "../sampling/model.js";
import {resolveParams, type SamplingParams} from "../protocol/params.js";
import {sample} from "../sampling/run.js";
import {writeShapeModel} from "../testmodels/shapes.js";
import {cachedFile} from "./cache.js";
import {withModel} from "./session.js";

export interface BenchOptions {
    readonly cacheDir: string;
    /** A smaller run that checks the pipeline in well under a minute. */
    readonly quick: boolean;
    readonly threads?: number;
    readonly json: boolean;
}

const SHAPE = "smollm2-135m";
const PROMPT = "Solve: what is the sum of the first ten odd numbers?";
/** Chains in step: the published code runs them one at a time, we batch them. */
const CHAINS = 4;

interface Timed {
    readonly wallMs: number;
    readonly proposedTokens: number;
    /** Tokens drawn after the first step and the time they took: decoding without the prompt. */
    readonly decodeTokens: number;
    readonly decodeMs: number;
}

/** One power run and the standard decode rate measured right after it. */
interface Round {
    readonly decodeRate: number;
    readonly power: Timed;
    readonly idealMs: number;
    readonly overhead: number;
}

export async function runBench(options: BenchOptions): Promise<void> {
    const modelPath = await cachedFile(options.cacheDir, `${SHAPE}-q8_0-seed1.gguf`, (target) => writeShapeModel(SHAPE, target, {seed: 1}));
    const size = options.quick
        ? {decodeTokens: 24, rounds: 1, power: {blockSize: 16, maxTokens: 32, mcmcSteps: 2}}
        : {decodeTokens: 64, rounds: 5, power: {blockSize: 32, maxTokens: 64, mcmcSteps: 4}};
    /** Standard runs on each side of a power run: about half of power's tokens (full: 2 x 4 x 64 of 1,070; quick: 2 x 4 x 24 of 314). */
    const decodeRunsEachSide = 2;
    const log = (line: string) => { if (!options.json) process.stdout.write(`${line}\n`); };
    await withModel(modelPath, {threads: options.threads}, async (model, loadMs, signal) => {
        const prompt = model.tokenize(PROMPT);
        const time = async (target: LanguageModel, params: SamplingParams): Promise<Timed> => {
            const start = performance.now();
            let first: {at: number; tokens: number} | undefined;
            const {stats} = await sample(target, prompt, params, {
                signal,
                onProgress: (p) => { first ??= {at: performance.now(), tokens: p.proposedTokens}; }
            });
            const end = performance.now();
            return {wallMs: end - start, proposedTokens: stats.proposedTokens, decodeTokens: stats.proposedTokens - first!.tokens, decodeMs: end - first!.at};
        };
        /** Standard decoding runs: the tokens decoded after their first steps, and the time that took. */
        const decode = async (chains: number, runs: number) => {
            const params = resolveParams({method: "standard", maxTokens: size.decodeTokens, samples: chains, seed: 1});
            const timed: Timed[] = [];
            for (let r = 0; r < runs; r++) timed.push(await time(model, params));
            return timed;
        };
        const rateOf = (runs: Timed[]) => runs.reduce((sum, run) => sum + run.decodeTokens, 0) / (runs.reduce((sum, run) => sum + run.decodeMs, 0) / 1000);
        log(`power-sampling bench: ${SHAPE} shape (random weights, Q8_0), ${model.threads} threads, CPU, prompt ${prompt.length} tokens, model load ${(loadMs / 1000).toFixed(1)} s`);

        const singleRate = rateOf(await decode(1, 1));
        const powerParams = resolveParams({method: "power", alpha: 4, ...size.power, samples: CHAINS, seed: 1});
        const rounds: Round[] = [];
        for (let r = 0; r < size.rounds; r++) {
            const before = await decode(CHAINS, decodeRunsEachSide);
            const power = await time(model, powerParams);
            const rate = rateOf([...before, ...await decode(CHAINS, decodeRunsEachSide)]);
            const idealMs = power.proposedTokens / rate * 1000;
            rounds.push({decodeRate: rate, power, idealMs, overhead: power.wallMs / idealMs});
        }
        const typical = [...rounds].sort((a, b) => a.overhead - b.overhead)[Math.floor((rounds.length - 1) / 2)]!;
        const {power} = typical;
        const describe = `${CHAINS} chains, alpha 4, block ${powerParams.blockSize}, ${powerParams.mcmcSteps} steps, ${powerParams.maxTokens} tokens, seed 1`;
        const range = (values: number[], digits: number) => rounds.length === 1 ? "" : ` (rounds: ${values.map((v) => v.toFixed(digits)).join(", ")})`;
        log(`  standard decoding        ${singleRate.toFixed(1)} tokens/s one chain, ${typical.decodeRate.toFixed(1)} tokens/s ${CHAINS} chains in step${range(rounds.map((round) => round.decodeRate), 1)}, prompt excluded`);
        log(`  power (${describe}), median of ${rounds.length} round${rounds.length === 1 ? "" : "s"}`);
        log(`    ${power.proposedTokens} tokens proposed in ${(power.wallMs / 1000).toFixed(1)} s; ideal at that round's ${CHAINS}-chain decode rate ${(typical.idealMs / 1000).toFixed(1)} s`);
        log(`    overhead vs ideal       ${typical.overhead.toFixed(2)}x${range(rounds.map((round) => round.overhead), 2)}   (target <= 1.25x)`);

        const reference = await time(new ReferenceLanguageModel(model), powerParams);
        const speedup = reference.wallMs / power.wallMs;
        const perToken = (reference.wallMs / reference.proposedTokens) / (power.wallMs / power.proposedTokens);
        log(`  reference, the published implementation's model access (re-feed prefix, full-vocabulary log-softmax per token, one chain at a time)`);
        log(`    ${reference.proposedTokens} tokens proposed in ${(reference.wallMs / 1000).toFixed(1)} s`);
        log(`    power is faster by      ${speedup.toFixed(2)}x wall, ${perToken.toFixed(2)}x per proposed token   (target >= 3x)`);

        if (options.json) {
            process.stdout.write(`${JSON.stringify({
                model: SHAPE, threads: model.threads, promptTokens: prompt.length,
                chains: CHAINS,
                standard: {tokensPerSecondOneChain: singleRate, tokensPerSecondInStep: typical.decodeRate},
                power: {...power, params: powerParams, idealMs: typical.idealMs, overheadVsIdeal: typical.overhead},
                rounds: rounds.map((round) => ({tokensPerSecondInStep: round.decodeRate, wallMs: round.power.wallMs, idealMs: round.idealMs, overheadVsIdeal: round.overhead})),
                reference: {...reference, speedupWall: speedup, speedupPerToken: perToken}
            }, null, 2)}\n`);
        }
    });
}
