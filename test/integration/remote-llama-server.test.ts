/**
 * What llama-server returns, measured against exact distributions (Markov-chain GGUFs) and against
 * the local engine (stories260K), since the remote engine is built on it: log p at temperature 1
 * over the full vocabulary whatever the draw temperature, pure temperature draws, probes, the
 * adapter's log q, the same tokens and text as node-llama-cpp, and a cancel that stops the server.
 */
import {strict as assert} from "node:assert";
import {resolveParams} from "../../src/protocol/params.js";
import {solve} from "../../src/llama/solve.js";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import {LlamaServer} from "../../src/remote/llama-server.js";
import {RemoteLanguageModel} from "../../src/remote/model.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {temper, totalVariation} from "../../src/sampling/exact.js";
import {Random} from "../../src/sampling/random.js";
import {sample} from "../../src/sampling/run.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {parseMarkovSpec} from "../../src/testmodels/markov.js";
import {VARIABLE_LENGTH_SPEC} from "../support/chains.js";
import {assertNearReference, LlamaFixture, referenceLogProbs} from "../support/llama.js";
import {RemoteFixture} from "../support/llama-server.js";
import {tvNoiseQuantile} from "../support/noise.js";
import {sharedModel} from "../support/shared.js";

/** Never ends: a long generation to cancel. */
const ENDLESS = parseMarkovSpec({tokens: ["x", "y"], transitions: {"<s>": {x: 1}, x: {x: 0.5, y: 0.5}, y: {x: 0.5, y: 0.5}}});

const BOS = 1;

describe("llama-server, as the remote engine uses it", function () {
    this.timeout(300_000);
    const fixture = new RemoteFixture();
    const next = markovNextTokenDistribution(VARIABLE_LENGTH_SPEC);
    let server: LlamaServer;
    let url: string;
    const never = new AbortController().signal;

    before(async () => {
        await fixture.open();
        url = (await fixture.server({model: await fixture.markovModel("chain", VARIABLE_LENGTH_SPEC)})).url;
        server = new LlamaServer(url);
    });
    after(() => fixture.close());

    it("reports each drawn token's log p at temperature 1 over the full vocabulary, at any draw temperature", async () => {
        const {vocabularySize} = await server.describe();
        const context = [BOS];
        const drawn = await server.draw({context, maxTokens: 6, temperature: 1 / 4, seed: 7, topK: vocabularySize, slot: 0, signal: never});
        assert.ok(drawn.tokens.length > 0);
        for (const {token, probabilities} of drawn.tokens) {
            const p = next(context.slice(1));
            assert.ok(Math.abs(probabilities!.logP - Math.log(p[token]!)) < 1e-6, `token ${token}: ${probabilities!.logP} vs ${Math.log(p[token]!)}`);
            assert.ok(Math.abs(probabilities!.topLogP[0]! - Math.log(Math.max(...Array.from(p)))) < 1e-6);
            assert.ok(Math.abs(probabilities!.topLogP.reduce((sum, logP) => sum + Math.exp(logP), 0) - 1) < 1e-5);
            context.push(token);
        }
    });

    it("post_sampling_probs would report q at the draw temperature instead: why the adapter leaves it off", async () => {
        const p = Array.from(next([]));
        const q = temper(p, 1 / 4);
        const response = await fetch(`${url}/completion`, {method: "POST", headers: {"content-type": "application/json"}, body: JSON.stringify({
            prompt: [BOS], n_predict: 1, samplers: ["temperature"], temperature: 1 / 4, seed: 5, n_probs: p.length, post_sampling_probs: true
        })});
        const [entry] = ((await response.json()) as {completion_probabilities: {id: number; prob: number; top_probs: {id: number; prob: number}[]}[]}).completion_probabilities;
        assert.ok(Math.abs(entry!.prob - q[entry!.id]!) < 1e-5, `reported ${entry!.prob}, q ${q[entry!.id]}, p ${p[entry!.id]}`);
        for (const top of entry!.top_probs) assert.ok(Math.abs(top.prob - q[top.id]!) < 1e-5, `token ${top.id}: ${top.prob} vs q ${q[top.id]}`);
    });

    it("draws by pure temperature over the full vocabulary: first tokens follow the tempered distribution", async () => {
        const draws = 400;
        const p = Array.from(next([]));
        for (const temperature of [1 / 4, 1]) {
            const counts = new Map<string, number>();
            for (let seed = 0; seed < draws; seed++) {
                const {tokens} = await server.draw({context: [BOS], maxTokens: 1, temperature, seed, topK: 1, slot: seed % 4, signal: never});
                counts.set(String(tokens[0]!.token), (counts.get(String(tokens[0]!.token)) ?? 0) + 1 / draws);
            }
            const exact = new Map(temper(p, temperature).map((q, token) => [String(token), q] as const).filter(([, q]) => q > 0));
            const tv = totalVariation(exact, counts);
            assert.ok(tv < tvNoiseQuantile(exact, draws), `temperature ${temperature}: TV ${tv.toFixed(4)}`);
        }
    });

    it("a probe reads a position's likeliest tokens and a given token's log p, whatever is likeliest", async () => {
        const {vocabularySize} = await server.describe();
        const [x, z] = [259, 261];
        const probed = await server.probe({context: [BOS, x], token: z, topK: vocabularySize, slot: 1, signal: never});
        assert.ok(Math.abs(probed.logP! - Math.log(0.25)) < 1e-6);
        assert.deepEqual(probed.bytes, [...Buffer.from("z")]);
        const few = await server.probe({context: [BOS, x], token: x, topK: 2, slot: 1, signal: never});
        assert.equal(few.topLogP.length, 2);
        assert.equal(few.logP, null, "x (0.05) is not among the two likeliest");
    });

    it("the adapter's log p and log q are the exact ones, and a seed reproduces a run", async () => {
        const model = await RemoteLanguageModel.connect([url]);
        const batch = await model.openBatch([BOS], 4, 4);
        const random = (k: number) => new Random(21, k);
        const continuations = await batch.continue([0, 1, 2, 3].map((sequence) => ({sequence, prefix: [], maxTokens: 4, random: random(sequence)})), {temperature: 1 / 4});
        for (const continuation of continuations) {
            continuation.tokens.forEach((token, k) => {
                const p = next(continuation.tokens.slice(0, k));
                assert.ok(Math.abs(continuation.logP[k]! - Math.log(p[token]!)) < 1e-6);
                assert.ok(Math.abs(continuation.logQ[k]! - Math.log(temper(p, 1 / 4)[token]!)) < 1e-5, `log q ${continuation.logQ[k]} vs ${Math.log(temper(p, 1 / 4)[token]!)}`);
            });
        }
        const params = resolveParams({method: "power", alpha: 4, blockSize: 2, maxTokens: 4, mcmcSteps: 4, samples: 6, seed: 99});
        const [a, b] = [await solve(model, "", "raw", params), await solve(model, "", "raw", params)];
        assert.deepEqual(a.samples.map((s) => s.tokens), b.samples.map((s) => s.tokens));
        assert.equal(a.stats.logQErrorBound! < 1e-9, true);
        assert.equal(a.warnings, undefined);
    });

    it("stops generating a request as soon as it is cancelled", async () => {
        const endless = await fixture.server({model: await fixture.markovModel("endless", ENDLESS), slots: 1, contextSize: 8192});
        const busy = async () => ((await (await fetch(`${endless.url}/slots`)).json()) as {is_processing: boolean}[])[0]!.is_processing;
        const cancel = new AbortController();
        const drawing = new LlamaServer(endless.url).draw({context: [BOS], maxTokens: 8000, temperature: 1, seed: 1, topK: 4, slot: 0, signal: cancel.signal});
        while (!await busy()) await new Promise((resolve) => setTimeout(resolve, 20));
        cancel.abort();
        await assert.rejects(drawing, CancelledError);
        const stopped = performance.now();
        while (await busy()) {
            assert.ok(performance.now() - stopped < 1000, "the server still generates a second after the cancel");
            await new Promise((resolve) => setTimeout(resolve, 20));
        }
    });

    describe("on stories260K, against the local engine on the same file", () => {
        const local = new LlamaFixture();
        let localModel: LlamaLanguageModel;
        let remote: RemoteLanguageModel;
        before(async () => {
            await local.open();
            localModel = await local.load(sharedModel("stories260K.gguf"));
            remote = await RemoteLanguageModel.connect([(await fixture.server({model: sharedModel("stories260K.gguf"), contextSize: 512})).url]);
        });
        after(() => local.close());

        it("tokenizes as node-llama-cpp does", async () => {
            for (const text of ["", "Once upon a time", " a leading space", "Lily said: \"Wow!\"\nThe end.", "naïve café 🎉"])
                assert.deepEqual(await remote.tokenize(text), localModel.tokenize(text), JSON.stringify(text));
        });

        it("draws text that reads as node-llama-cpp reads it, with log p as the full-vocabulary reference", async () => {
            const prompt = localModel.tokenize("Once upon a time");
            const result = await sample(remote, prompt, resolveParams({method: "standard", maxTokens: 40, samples: 3, seed: 4}));
            for (const drawn of result.samples) {
                assert.equal(remote.detokenize(drawn.tokens), localModel.detokenize(drawn.tokens, prompt));
                assert.equal(remote.pieces(drawn.tokens).join(""), remote.detokenize(drawn.tokens));
                const reference = await referenceLogProbs(localModel, prompt, drawn.finishReason === "eos" ? [...drawn.tokens, localModel.model.tokens.eos!] : drawn.tokens);
                assertNearReference(drawn.logProb, reference, "remote");
            }
        });

        it("builds chat prompts with the server's template; auto mode sees the model as the local engine does", async () => {
            assert.equal(remote.instruct, localModel.instruct);
            const result = await solve(remote, "Tell me a story.", "chat", resolveParams({method: "standard", maxTokens: 8, seed: 1}));
            assert.ok(result.stats.promptTokens > (await remote.tokenize("Tell me a story.")).length);
        });
    });
});
