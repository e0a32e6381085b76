/** The LanguageModel of the samplers, backed by a node-llama-cpp model. */
import type {Llama, LlamaContext, LlamaModel, Token as LlamaToken} from "node-llama-cpp";
import {InvalidInputError} from "../sampling/errors.js";
import type {LanguageModel, SequenceBatch, Token} from "../sampling/model.js";
import {LlamaSequenceBatch} from "./batch.js";
import {loadGgufModel, type LoadOptions, physicalCoreCount} from "./runtime.js";

export interface LlamaLanguageModelOptions {
    /** CPU threads for evaluation; defaults to the physical core count (one for tiny models). */
    readonly threads?: number;
    /** Caps the tokens a sequence holds below the model's trained context. */
    readonly contextSize?: number;
}

/**
 * Below this size a decode step is too little work to split: on a 2-core machine a 1 MB model
 * ran 16x slower with 2 threads than with 1 (thread hand-off dominates).
 */
const TINY_MODEL_BYTES = 32 * 1024 * 1024;

/** Preceding tokens node-llama-cpp needs to place a token's leading space. */
const CONTEXT_FOR_DETOKENIZE = 8;

/** llama.cpp's n_seq_max limit. */
const MAX_SEQUENCES_PER_CONTEXT = 256;

export class LlamaLanguageModel implements LanguageModel {
    readonly threads: number;
    private readonly contextLimit?: number;

    constructor(readonly model: LlamaModel, options: LlamaLanguageModelOptions = {}) {
        this.contextLimit = options.contextSize;
        if (model.tokens.eos == null && model.tokens.eot == null) throw new InvalidInputError("the model has no end-of-sequence token");
        this.threads = options.threads ?? (model.size < TINY_MODEL_BYTES ? 1 : physicalCoreCount());
    }

    static async load(llama: Llama, modelPath: string, options: LlamaLanguageModelOptions & LoadOptions = {}): Promise<LlamaLanguageModel> {
        return new LlamaLanguageModel(await loadGgufModel(llama, modelPath, options), options);
    }

    async dispose(): Promise<void> {
        await this.model.dispose();
    }

    /** EOS and the tokens llama.cpp marks as end of generation (a chat model's end of turn, ...). */
    isEnd(token: Token): boolean {
        return this.model.isEogToken(token as LlamaToken);
    }

    /** Most tokens (prompt + generated) one sequence may hold. */
    get contextSize(): number {
        return Math.min(this.model.trainContextSize, this.contextLimit ?? Infinity);
    }

    /** Tokens of a raw prompt, BOS first when the model wants it; "" is BOS alone. */
    tokenize(text: string): Token[] {
        const bos = this.model.tokens.bos;
        const tokens = this.model.tokenize(text, false);
        const prompt = bos != null && this.model.tokens.shouldPrependBosToken ? [bos, ...tokens] : tokens;
        if (prompt.length === 0) throw new InvalidInputError("the prompt is empty and the model has no BOS token to start from");
        return prompt;
    }

    /** Text of `tokens`; `preceding` (e.g. the prompt) decides a leading space as the tokenizer would. */
    detokenize(tokens: readonly Token[], preceding: readonly Token[] = []): string {
        return this.model.detokenize(tokens as LlamaToken[], false, preceding.slice(-CONTEXT_FOR_DETOKENIZE) as LlamaToken[]);
    }

    /** The text of each token, read after the tokens before it. */
    pieces(tokens: readonly Token[], preceding: readonly Token[] = []): string[] {
        const all = [...preceding, ...tokens];
        return tokens.map((_, i) => {
            const end = preceding.length + i;
            return this.detokenize(tokens.slice(i, i + 1), all.slice(Math.max(0, end - CONTEXT_FOR_DETOKENIZE), end));
        });
    }

    async openBatch(prompt: readonly Token[], size: number, maxTokens: number): Promise<SequenceBatch> {
        const needed = prompt.length + maxTokens;
        if (prompt.length >= this.contextSize)
            throw new InvalidInputError(`the prompt is ${prompt.length} tokens; the model's context holds ${this.contextSize}`);
        if (needed > this.contextSize)
            throw new InvalidInputError(`prompt (${prompt.length} tokens) + max tokens (${maxTokens}) exceed the model's context of ${this.contextSize} tokens`);
        const contexts: LlamaContext[] = [];
        try {
            for (let first = 0; first < size; first += MAX_SEQUENCES_PER_CONTEXT) {
                const sequences = Math.min(MAX_SEQUENCES_PER_CONTEXT, size - first);
                contexts.push(await this.model.createContext({
                    contextSize: needed + 1,
                    sequences,
                    threads: this.threads,
                    // Whole prompts in one batch; decoding steps carry one token per sequence.
                    batchSize: Math.max(sequences, Math.min(needed, 2048)),
                    failedCreationRemedy: false
                }));
            }
            return new LlamaSequenceBatch(this.model, contexts, prompt, (token) => this.isEnd(token));
        } catch (error) {
            // A later context failing (memory) must not leak the earlier ones.
            await Promise.all(contexts.map((context) => context.dispose()));
            throw error;
        }
    }
}
