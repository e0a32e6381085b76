/**
 * The node-llama-cpp adapter's sequence batch on stories260K (a real transformer, so a wrong
 * KV cache shows in the log-probabilities): per-token log p and log q against full-vocabulary
 * references, and moves between sequences that keep active sequences consecutive; stopping at
 * end-of-generation tokens on a Markov-chain GGUF.
 */
import {strict as assert} from "node:assert";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import type {Continuation, ContinueRequest, SequenceBatch} from "../../src/sampling/model.js";
import {resolveParams} from "../../src/protocol/params.js";
import {Random} from "../../src/sampling/random.js";
import {sample} from "../../src/sampling/run.js";
import {parseMarkovSpec} from "../../src/testmodels/markov.js";
import {LlamaFixture, referenceLogProbs} from "../support/llama.js";
import {sharedModel} from "../support/shared.js";

/** float32 logits and sums: agreement to ~1e-5 per token is what llama.cpp's arithmetic allows. */
const TOLERANCE = 1e-3;

describe("llama.cpp sequence batch", function () {
    this.timeout(120_000);
    const fixture = new LlamaFixture();
    let model: LlamaLanguageModel;
    let prompt: number[];
    before(async () => {
        await fixture.open();
        model = await fixture.load(sharedModel("stories260K.gguf"));
        prompt = model.tokenize("Once upon a time");
    });
    after(() => fixture.close());

    const withBatch = async (size: number, body: (batch: SequenceBatch) => Promise<void>) => {
        const batch = await model.openBatch(prompt, size, 32);
        try {
            await body(batch);
        } finally {
            await batch.dispose();
        }
    };
    const assertClose = (actual: readonly number[], expected: readonly number[], what: string) => {
        assert.equal(actual.length, expected.length, what);
        actual.forEach((value, k) => assert.ok(Math.abs(value - expected[k]!) < TOLERANCE, `${what} token ${k}: ${value} vs ${expected[k]}`));
    };
    /** Checks a continuation's log p (and log q at `temperature`) against full distributions. */
    const assertExact = async (request: ContinueRequest, result: Continuation, temperature: number) => {
        const before = [...prompt, ...request.prefix];
        assertClose(result.logP, await referenceLogProbs(model, before, result.tokens), `sequence ${request.sequence} log p`);
        if (temperature > 0) assertClose(result.logQ, await referenceLogProbs(model, before, result.tokens, temperature), `sequence ${request.sequence} log q`);
    };

    for (const temperature of [0.25, 1, 0]) {
        it(`draws at temperature ${temperature} with exact per-token log p and log q`, async () => {
            await withBatch(2, async (batch) => {
                const requests = [0, 1].map((sequence) => ({sequence, prefix: [], maxTokens: 12, random: new Random(3, sequence)}));
                const results = await batch.continue(requests, {temperature});
                for (const [k, request] of requests.entries()) await assertExact(request, results[k]!, temperature);
            });
        });
    }

    it("stops at a chat model's end-of-turn token as at EOS", async () => {
        // x and the end of turn alternate forever: without the stop, every draw runs to max tokens.
        const chat = await fixture.markovModel("end-of-turn", parseMarkovSpec({
            tokens: ["x", "<|end|>"],
            transitions: {"<s>": {x: 0.5, "<|end|>": 0.5}, x: {"<|end|>": 1}, "<|end|>": {x: 1}}
        }), {endOfTurn: "<|end|>"});
        const result = await sample(chat, chat.tokenize(""), resolveParams({method: "standard", maxTokens: 6, samples: 20, seed: 1}));
        assert.ok(result.samples.every((s) => s.finishReason === "eos" && s.tokens.length <= 1), JSON.stringify(result.samples.map((s) => s.tokens)));
    });

    it("the same random stream gives the same draws", async () => {
        const draw = async () => {
            let tokens: number[][] = [];
            await withBatch(3, async (batch) => {
                const results = await batch.continue([0, 1, 2].map((sequence) => ({sequence, prefix: [], maxTokens: 10, random: new Random(9, sequence)})), {temperature: 0.5});
                tokens = results.map((result) => result.tokens);
            });
            return tokens;
        };
        assert.deepEqual(await draw(), await draw());
    });

    it("more sequences than one llama.cpp context holds: each context shares the prompt, draws stay exact", async () => {
        await withBatch(300, async (batch) => {
            const requests = Array.from({length: 300}, (_, sequence) => ({sequence, prefix: [], maxTokens: 3, random: new Random(8, sequence)}));
            const results = await batch.continue(requests, {temperature: 1});
            // The first and last sequence of each context (256 per context).
            for (const k of [0, 255, 256, 299]) await assertExact(requests[k]!, results[k]!, 1);
        });
    });

    it("sequences feeding different numbers of tokens in one batch each read their own logits", async () => {
        // Feeds of different lengths make llama.cpp reorder the batch's output rows, lazily and not
        // thread-safely, on the first read; without one read first, concurrent draws sometimes read
        // another sequence's logits (3 of 960 sequences over 30 such rounds on an idle machine).
        const words = model.tokenize(" there was a little girl who lived in a village near the forest").slice(1);
        for (let round = 0; round < 4; round++) {
            await withBatch(32, async (batch) => {
                const requests = Array.from({length: 32}, (_, sequence) => ({sequence, prefix: words.slice(0, sequence % 12), maxTokens: 3, random: new Random(round, sequence)}));
                const results = await batch.continue(requests, {temperature: 1});
                for (const [k, request] of requests.entries()) await assertExact(request, results[k]!, 1);
            });
        }
    });

    it("sequences moved to close gaps left by finished ones keep exact log-probabilities", async () => {
        await withBatch(4, async (batch) => {
            const random = new Random(3);
            // Sequences 0 and 2 stop after 6 tokens, so 1 and 3 go on with a gap between them, and 3
            // moves into 0's slot holding tokens of its own that 0's cache does not.
            const first = [6, 14, 6, 14].map((maxTokens, sequence) => ({sequence, prefix: [], maxTokens, random}));
            const results = await batch.continue(first, {temperature: 1});
            assert.notDeepEqual(results[3]!.tokens.slice(0, 5), results[0]!.tokens.slice(0, 5), "the moved cache must differ from the one it replaces");
            for (const [k, request] of first.entries()) await assertExact(request, results[k]!, 1);
            // Each sequence continues from its own text, wherever its cache now lives.
            const again = first.map((request, k) => ({sequence: request.sequence, prefix: results[k]!.tokens.slice(0, 1 + k), maxTokens: 6, random}));
            const more = await batch.continue(again, {temperature: 1});
            for (const [k, request] of again.entries()) await assertExact(request, more[k]!, 1);
        });
    });

    it("a copy makes one sequence hold another's cache: it continues the other's text exactly", async () => {
        await withBatch(3, async (batch) => {
            const random = new Random(4);
            const first = await batch.continue([0, 1, 2].map((sequence) => ({sequence, prefix: [], maxTokens: 10, random})), {temperature: 1});
            assert.notDeepEqual(first[0]!.tokens, first[1]!.tokens);
            // SMC's resampling: sequence 1 takes sequence 0's place and both go on from 0's text.
            await batch.copy(0, 1);
            const requests = [0, 1].map((sequence) => ({sequence, prefix: first[0]!.tokens, maxTokens: 8, random}));
            const next = await batch.continue(requests, {temperature: 1});
            for (const [k, request] of requests.entries()) await assertExact(request, next[k]!, 1);
        });
    });

    it("copies across contexts re-evaluate the prefix, still exactly; groups are never split across contexts", async () => {
        const batch = await model.openBatch(prompt, 300, 32, {groupSize: 100});
        try {
            const random = new Random(6);
            const first = await batch.continue([0, 299].map((sequence) => ({sequence, prefix: [], maxTokens: 6, random})), {temperature: 1});
            await batch.copy(299, 0);
            const request = {sequence: 0, prefix: first[1]!.tokens, maxTokens: 6, random};
            const [next] = await batch.continue([request], {temperature: 1});
            await assertExact(request, next!, 1);
        } finally {
            await batch.dispose();
        }
    });
});
