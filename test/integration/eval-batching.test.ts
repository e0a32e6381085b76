/**
 * Several problems in one llama.cpp batch, as the evaluation decodes them: each group of
 * sequences starts with its own prompt (evaluated once per context and copied within the group),
 * its draws have exact log-probabilities under that prompt, and what a job draws does not depend
 * on what else shares the batch.
 */
import {strict as assert} from "node:assert";
import type {LlamaSequenceBatch} from "../../src/llama/batch.js";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import type {LanguageModel} from "../../src/sampling/model.js";
import {resolveParams} from "../../src/protocol/params.js";
import {Random} from "../../src/sampling/random.js";
import {sample, sampleEach} from "../../src/sampling/run.js";
import {MARKOV_EOS} from "../../src/testmodels/markov.js";
import {LlamaFixture, referenceLogProbs} from "../support/llama.js";
import {sharedModel} from "../support/shared.js";

const TOLERANCE = 1e-3;

describe("several prompts in one llama.cpp batch", function () {
    this.timeout(120_000);
    const fixture = new LlamaFixture();
    let stories: LlamaLanguageModel;
    before(async () => {
        await fixture.open();
        stories = await fixture.load(sharedModel("stories260K.gguf"));
    });
    after(() => fixture.close());

    it("each group draws after its own prompt, with exact log p and log q", async () => {
        const prompts = [stories.tokenize("Once upon a time"), stories.tokenize("The little dog ran to the park and")];
        const batch = await stories.openBatch(prompts[0]!, 4, 16, {groupSize: 2, groupPrompts: prompts});
        try {
            const requests = [0, 1, 2, 3].map((sequence) => ({sequence, prefix: [], maxTokens: 10, random: new Random(9, sequence)}));
            const results = await batch.continue(requests, {temperature: 0.5});
            for (const [k, result] of results.entries()) {
                const prompt = prompts[Math.floor(k / 2)]!;
                const expectedP = await referenceLogProbs(stories, prompt, result.tokens);
                const expectedQ = await referenceLogProbs(stories, prompt, result.tokens, 0.5);
                result.logP.forEach((value, t) => assert.ok(Math.abs(value - expectedP[t]!) < TOLERANCE, `sequence ${k} token ${t}: log p ${value} vs ${expectedP[t]}`));
                result.logQ.forEach((value, t) => assert.ok(Math.abs(value - expectedQ[t]!) < TOLERANCE, `sequence ${k} token ${t}: log q ${value} vs ${expectedQ[t]}`));
            }
        } finally {
            await batch.dispose();
        }
    });

    for (const method of ["standard", "power"] as const) {
        it(`${method}: a job draws the same in a batch with other prompts as alone`, async () => {
            const texts = ["Once upon a time", "Tom had a red ball.", "One day, a bird"];
            const jobs = texts.map((text, i) => ({prompt: stories.tokenize(text), seed: 100 + i}));
            const params = resolveParams({method, samples: 3, maxTokens: 24, blockSize: 8, mcmcSteps: 3});
            const together = await sampleEach(stories, jobs, params);
            for (const [i, job] of jobs.entries()) {
                const alone = await sample(stories, job.prompt, {...params, seed: job.seed});
                assert.deepEqual(together[i]!.samples.map((s) => s.tokens), alone.samples.map((s) => s.tokens), `job ${i}`);
                together[i]!.samples.forEach((s, k) => assert.ok(Math.abs(s.logProb - alone.samples[k]!.logProb) < TOLERANCE));
                assert.equal(together[i]!.stats.proposedTokens, alone.stats.proposedTokens);
            }
        });
    }

    it("SMC runs of different problems resample at different moments and still evaluate nothing twice", async () => {
        const opened: LlamaSequenceBatch[] = [];
        const recording: LanguageModel = {
            isEnd: (token) => stories.isEnd(token),
            batchCapacity: (...args) => stories.batchCapacity(...args),
            openBatch: async (...args) => {
                const batch = await stories.openBatch(...args) as LlamaSequenceBatch;
                opened.push(batch);
                return batch;
            }
        };
        const prompts = ["Once upon a time, there was a little girl named Lily who loved to play in the park with her friends.",
            "One day, a big dog came to the town. The dog was very hungry and sad, and nobody wanted to give him food."].map((text) => stories.tokenize(text));
        const results = await sampleEach(recording, prompts.map((prompt, i) => ({prompt, seed: 40 + i})),
            resolveParams({method: "smc", samples: 2, particles: 8, maxTokens: 64, resampleInterval: 4}));
        assert.ok(results.every((result) => result.stats.resamplings > 2), "both problems resample, at moments of their own");
        const drawn = results.reduce((sum, result) => sum + result.stats.proposedTokens, 0);
        // Each prompt once but its last token; then a call that draws k tokens feeds k: the token it
        // continues from, and each it draws but the last. Nothing more when no sequence loses its cache.
        assert.equal(opened[0]!.evaluatedTokens, prompts.reduce((sum, prompt) => sum + prompt.length - 1, 0) + drawn);
    });

    it("on a Markov chain, each problem's samples follow the row of its prompt's last token", async () => {
        const chain = await fixture.markovModel("two-starts", {
            tokens: ["Q1", "Q2", "A", "B"],
            transitions: {"<s>": {A: 1}, Q1: {A: 1}, Q2: {B: 1}, A: {[MARKOV_EOS]: 1}, B: {[MARKOV_EOS]: 1}}
        });
        const [first, second] = await sampleEach(chain, [{prompt: chain.tokenize("Problem 1: Q1"), seed: 1}, {prompt: chain.tokenize("Q2"), seed: 1}],
            resolveParams({method: "standard", samples: 8, maxTokens: 4}));
        assert.deepEqual(new Set(first!.samples.map((s) => chain.detokenize(s.tokens))), new Set(["A"]));
        assert.deepEqual(new Set(second!.samples.map((s) => chain.detokenize(s.tokens))), new Set(["B"]));
    });
});
