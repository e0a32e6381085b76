/** Power-SMC on the exact in-memory model: its target, its limits in N, the exact ramp, its moves. */
import {strict as assert} from "node:assert";
import {completionKey, empiricalDistribution, enumerateCompletions, powerDistribution, temperedDistribution, totalVariation,
    type Distribution, type NextTokenDistribution} from "../../src/sampling/exact.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import {Random} from "../../src/sampling/random.js";
import {sample, type SamplingResult} from "../../src/sampling/run.js";
import {alphaAt, drawIndex, effectiveSampleSize, keepInPlace, systematicResample} from "../../src/sampling/smc.js";
import {EOS, PIVOTAL, VARIABLE_LENGTH} from "../support/chains.js";
import {ExactModel} from "../support/exact-model.js";
import {tvNoiseQuantile} from "../support/noise.js";

const MAX_TOKENS = 4;
const RUNS = 1000;

function smc(next: NextTokenDistribution, params: Partial<SamplingParams>, model = new ExactModel(next, EOS)): Promise<SamplingResult> {
    return sample(model, [], resolveParams({method: "smc", alpha: 4, maxTokens: MAX_TOKENS, samples: RUNS, seed: 21, ...params}));
}

function drawn(result: SamplingResult): Distribution {
    return empiricalDistribution(result.samples.map((s) => (s.finishReason === "eos" ? [...s.tokens, EOS] : s.tokens)));
}

describe("Power-SMC against exact enumeration", function () {
    this.timeout(120_000);
    const exact = enumerateCompletions(VARIABLE_LENGTH, EOS, MAX_TOKENS);
    const target = powerDistribution(exact, 4);
    const bound = tvNoiseQuantile(target, RUNS);

    it("with 64 particles, the final draws are p^alpha within the sampling-noise bound", async () => {
        const result = await smc(VARIABLE_LENGTH, {particles: 64, resampleInterval: 1});
        const tv = totalVariation(target, drawn(result));
        assert.ok(tv < bound, `TV ${tv.toFixed(4)} >= noise bound ${bound.toFixed(4)}`);
        assert.equal(result.smc!.length, RUNS);
    });

    it("one particle is low-temperature sampling; the distance to p^alpha falls as particles are added", async () => {
        const tvs: number[] = [];
        for (const particles of [1, 4, 16]) {
            const result = await smc(VARIABLE_LENGTH, {particles, resampleInterval: 1});
            if (particles === 1) {
                const lowTemperature = temperedDistribution(VARIABLE_LENGTH, EOS, MAX_TOKENS, 1 / 4);
                assert.ok(totalVariation(lowTemperature, drawn(result)) < tvNoiseQuantile(lowTemperature, RUNS), "N = 1 draws low temperature");
                assert.equal(result.stats.resamplings, 0, "one particle never resamples");
            }
            tvs.push(totalVariation(target, drawn(result)));
        }
        assert.ok(tvs[0]! > 3 * bound, `N = 1: TV ${tvs[0]} vs bound ${bound}`);
        assert.ok(tvs[1]! < tvs[0]! / 3, `N = 4: TV ${tvs[1]} vs N = 1: ${tvs[0]}`);
        assert.ok(tvs[2]! < bound, `N = 16: TV ${tvs[2]} vs bound ${bound}`);
    });

    it("the pivotal example lands on the B branch with 64 particles (99.5 %); 4 particles often see no B at all", async () => {
        const shareOfB = (result: SamplingResult) => result.samples.filter((s) => s.tokens[0] === 2).length / result.samples.length;
        const many = await smc(PIVOTAL, {particles: 64, resampleInterval: 1, maxTokens: 3, samples: 400});
        const exactB = 0.995;
        assert.ok(Math.abs(shareOfB(many) - exactB) < 4 * Math.sqrt(exactB * (1 - exactB) / 400) + 0.005, `B share ${shareOfB(many)}`);
        assert.ok(many.stats.resamplings > 0, "the weights split after the second token: resampling happens");
        // With 4 particles, each drawn B with q = 0.165, no B among them has probability 0.835^4 = 0.49.
        const few = await smc(PIVOTAL, {particles: 4, resampleInterval: 1, maxTokens: 3, samples: 400});
        assert.ok(Math.abs(shareOfB(few) - (1 - 0.835 ** 4)) < 0.1, `B share with 4 particles ${shareOfB(few)}`);
    });

    it("an alpha ramp ends at p^alpha, not at the published code's prod p(x_t)^alpha_t", async () => {
        const ramp = {alpha: 4, alphaRampTokens: 3};
        const weights = exact.map((c) => Math.exp(c.tokens.reduce((sum, token, t) =>
            sum + alphaAt(ramp, t) * Math.log(VARIABLE_LENGTH(c.tokens.slice(0, t))[token]!), 0)));
        const total = weights.reduce((a, b) => a + b, 0);
        const published: Distribution = new Map(exact.map((c, i) => [completionKey(c.tokens), weights[i]! / total]));
        assert.ok(totalVariation(target, published) > 5 * bound, "the two targets differ measurably on this chain");
        const result = await smc(VARIABLE_LENGTH, {particles: 64, resampleInterval: 1, alphaRampTokens: 3});
        const tv = totalVariation(target, drawn(result));
        assert.ok(tv < bound, `TV to p^alpha ${tv.toFixed(4)} >= bound ${bound.toFixed(4)} (TV to the published target ${totalVariation(published, drawn(result)).toFixed(4)})`);
    });
});

describe("Power-SMC mechanics", () => {
    it("is reproducible, and does not depend on how runs are split into waves", async () => {
        const params = {particles: 8, resampleInterval: 1, samples: 24};
        const whole = await smc(VARIABLE_LENGTH, params);
        const again = await smc(VARIABLE_LENGTH, params);
        const model = new ExactModel(VARIABLE_LENGTH, EOS, [], 20);
        const waves = await smc(VARIABLE_LENGTH, params, model);
        assert.deepEqual(again, whole);
        assert.deepEqual(waves.samples, whole.samples);
        assert.deepEqual(waves.smc, whole.smc);
        assert.deepEqual(model.batchSizes, [16], "two runs of 8 particles fit a capacity of 20: one batch of 16 serves every wave");
        const other = await smc(VARIABLE_LENGTH, {...params, seed: 22});
        assert.notDeepEqual(other.samples, whole.samples);
    });

    it("reports weights that add up to one, an ESS trace and the drawn particle", async () => {
        const result = await smc(PIVOTAL, {particles: 16, resampleInterval: 1, maxTokens: 3, samples: 5});
        for (const run of result.smc!) {
            assert.equal(run.particles.length, 16);
            assert.ok(Math.abs(run.particles.reduce((sum, p) => sum + p.weight, 0) - 1) < 1e-9);
            assert.ok(run.drawn >= 0 && run.drawn < 16);
            assert.deepEqual(run.ess.map((point) => point.token), [1, 2], "checked after every token while any particle lives");
            assert.ok(run.ess.every((point) => point.ess >= 1 - 1e-9 && point.ess <= 16 + 1e-9));
            assert.ok(Number.isFinite(run.logNormaliser));
        }
        assert.equal(result.stats.proposedTokens, 5 * 16 * 3, "every particle draws three tokens");
        assert.equal(result.stats.mcmcSteps, 0);
    });

    it("estimates the normaliser sum_x p(x)^alpha", async () => {
        const exactZ = enumerateCompletions(PIVOTAL, EOS, 3).reduce((sum, c) => sum + Math.exp(4 * c.logP), 0);
        const result = await smc(PIVOTAL, {particles: 64, resampleInterval: 1, maxTokens: 3, samples: 200});
        // The estimate of Z is unbiased: its mean over runs converges to Z.
        const mean = result.smc!.reduce((sum, run) => sum + Math.exp(run.logNormaliser), 0) / result.smc!.length;
        assert.ok(Math.abs(mean / exactZ - 1) < 0.05, `mean estimate ${mean} vs exact ${exactZ}`);
    });

    it("cancels through its AbortSignal", async () => {
        const controller = new AbortController();
        const run = sample(new ExactModel(VARIABLE_LENGTH, EOS), [], resolveParams({method: "smc", maxTokens: 4, particles: 8, samples: 50, seed: 1}), {
            signal: controller.signal,
            onProgress: (progress) => { if (progress.proposedTokens >= 64) controller.abort(); }
        });
        await assert.rejects(run, CancelledError);
    });
});

describe("resampling moves", () => {
    it("systematic resampling gives each particle floor or ceil of N times its weight", () => {
        const random = new Random(5);
        const weights = [0.5, 0.3, 0.15, 0.05];
        for (let trial = 0; trial < 100; trial++) {
            const ancestors = systematicResample(weights.map(Math.log), random);
            assert.equal(ancestors.length, 4);
            weights.forEach((w, i) => {
                const count = ancestors.filter((a) => a === i).length;
                assert.ok(count === Math.floor(4 * w) || count === Math.ceil(4 * w), `particle ${i}: ${count} copies for weight ${w}`);
            });
        }
    });

    it("keeps every chosen ancestor in its own slot, with the same multiset", () => {
        const placed = keepInPlace([0, 0, 0, 2, 2, 5]);
        assert.deepEqual([...placed].sort(), [0, 0, 0, 2, 2, 5]);
        for (const ancestor of new Set(placed)) assert.equal(placed[ancestor], ancestor);
    });

    it("effective sample size: N for equal weights, near 1 for one dominant weight", () => {
        assert.ok(Math.abs(effectiveSampleSize([0, 0, 0, 0]) - 4) < 1e-12);
        assert.ok(effectiveSampleSize([0, -50, -50, -50]) < 1 + 1e-9);
        assert.ok(Math.abs(effectiveSampleSize([Math.log(3), 0]) - 16 / 10) < 1e-12);
    });

    it("draws an index in proportion to its weight", () => {
        const random = new Random(9);
        const weights = [0.1, 0.6, 0.3];
        const n = 20_000;
        const counts = [0, 0, 0];
        for (let i = 0; i < n; i++) counts[drawIndex(weights.map(Math.log), random)]!++;
        weights.forEach((w, i) => assert.ok(Math.abs(counts[i]! / n - w) < 4 * Math.sqrt(w * (1 - w) / n), `index ${i}: ${counts[i]! / n} vs ${w}`));
    });
});
