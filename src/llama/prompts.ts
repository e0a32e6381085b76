/** Prompt modes: how a selection becomes the model's prompt tokens, on any engine. */
import type {Token as LlamaToken} from "node-llama-cpp";
import type {PromptMode} from "../protocol/params.js";
import type {Token} from "../sampling/model.js";
import type {LlamaLanguageModel} from "./model.js";

/** What a prompt is built with: an engine's tokenizer and chat template (node-llama-cpp here, or a server). */
export interface PromptTokenizer {
    /** Tokens of a raw prompt, BOS first when the model wants it. */
    tokenize(text: string): Token[] | Promise<Token[]>;
    /** One user turn in the model's own chat template, ready for the model's answer. */
    chatPrompt(text: string): Promise<Token[]>;
}

/** The power-sampling paper's MATH500 prompt. */
export function mathPrompt(problem: string): string {
    return `Can you solve the following math problem? ${problem} Please reason step by step, and put your final answer within \\boxed{}.`;
}

/**
 * raw: the text as is (base models). math: the paper's prompt. code: the selected code as is, so a
 * base model continues the stub (as HumanEval is run). chat: the model's own chat template.
 */
export async function buildPrompt(model: PromptTokenizer, text: string, mode: PromptMode): Promise<Token[]> {
    switch (mode) {
        case "raw":
        case "code":
            return model.tokenize(text);
        case "math":
            return model.tokenize(mathPrompt(text));
        case "chat":
            return model.chatPrompt(text);
    }
}

/** node-llama-cpp's chat wrapper for the model (its template, or a known format). */
export async function llamaChatPrompt(model: LlamaLanguageModel, text: string): Promise<Token[]> {
    const {resolveChatWrapper} = await import("node-llama-cpp");
    const wrapper = resolveChatWrapper(model.model);
    const {contextText} = wrapper.generateContextState({chatHistory: [{type: "user", text}, {type: "model", response: []}]});
    return contextText.tokenize(model.model.tokenizer) as LlamaToken[] as Token[];
}
