/** Which models "auto" gives their chat template: one rule for a local GGUF and a server's model. */
import {strict as assert} from "node:assert";
import {guessPromptMode, isInstructModel} from "../../src/llama/prompts.js";

describe("instruct models", () => {
    it("need a chat template and a name that says instruct, chat, it, assistant or a tuning method", () => {
        const template = "{% for message in messages %}{{ message.content }}{% endfor %}";
        for (const names of [["Qwen2.5 7B Instruct"], ["", "qwen2.5-7b-instruct-q4_k_m.gguf"], ["gemma-2-9b-it"], ["Llama 3 Chat"], ["zephyr-7b-dpo"]])
            assert.equal(isInstructModel(template, names), true, names.join(" | "));
        for (const names of [["Qwen2.5 Math 7B"], ["stories260K.gguf"], ["", "iterate.gguf"]]) assert.equal(isInstructModel(template, names), false, names.join(" | "));
        assert.equal(isInstructModel(undefined, ["Qwen2.5 7B Instruct"]), false, "no template");
        assert.equal(isInstructModel(42, ["Qwen2.5 7B Instruct"]), false, "a template that is not text");
    });

    it("get the chat template in auto mode, whatever the selection", () => {
        assert.equal(guessPromptMode("def f(x):", {languageId: "python", instruct: true}), "chat");
        assert.equal(guessPromptMode("def f(x):", {languageId: "python", instruct: false}), "code");
    });
});
