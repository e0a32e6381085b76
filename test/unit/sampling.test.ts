import {strict as assert} from "node:assert";
import {CancelledError, InvalidInputError} from "../../src/sampling/errors.js";
import {blockwisePowerDistribution, empiricalDistribution, enumerateCompletions, powerDistribution, temperedDistribution, totalVariation,
    type NextTokenDistribution} from "../../src/sampling/exact.js";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import {sample, type SamplingResult} from "../../src/sampling/run.js";
import {logAcceptanceRatio} from "../../src/sampling/power.js";
import {EOS, PIVOTAL, VARIABLE_LENGTH} from "../support/chains.js";
import {ExactModel} from "../support/exact-model.js";
import {tvNoiseQuantile} from "../support/noise.js";

export async function draw(next: NextTokenDistribution, params: Partial<SamplingParams>): Promise<SamplingResult> {
    return sample(new ExactModel(next, EOS), [], resolveParams({seed: 7, ...params}));
}

/** Completions as enumeration keys them: EOS included when the sample ended with it. */
export function completions(result: SamplingResult): number[][] {
    return result.samples.map((s) => (s.finishReason === "eos" ? [...s.tokens, EOS] : s.tokens));
}

describe("samplers against exact enumeration", function () {
    this.timeout(60_000);
    const maxTokens = 4;
    const draws = 2000;
    const exact = enumerateCompletions(VARIABLE_LENGTH, EOS, maxTokens);
    const target = powerDistribution(exact, 4);
    const bound = tvNoiseQuantile(target, draws);

    it("the test chain has completions of every length and a target unlike low temperature", () => {
        const lengths = new Set(exact.map((c) => c.tokens.length));
        assert.deepEqual([...lengths].sort(), [2, 3, 4], "EOS after 1, 2 or 3 tokens, or cut at 4");
        assert.ok(exact.length >= 20, `${exact.length} completions`);
        const lowTemperature = temperedDistribution(VARIABLE_LENGTH, EOS, maxTokens, 1 / 4);
        assert.ok(totalVariation(target, lowTemperature) > 5 * bound,
            `TV(p^4, low temperature) ${totalVariation(target, lowTemperature)} vs noise bound ${bound}`);
    });

    it("power (one block, 100 MH steps) draws p^alpha within the sampling-noise bound", async () => {
        const result = await draw(VARIABLE_LENGTH, {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 100, samples: draws});
        const tv = totalVariation(target, empiricalDistribution(completions(result)));
        assert.ok(tv < bound, `TV ${tv.toFixed(4)} >= noise bound ${bound.toFixed(4)}`);
    });

    it("power with several blocks draws the blockwise target (chains that end early stop early)", async () => {
        const blockwise = blockwisePowerDistribution(VARIABLE_LENGTH, EOS, 4, 2, maxTokens);
        assert.ok(totalVariation(blockwise, target) > 0.02, "blocks change the target on this chain");
        const result = await draw(VARIABLE_LENGTH, {method: "power", alpha: 4, blockSize: 2, maxTokens, mcmcSteps: 100, samples: draws});
        const tv = totalVariation(blockwise, empiricalDistribution(completions(result)));
        assert.ok(tv < tvNoiseQuantile(blockwise, draws), `TV ${tv.toFixed(4)}`);
    });

    it("power with alpha 2 targets p^2, not p^4", async () => {
        const target2 = powerDistribution(exact, 2);
        const result = await draw(VARIABLE_LENGTH, {method: "power", alpha: 2, blockSize: maxTokens, maxTokens, mcmcSteps: 100, samples: draws});
        const empirical = empiricalDistribution(completions(result));
        assert.ok(totalVariation(target2, empirical) < tvNoiseQuantile(target2, draws));
        assert.ok(totalVariation(target, empirical) > bound);
    });

    it("zero MCMC steps is low-temperature sampling, measurably away from p^alpha", async () => {
        const result = await draw(VARIABLE_LENGTH, {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 0, samples: draws});
        const empirical = empiricalDistribution(completions(result));
        const lowTemperature = temperedDistribution(VARIABLE_LENGTH, EOS, maxTokens, 1 / 4);
        assert.ok(totalVariation(lowTemperature, empirical) < tvNoiseQuantile(lowTemperature, draws));
        assert.ok(totalVariation(target, empirical) > 5 * bound);
    });

    for (const [method, temperature] of [["low-temperature", 1 / 4], ["standard", 1], ["greedy", 0]] as const) {
        it(`${method} draws the tempered distribution at temperature ${temperature}`, async () => {
            const expected = temperedDistribution(VARIABLE_LENGTH, EOS, maxTokens, temperature);
            const result = await draw(VARIABLE_LENGTH, {method, alpha: 4, maxTokens, samples: draws});
            const tv = totalVariation(expected, empiricalDistribution(completions(result)));
            assert.ok(tv < tvNoiseQuantile(expected, draws), `TV ${tv}`);
            assert.equal(result.stats.mcmcSteps, 0);
            assert.equal(result.stats.acceptanceRate, null);
        });
    }
});

describe("the pivotal two-branch example", function () {
    this.timeout(30_000);
    const shareOfB = (result: SamplingResult) => result.samples.filter((s) => s.tokens[0] === 2).length / result.samples.length;
    const n = 2000;
    // Binomial standard error of a share, times 4: a failure means a real difference.
    const tolerance = (p: number) => 4 * Math.sqrt(p * (1 - p) / n) + 1e-9;

    it("standard picks B 40 %, low temperature 16.5 %, power 99.5 % (alpha 4)", async () => {
        const exact = enumerateCompletions(PIVOTAL, EOS, 3);
        const powerB = [...powerDistribution(exact, 4)].filter(([k]) => k.startsWith("2")).reduce((a, [, p]) => a + p, 0);
        assert.ok(Math.abs(powerB - 0.995) < 5e-4, `exact p^4 share of B ${powerB}`);
        const expectations = [["standard", 0.4], ["low-temperature", 0.4 ** 4 / (0.4 ** 4 + 0.6 ** 4)], ["power", powerB]] as const;
        for (const [method, expected] of expectations) {
            const share = shareOfB(await draw(PIVOTAL, {method, alpha: 4, blockSize: 3, maxTokens: 3, mcmcSteps: 200, samples: n}));
            assert.ok(Math.abs(share - expected) < tolerance(expected), `${method}: B ${share}, expected ${expected}`);
        }
    });
});

describe("power sampler mechanics", () => {
    it("log acceptance ratio: whole suffixes and the log n - log m term", () => {
        const chain = {tokens: [1, 2, 3], logP: [-1, -2, -3], logQ: [-0.5, -0.7, -0.9], changedPositions: []};
        const proposal = {tokens: [4], logP: [-0.25], logQ: [-0.1]};
        // i = 1: old suffix p -5, q -1.6 (n = 3); new p -0.25, q -0.1 (m = 2).
        const expected = 4 * (-0.25 - -5) + (-1.6 - -0.1) + Math.log(3) - Math.log(2);
        assert.ok(Math.abs(logAcceptanceRatio(chain, 1, proposal, 4) - expected) < 1e-12);
    });

    it("is reproducible: same seed, same samples; another seed, other samples", async () => {
        const params = {method: "power", alpha: 4, blockSize: 2, maxTokens: 4, mcmcSteps: 5, samples: 50} as const;
        const a = await draw(VARIABLE_LENGTH, {...params, seed: 1});
        const b = await draw(VARIABLE_LENGTH, {...params, seed: 1});
        const c = await draw(VARIABLE_LENGTH, {...params, seed: 2});
        assert.deepEqual(a, b);
        assert.notDeepEqual(completions(a), completions(c));
    });

    it("counts proposed tokens, steps and acceptances honestly", async () => {
        const model = new ExactModel(VARIABLE_LENGTH, EOS);
        const result = await sample(model, [], resolveParams({method: "power", blockSize: 4, maxTokens: 4, mcmcSteps: 7, samples: 30, seed: 3}));
        assert.equal(result.stats.proposedTokens, model.drawnTokens);
        assert.equal(result.stats.mcmcSteps, 7 * 30);
        assert.ok(result.stats.acceptedSteps > 0 && result.stats.acceptedSteps < result.stats.mcmcSteps);
        assert.equal(result.stats.acceptanceRate, result.stats.acceptedSteps / result.stats.mcmcSteps);
        for (const s of result.samples) {
            assert.ok(Math.abs(s.logProb - logProbOf(VARIABLE_LENGTH, s.finishReason === "eos" ? [...s.tokens, EOS] : s.tokens)) < 1e-9);
            assert.ok(s.changedPositions.every((position) => position >= 0 && position < 4));
        }
    });

    it("stops a chain after the block in which it ended with EOS", async () => {
        // PIVOTAL always ends by token 3, so with blocks of 3 only the first block runs.
        const result = await draw(PIVOTAL, {method: "power", blockSize: 3, maxTokens: 30, mcmcSteps: 4, samples: 10});
        assert.equal(result.stats.mcmcSteps, 4 * 10);
        assert.ok(result.samples.every((s) => s.finishReason === "eos"));
    });

    it("ends a chain at any end token the model declares (an end of turn), and leaves it out", async () => {
        const endOfTurn = 3; // z in VARIABLE_LENGTH
        const model = new ExactModel(VARIABLE_LENGTH, EOS, [endOfTurn]);
        for (const method of ["power", "standard"] as const) {
            const result = await sample(model, [], resolveParams({method, blockSize: 2, maxTokens: 4, mcmcSteps: 5, samples: 50, seed: 4}));
            assert.ok(result.samples.every((s) => !s.tokens.includes(endOfTurn) && !s.tokens.includes(EOS)), method);
            // The log-probability tells which end token closed each ended sample: both occur.
            const closedBy = (end: number) => result.samples.filter((s) =>
                s.finishReason === "eos" && Math.abs(s.logProb - logProbOf(VARIABLE_LENGTH, [...s.tokens, end])) < 1e-9).length;
            assert.ok(closedBy(endOfTurn) > 0 && closedBy(EOS) > 0, `${method}: ${closedBy(endOfTurn)} by end of turn, ${closedBy(EOS)} by EOS`);
            assert.equal(closedBy(endOfTurn) + closedBy(EOS), result.samples.filter((s) => s.finishReason === "eos").length, method);
        }
    });

    it("reports length when max tokens cut a completion", async () => {
        const loop = (prefix: readonly number[]) => (prefix.length >= 0 ? [0.01, 0.99] : []);
        const result = await draw(loop, {method: "standard", maxTokens: 5, samples: 20});
        assert.ok(result.samples.some((s) => s.finishReason === "length" && s.tokens.length === 5));
    });

    it("cancels through its AbortSignal", async () => {
        const controller = new AbortController();
        const params = resolveParams({method: "power", blockSize: 2, maxTokens: 4, mcmcSteps: 1000, samples: 4, seed: 1});
        const run = sample(new ExactModel(VARIABLE_LENGTH, EOS), [], params, {
            signal: controller.signal,
            onProgress: (progress) => { if (progress.proposedTokens >= 100) controller.abort(); }
        });
        await assert.rejects(run, CancelledError);
    });
});

describe("parameters", () => {
    it("fills the paper's defaults, and Power-SMC's", () => {
        const params = resolveParams({});
        assert.deepEqual({...params, seed: 0}, {
            method: "power", alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, samples: 1,
            particles: 16, resampleInterval: 16, essThreshold: 0.5, alphaRampTokens: 0, seed: 0
        });
    });

    const invalid: [unknown, RegExp][] = [
        [{alpha: 0.5}, /^alpha must be a number in 1\.\.64, got 0\.5$/],
        [{alpha: Number.NaN}, /^alpha must be a number in 1\.\.64, got NaN$/],
        [{blockSize: 0}, /^blockSize must be an integer in 1\.\.32768, got 0$/],
        [{maxTokens: 0}, /^maxTokens must be an integer in 1\.\./],
        [{mcmcSteps: -1}, /^mcmcSteps must be an integer in 0\.\.10000, got -1$/],
        [{samples: 1.5}, /^samples must be an integer in 1\.\.4096, got 1\.5$/],
        [{samples: 100000}, /^samples must be an integer in 1\.\.4096, got 100000$/],
        [{particles: 0}, /^particles must be an integer in 1\.\.256, got 0$/],
        [{essThreshold: -0.1}, /^essThreshold must be a number in 0\.\.1, got -0\.1$/],
        [{seed: -3}, /^seed must be an integer in 0\.\.4294967295/],
        [{method: "beam"}, /^method must be one of power, smc, low-temperature, standard, greedy, got "beam"$/],
        [{particle: 8}, /^unknown sampling parameter "particle"$/],
        [[1, 2], /^sampling parameters must be an object$/]
    ];
    for (const [input, message] of invalid) {
        it(`rejects ${JSON.stringify(input)}`, () => assert.throws(() => resolveParams(input), (e: Error) => e instanceof InvalidInputError && message.test(e.message)));
    }

    it("names the parameter as the caller calls it (a flag, a setting)", () => {
        assert.throws(() => resolveParams({blockSize: 0}, (field) => `--${field}`), (e: Error) => /^--blockSize must be/.test(e.message));
    });
});

function logProbOf(next: NextTokenDistribution, tokens: number[]): number {
    return tokens.reduce((sum, token, i) => sum + Math.log(next(tokens.slice(0, i))[token]!), 0);
}
