/**
 * The samplers through real llama.cpp: Markov-chain GGUFs with a known distribution, so the
 * draws can be compared with exact enumeration, and stories260K as a real transformer.
 */
import {strict as assert} from "node:assert";
import {empiricalDistribution, enumerateCompletions, powerDistribution, temperedDistribution, totalVariation} from "../../src/sampling/exact.js";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import {sample, type SamplingResult} from "../../src/sampling/run.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {markovVocabulary, PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {VARIABLE_LENGTH_SPEC} from "../support/chains.js";
import {assertNearReference, LlamaFixture, referenceLogProbs} from "../support/llama.js";
import {tvNoiseQuantile} from "../support/noise.js";
import {sharedModel} from "../support/shared.js";


describe("power sampling through llama.cpp", function () {
    this.timeout(300_000);
    const fixture = new LlamaFixture();
    before(() => fixture.open());
    after(() => fixture.close());

    const completions = (result: SamplingResult, eos: number) =>
        result.samples.map((s) => (s.finishReason === "eos" ? [...s.tokens, eos] : s.tokens));
    const run = (model: LlamaLanguageModel, params: Partial<SamplingParams>) =>
        sample(model, model.tokenize(""), resolveParams({seed: 11, ...params}));

    describe("on a Markov chain with completions of different lengths", () => {
        const maxTokens = 4;
        const draws = 400;
        const next = markovNextTokenDistribution(VARIABLE_LENGTH_SPEC);
        const target = powerDistribution(enumerateCompletions(next, 2, maxTokens), 4);
        const bound = tvNoiseQuantile(target, draws);
        let model: LlamaLanguageModel;
        before(async () => { model = await fixture.markovModel("variable-length", VARIABLE_LENGTH_SPEC); });

        it("power draws p^alpha within the sampling-noise bound", async () => {
            const result = await run(model, {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 50, samples: draws});
            const tv = totalVariation(target, empiricalDistribution(completions(result, model.model.tokens.eos!)));
            assert.ok(tv < bound, `TV ${tv.toFixed(4)} >= noise bound ${bound.toFixed(4)} (${draws} draws)`);
            assert.ok(result.stats.acceptanceRate! > 0 && result.stats.acceptanceRate! < 1);
        });

        it("low temperature lands measurably elsewhere, on its own tempered distribution", async () => {
            const result = await run(model, {method: "low-temperature", alpha: 4, maxTokens, samples: draws});
            const empirical = empiricalDistribution(completions(result, model.model.tokens.eos!));
            const tempered = temperedDistribution(next, 2, maxTokens, 1 / 4);
            assert.ok(totalVariation(tempered, empirical) < tvNoiseQuantile(tempered, draws));
            assert.ok(totalVariation(target, empirical) > 3 * bound, `TV to p^alpha ${totalVariation(target, empirical)}`);
        });

        it("logProb and the per-token log-probabilities are exact", async () => {
            const result = await run(model, {method: "power", alpha: 4, blockSize: 2, maxTokens, mcmcSteps: 5, samples: 20});
            for (const [i, tokens] of completions(result, model.model.tokens.eos!).entries()) {
                const exact = tokens.reduce((sum, token, k) => sum + Math.log(next(tokens.slice(0, k))[token]!), 0);
                assert.ok(Math.abs(result.samples[i]!.logProb - exact) < 1e-3, `${result.samples[i]!.logProb} vs ${exact}`);
            }
        });
    });

    it("the pivotal two-branch example: power picks B 99.5 %, low temperature 16.5 %", async () => {
        const model = await fixture.markovModel("pivotal", PIVOTAL_CHAIN);
        const b = markovVocabulary(PIVOTAL_CHAIN).indexOf("B");
        const draws = 200;
        const shareOfB = (result: SamplingResult) => result.samples.filter((s) => s.tokens[0] === b).length / draws;
        // 4 binomial standard errors: a failure is a real difference, not noise.
        const within = (share: number, p: number) => Math.abs(share - p) < 4 * Math.sqrt(p * (1 - p) / draws) + 0.005;
        const power = shareOfB(await run(model, {method: "power", alpha: 4, blockSize: 8, maxTokens: 8, mcmcSteps: 100, samples: draws}));
        const low = shareOfB(await run(model, {method: "low-temperature", alpha: 4, maxTokens: 8, samples: draws}));
        assert.ok(within(power, 0.995), `power B share ${power}`);
        assert.ok(within(low, 0.165), `low-temperature B share ${low}`);
    });

    describe("on stories260K, a real trained transformer", () => {
        let model: LlamaLanguageModel;
        before(async () => { model = await fixture.load(sharedModel("stories260K.gguf")); });

        it("power sampling writes text, deterministically for a seed, with exact log p", async () => {
            const params = {method: "power", alpha: 4, blockSize: 16, maxTokens: 48, mcmcSteps: 4, samples: 3} as const;
            const prompt = model.tokenize("Once upon a time");
            const a = await sample(model, prompt, resolveParams({...params, seed: 1}));
            const b = await sample(model, prompt, resolveParams({...params, seed: 1}));
            assert.deepEqual(a.samples.map((s) => s.tokens), b.samples.map((s) => s.tokens));
            assert.ok(a.samples.every((s) => /[a-z]+ [a-z]+/.test(model.detokenize(s.tokens))));
            assert.equal(a.stats.mcmcSteps, a.samples.length * 4 * Math.ceil(48 / 16) - countSkippedSteps(a, params));
            for (const s of a.samples) {
                assertNearReference(s.logProb, await referenceLogProbs(model, prompt, s.finishReason === "eos" ? [...s.tokens, model.model.tokens.eos!] : s.tokens), "sampler");
            }
        });

        it("power finds likelier completions than low temperature (mean log p)", async () => {
            const params = {alpha: 4, blockSize: 24, maxTokens: 24, samples: 16, seed: 2};
            const mean = (r: SamplingResult) => r.samples.reduce((sum, s) => sum + s.logProb, 0) / r.samples.length;
            const prompt = model.tokenize("Once upon a time");
            const low = await sample(model, prompt, resolveParams({...params, method: "low-temperature"}));
            const power = await sample(model, prompt, resolveParams({...params, method: "power", mcmcSteps: 20}));
            assert.ok(mean(power) > mean(low), `power ${mean(power)} vs low temperature ${mean(low)}`);
        });
    });
});

/** Chains that end with EOS before the last block skip the later blocks' steps. */
function countSkippedSteps(result: SamplingResult, {blockSize, maxTokens, mcmcSteps}: {blockSize: number; maxTokens: number; mcmcSteps: number}): number {
    const blocks = Math.ceil(maxTokens / blockSize);
    return result.samples.reduce((skipped, s) => {
        const used = s.finishReason === "eos" ? Math.ceil((s.tokens.length + 1) / blockSize) : blocks;
        return skipped + (blocks - used) * mcmcSteps;
    }, 0);
}
