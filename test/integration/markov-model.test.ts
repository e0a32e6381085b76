import {strict as assert} from "node:assert";
import {stat} from "node:fs/promises";
import type {ControlledEvaluateInputItem, LlamaContextSequence, Token} from "node-llama-cpp";
import {MARKOV_FIRST_TOKEN_ID, markovVocabulary, parseMarkovSpec, PIVOTAL_CHAIN, type MarkovSpec} from "../../src/testmodels/markov.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {SHAPES, writeShapeModel} from "../../src/testmodels/shapes.js";
import {LlamaFixture} from "../support/llama.js";
import {resolveParams} from "../../src/protocol/params.js";
import {sample} from "../../src/sampling/run.js";

/** Self-loops, an end probability in the middle of rows, and a small probability (0.001). */
const WEATHER_CHAIN: MarkovSpec = parseMarkovSpec({
    tokens: ["sun", "rain", "fog"],
    transitions: {
        "<s>": {sun: 0.5, rain: 0.3, fog: 0.2},
        sun: {sun: 0.6, rain: 0.25, fog: 0.05, "</s>": 0.1},
        rain: {rain: 0.45, sun: 0.35, fog: 0.001, "</s>": 0.199},
        fog: {sun: 0.3, rain: 0.3, fog: 0.2, "</s>": 0.2},
    },
});

/** Full temperature-1 distribution, no truncation: what the note says to pass explicitly. */
const FULL_DISTRIBUTION = {temperature: 1, topK: 0, topP: 1, minP: 0} as const;

/** The next-token distribution after feeding `history` to a cleared sequence. */
async function nextDistribution(sequence: LlamaContextSequence, history: readonly Token[]): Promise<Map<Token, number>> {
    await sequence.clearHistory();
    const input: ControlledEvaluateInputItem[] = [
        ...history.slice(0, -1),
        [history.at(-1)!, {generateNext: {probabilities: true, options: FULL_DISTRIBUTION}}],
    ];
    const output = await sequence.controlledEvaluate(input);
    const probabilities = output.at(-1)?.next.probabilities;
    assert.ok(probabilities, "controlledEvaluate returned no probabilities");
    return probabilities;
}

describe("Markov chain GGUF in llama.cpp", function () {
    this.timeout(120_000);
    const fixture = new LlamaFixture();
    before(() => fixture.open());
    after(() => fixture.close());

    for (const [name, spec] of [["pivotal", PIVOTAL_CHAIN], ["weather", WEATHER_CHAIN]] as const) {
        it(`${name} chain: every state's next-token distribution matches the spec within 1e-4`, async () => {
            const {model} = await fixture.markovModel(name, spec);
            const vocab = markovVocabulary(spec);
            const exact = markovNextTokenDistribution(spec);
            assert.equal(model.tokens.bos, 1);
            assert.equal(model.tokens.eos, 2);
            spec.tokens.forEach((token, i) => {
                assert.equal(model.detokenize([(MARKOV_FIRST_TOKEN_ID + i) as Token]), token);
            });

            const context = await model.createContext({contextSize: 256, threads: 1});
            try {
                const sequence = context.getSequence();
                /** `history` starts with BOS; the exact distribution conditions on what follows it. */
                const check = async (history: Token[], what: string) => {
                    const probabilities = await nextDistribution(sequence, history);
                    const expected = exact(history.slice(1));
                    for (let id = 0; id < vocab.length; id++) {
                        const actual = probabilities.get(id as Token) ?? 0;
                        assert.ok(Math.abs(actual - expected[id]!) <= 1e-4, `${what}: P(${vocab[id]}) is ${actual}, expected ${expected[id]}`);
                    }
                };

                await check([1 as Token], "after <s>");
                for (const [i, token] of spec.tokens.entries())
                    await check([1, MARKOV_FIRST_TOKEN_ID + i] as Token[], `after <s> ${token}`);
                // Only the current token matters, however long the history.
                const last = spec.tokens.length - 1;
                await check([1, MARKOV_FIRST_TOKEN_ID, MARKOV_FIRST_TOKEN_ID + last, MARKOV_FIRST_TOKEN_ID] as Token[], "after a longer history");
            } finally {
                await context.dispose();
            }
        });
    }
});

describe("random-weight shape model in llama.cpp", function () {
    this.timeout(180_000);
    const fixture = new LlamaFixture();
    before(() => fixture.open());
    after(() => fixture.close());

    it("writes the smollm2-135m shape, which llama.cpp loads and generates from", async () => {
        const shape = SHAPES["smollm2-135m"];
        const path = fixture.file("smollm2-135m.gguf");
        await writeShapeModel("smollm2-135m", path, {seed: 1});
        // Q8_0 matrices (34 bytes per 32 weights), tied output, a ~0.8 MB vocabulary header.
        const size = (await stat(path)).size;
        assert.ok(size > 140e6 && size < 150e6, `file is ${size} bytes`);

        const {model} = await fixture.load(path);
        assert.equal(model.embeddingVectorSize, shape.embeddingLength);
        assert.equal(model.trainContextSize, shape.contextLength);
        assert.equal(model.fileInfo.metadata.tokenizer.ggml.tokens.length, shape.vocabSize);
        assert.equal(model.fileInfo.tensorInfo?.length, 2 + 9 * shape.blockCount);

        const context = await model.createContext({contextSize: 256, threads: 1});
        try {
            const sequence = context.getSequence();
            let input: Token[] = model.tokenize("Hello world");
            input.unshift(model.tokens.bos!);
            const generated: Token[] = [];
            for (let i = 0; i < 4; i++) {
                const items: ControlledEvaluateInputItem[] = [
                    ...input.slice(0, -1),
                    [input.at(-1)!, {generateNext: {token: true, confidence: true, options: {...FULL_DISTRIBUTION, seed: 7}}}],
                ];
                const next = (await sequence.controlledEvaluate(items)).at(-1)?.next;
                const token = next?.token;
                assert.ok(token != null && token >= 0 && token < shape.vocabSize, `token ${token}`);
                assert.ok(next?.confidence! > 0 && next?.confidence! <= 1, `confidence ${next?.confidence}`);
                generated.push(token);
                input = [token];
            }
            assert.equal(generated.length, 4);
        } finally {
            await context.dispose();
        }
    });
});

describe("a Markov GGUF with a row for any other state", function () {
    this.timeout(60_000);
    const fixture = new LlamaFixture();
    before(() => fixture.open());
    after(() => fixture.close());

    it("after a prompt of arbitrary text (byte tokens), the \"*\" row decides the next token", async () => {
        const model = await fixture.markovModel("any-state", parseMarkovSpec({
            tokens: ["\\boxed{42}"],
            transitions: {"<s>": {"\\boxed{42}": 1}, "*": {"\\boxed{42}": 1}, "\\boxed{42}": {"</s>": 1}}
        }));
        const result = await sample(model, model.tokenize("What is 6 times 7? Think!"), resolveParams({method: "standard", maxTokens: 4, samples: 5, seed: 1}));
        assert.deepEqual(result.samples.map((s) => model.detokenize(s.tokens)), Array(5).fill("\\boxed{42}"));
        assert.ok(result.samples.every((s) => s.finishReason === "eos" && Math.abs(s.logProb) < 1e-4));
    });
});
