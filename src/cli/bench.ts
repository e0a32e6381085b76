/**
 * `power-sampling bench`: speed figures in one run, as ratios (the machines are shared and
 * noisy): standard decode rate; power sampling against the ideal time for its proposed tokens;
 * power sampling against the published implementation's model access (reference.ts).
 */
import {ReferenceLanguageModel} from "../llama/reference.js";
import type {LanguageModel} from "../sampling/model.js";
import {resolveParams, type SamplingParams} from "../sampling/params.js";
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
    /** Tokens per second after the first step, so prompt evaluation is left out. */
    readonly decodeRate: number;
}

export async function runBench(options: BenchOptions): Promise<void> {
    const modelPath = await cachedFile(options.cacheDir, `${SHAPE}-q8_0-seed1.gguf`, (target) => writeShapeModel(SHAPE, target, {seed: 1}));
    const size = options.quick
        ? {decodeTokens: 24, repeats: 1, power: {blockSize: 16, maxTokens: 32, mcmcSteps: 2}}
        : {decodeTokens: 64, repeats: 3, power: {blockSize: 32, maxTokens: 64, mcmcSteps: 4}};
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
            return {
                wallMs: end - start,
                proposedTokens: stats.proposedTokens,
                decodeRate: (stats.proposedTokens - first!.tokens) / ((end - first!.at) / 1000)
            };
        };
        const best = async (runs: number, once: () => Promise<Timed>) => {
            let fastest: Timed | undefined;
            for (let i = 0; i < runs; i++) {
                const run = await once();
                if (!fastest || run.decodeRate > fastest.decodeRate) fastest = run;
            }
            return fastest!;
        };
        log(`power-sampling bench: ${SHAPE} shape (random weights, Q8_0), ${model.threads} threads, CPU, prompt ${prompt.length} tokens, model load ${(loadMs / 1000).toFixed(1)} s`);

        const decode = async (samples: number) => {
            const params = resolveParams({method: "standard", maxTokens: size.decodeTokens, samples, seed: 1});
            return (await best(size.repeats, () => time(model, params))).decodeRate;
        };
        const singleRate = await decode(1);
        const decodeRate = await decode(CHAINS);
        log(`  standard decoding        ${singleRate.toFixed(1)} tokens/s one chain, ${decodeRate.toFixed(1)} tokens/s ${CHAINS} chains in step (best of ${size.repeats}, ${size.decodeTokens} tokens each, prompt excluded)`);

        const powerParams = resolveParams({method: "power", alpha: 4, ...size.power, samples: CHAINS, seed: 1});
        const describe = `${CHAINS} chains, alpha 4, block ${powerParams.blockSize}, ${powerParams.mcmcSteps} steps, ${powerParams.maxTokens} tokens, seed 1`;
        const power = await best(Math.min(2, size.repeats), () => time(model, powerParams));
        const idealMs = power.proposedTokens / decodeRate * 1000;
        const overhead = power.wallMs / idealMs;
        log(`  power (${describe})`);
        log(`    ${power.proposedTokens} tokens proposed in ${(power.wallMs / 1000).toFixed(1)} s; ideal at the ${CHAINS}-chain decode rate ${(idealMs / 1000).toFixed(1)} s`);
        log(`    overhead vs ideal       ${overhead.toFixed(2)}x   (target <= 1.25x)`);

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
                standard: {tokensPerSecondOneChain: singleRate, tokensPerSecondInStep: decodeRate},
                power: {...power, params: powerParams, idealMs, overheadVsIdeal: overhead},
                reference: {...reference, speedupWall: speedup, speedupPerToken: perToken}
            }, null, 2)}\n`);
        }
    });
}
