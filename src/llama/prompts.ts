/** Prompt modes: how a selection becomes the model's prompt tokens. */
import type {Token as LlamaToken} from "node-llama-cpp";
import type {ResolvedPromptMode} from "../protocol/params.js";
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
export async function buildPrompt(model: LlamaLanguageModel, text: string, mode: ResolvedPromptMode): Promise<Token[]> {
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

/** Document languages whose text is prose, not code. */
const PROSE_LANGUAGES = new Set(["plaintext", "markdown", "latex", "tex", "bibtex", "restructuredtext", "asciidoc", "log", "scminput", ""]);

const CODE_LINE = /^\s*(?:def |class |async def |function |import |from \S+ import |#include|fn |func |pub fn |public |private |protected |static |const |let |var |package |module |using |namespace |interface |struct |enum |impl |template<|@\w+)/;
const LATEX = /\\(?:frac|dfrac|sqrt|boxed|sum|int|prod|lim|cdot|times|le|ge|neq|pi|theta|alpha|beta|infty|binom|pmod|log|sin|cos|tan)\b|\$[^$\n]+\$|\\\(|\\\[/;
const MATH_WORDS = /\b(?:find|compute|calculate|evaluate|solve|simplify|prove|how many|what is|what are|determine|express)\b/i;

/**
 * The mode "auto" picks: an instruct model gets its chat template; code (by the document's
 * language, or by how the text reads) is continued as code; prose with a question, LaTeX or a
 * maths word gets the paper's maths prompt; anything else goes as it is.
 */
export function guessPromptMode(text: string, context: {readonly languageId?: string; readonly instruct: boolean}): ResolvedPromptMode {
    if (context.instruct) return "chat";
    const languageId = context.languageId ?? "";
    if (!PROSE_LANGUAGES.has(languageId)) return "code";
    const lines = text.split(/\r?\n/).filter((line) => line.trim() !== "");
    if (lines.some((line) => CODE_LINE.test(line)) || /^\s*```/.test(text)) return "code";
    if (LATEX.test(text) || text.includes("?") || (MATH_WORDS.test(text) && /\d/.test(text))) return "math";
    return "raw";
}
