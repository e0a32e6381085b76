/** Prompt modes: how a selection becomes the model's prompt tokens. */
import type {Token as LlamaToken} from "node-llama-cpp";
import type {PromptMode} from "../protocol/params.js";
import type {Token} from "../sampling/model.js";
import type {LlamaLanguageModel} from "./model.js";

/** The power-sampling paper's MATH500 prompt. */
export function mathPrompt(problem: string): string {
    return `Can you solve the following math problem? ${problem} Please reason step by step, and put your final answer within \\boxed{}.`;
}

/**
 * raw: the text as is (base models). math: the paper's prompt. code: the selected code as is, so a
 * base model continues the stub (as HumanEval is run). chat: the model's own chat template.
 */
export async function buildPrompt(model: LlamaLanguageModel, text: string, mode: PromptMode): Promise<Token[]> {
    switch (mode) {
        case "raw":
        case "code":
            return model.tokenize(text);
        case "math":
            return model.tokenize(mathPrompt(text));
        case "chat": {
            const {resolveChatWrapper} = await import("node-llama-cpp");
            const wrapper = resolveChatWrapper(model.model);
            const {contextText} = wrapper.generateContextState({chatHistory: [{type: "user", text}, {type: "model", response: []}]});
            return contextText.tokenize(model.model.tokenizer) as LlamaToken[] as Token[];
        }
    }
}
