/**
 * Power-SMC through real llama.cpp on Markov-chain GGUFs, whose p^alpha is known by enumeration:
 * hundreds of runs of 64 particles, each run's particles in one context, resampled by cache copies.
 */
import {strict as assert} from "node:assert";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import {empiricalDistribution, enumerateCompletions, powerDistribution, temperedDistribution, totalVariation} from "../../src/sampling/exact.js";
import {sample, type SamplingResult} from "../../src/sampling/run.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {markovVocabulary, MARKOV_EOS, PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {VARIABLE_LENGTH_SPEC} from "../support/chains.js";
import {LlamaFixture} from "../support/llama.js";
import {tvNoiseQuantile} from "../support/noise.js";


describe("Power-SMC through llama.cpp", function () {
    this.timeout(600_000);
    const fixture = new LlamaFixture();
    before(() => fixture.open());
    after(() => fixture.close());

    const runs = 400;
    const maxTokens = 4;
    const next = markovNextTokenDistribution(VARIABLE_LENGTH_SPEC);
    const eos = markovVocabulary(VARIABLE_LENGTH_SPEC).indexOf(MARKOV_EOS);
    const target = powerDistribution(enumerateCompletions(next, eos, maxTokens), 4);
    const bound = tvNoiseQuantile(target, runs);
    let model: LlamaLanguageModel;
    before(async () => { model = await fixture.markovModel("variable-length", VARIABLE_LENGTH_SPEC); });

    const smc = (on: LlamaLanguageModel, params: Partial<SamplingParams>) =>
        sample(on, on.tokenize(""), resolveParams({method: "smc", alpha: 4, maxTokens, samples: runs, resampleInterval: 1, seed: 13, ...params}));
    const drawn = (result: SamplingResult) => empiricalDistribution(result.samples.map((s) => (s.finishReason === "eos" ? [...s.tokens, eos] : s.tokens)));

    it(`${runs} runs of 64 particles draw p^alpha within the sampling-noise bound`, async () => {
        const result = await smc(model, {particles: 64});
        const tv = totalVariation(target, drawn(result));
        assert.ok(tv < bound, `TV ${tv.toFixed(4)} >= noise bound ${bound.toFixed(4)} (${runs} runs)`);
        assert.equal(result.smc!.length, runs);
    });

    it("one particle is low temperature; four are closer to p^alpha; sixteen are within the noise", async () => {
        const one = drawn(await smc(model, {particles: 1}));
        const lowTemperature = temperedDistribution(next, eos, maxTokens, 1 / 4);
        assert.ok(totalVariation(lowTemperature, one) < tvNoiseQuantile(lowTemperature, runs), "N = 1 is low temperature");
        const tvs = [one, drawn(await smc(model, {particles: 4})), drawn(await smc(model, {particles: 16}))].map((d) => totalVariation(target, d));
        assert.ok(tvs[0]! > 3 * bound && tvs[1]! < tvs[0]! / 3 && tvs[2]! < bound, `TV for 1, 4, 16 particles: ${tvs.map((tv) => tv.toFixed(4)).join(", ")}; bound ${bound.toFixed(4)}`);
    });

    it("the pivotal example lands on the B branch (99.5 %)", async () => {
        const pivotal = await fixture.markovModel("pivotal", PIVOTAL_CHAIN);
        const b = markovVocabulary(PIVOTAL_CHAIN).indexOf("B");
        const result = await smc(pivotal, {particles: 64, maxTokens: 8, samples: 200});
        const share = result.samples.filter((s) => s.tokens[0] === b).length / 200;
        assert.ok(Math.abs(share - 0.995) < 4 * Math.sqrt(0.995 * 0.005 / 200) + 0.005, `B share ${share}`);
    });
});
