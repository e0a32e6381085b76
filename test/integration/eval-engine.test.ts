/**
 * The llama.cpp engine of an evaluation: the chat template when the model has one, prompts checked
 * against the context before anything runs, and several problems solved in one call exactly as
 * each would be alone.
 */
import {strict as assert} from "node:assert";
import {llamaEngine} from "../../src/eval/engine.js";
import type {LlamaLanguageModel} from "../../src/llama/model.js";
import {solve} from "../../src/llama/solve.js";
import {resolveParams} from "../../src/protocol/params.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import {LlamaFixture} from "../support/llama.js";
import {sharedModel} from "../support/shared.js";

/** ChatML, as Qwen's instruct models write it. */
const CHATML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n' }}{% endfor %}"
    + "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

describe("the evaluation's llama.cpp engine", function () {
    this.timeout(120_000);
    const fixture = new LlamaFixture();
    let stories: LlamaLanguageModel;
    let instruct: LlamaLanguageModel;
    before(async () => {
        await fixture.open();
        stories = await fixture.load(sharedModel("stories260K.gguf"));
        instruct = await fixture.markovModel("instruct", {tokens: ["A"], transitions: {"<s>": {A: 1}, A: {"</s>": 1}}}, {chatTemplate: CHATML});
    });
    after(() => fixture.close());

    it("knows whether the model has a chat template, and puts prompts into it in chat mode", async () => {
        assert.equal(llamaEngine(stories, "stories").hasChatTemplate, false);
        const engine = llamaEngine(instruct, "instruct");
        assert.equal(engine.hasChatTemplate, true);
        const params = resolveParams({method: "greedy", maxTokens: 2});
        const [raw] = await engine.solveEach([{prompt: "What is 1 + 1?", seed: 1}], "raw", params);
        const [chat] = await engine.solveEach([{prompt: "What is 1 + 1?", seed: 1}], "chat", params);
        assert.ok(chat!.stats.promptTokens > raw!.stats.promptTokens + 10, `${chat!.stats.promptTokens} vs ${raw!.stats.promptTokens} prompt tokens`);
        assert.equal(chat!.params.mode, "chat");
    });

    it("refuses a prompt that does not fit the context, naming its problem", async () => {
        const engine = llamaEngine(stories, "stories");
        const params = resolveParams({maxTokens: 2000});
        await engine.checkPrompts([{id: "short", prompt: "Once"}], "raw", params);
        await assert.rejects(engine.checkPrompts([{id: "short", prompt: "Once"}, {id: "long", prompt: "Once upon a time ".repeat(20)}], "raw", params),
            (error: Error) => error instanceof InvalidInputError && /^problem long: prompt \(\d+ tokens\) \+ max tokens \(2000\) exceed/.test(error.message));
    });

    it("solves several problems in one call as solve does each alone", async () => {
        const engine = llamaEngine(stories, "stories");
        const params = resolveParams({method: "power", samples: 2, maxTokens: 12, blockSize: 6, mcmcSteps: 2});
        const jobs = [{prompt: "Once upon a time", seed: 4}, {prompt: "The cat", seed: 5}];
        const together = await engine.solveEach(jobs, "raw", params);
        for (const [i, job] of jobs.entries()) {
            const alone = await solve(stories, job.prompt, "raw", {...params, seed: job.seed});
            assert.deepEqual(together[i]!.samples.map((s) => s.text), alone.samples.map((s) => s.text));
            assert.equal(together[i]!.params.seed, job.seed);
            assert.equal(together[i]!.stats.proposedTokens, alone.stats.proposedTokens);
        }
    });
});
