/** The LanguageModel of the samplers, backed by a node-llama-cpp model. */
import type {Llama, LlamaModel, Token as LlamaToken} from "node-llama-cpp";
import {InvalidInputError} from "../sampling/errors.js";
import type {LanguageModel, SequenceBatch, Token} from "../sampling/model.js";
import {LlamaSequenceBatch} from "./batch.js";
import {loadGgufModel, physicalCoreCount, type RuntimeOptions} from "./runtime.js";

export interface LlamaLanguageModelOptions {
    /** CPU threads for evaluation; defaults to the physical core count (one for tiny models). */
    readonly threads?: number;
}

/**
 * Below this size a decode step is too little work to split: on a 2-core machine a 1 MB model
 * ran 16x slower with 2 threads than with 1 (thread hand-off dominates).
 */
const TINY_MODEL_BYTES = 32 * 1024 * 1024;

export class LlamaLanguageModel implements LanguageModel {
    readonly eosToken: Token;
    readonly threads: number;

    constructor(readonly model: LlamaModel, options: LlamaLanguageModelOptions = {}) {
        if (model.tokens.eos == null) throw new InvalidInputError("the model has no end-of-sequence token");
        this.eosToken = model.tokens.eos;
        this.threads = options.threads ?? (model.size < TINY_MODEL_BYTES ? 1 : physicalCoreCount());
    }

    static async load(llama: Llama, modelPath: string, options: LlamaLanguageModelOptions & RuntimeOptions = {}): Promise<LlamaLanguageModel> {
        return new LlamaLanguageModel(await loadGgufModel(llama, modelPath), options);
    }

    get contextSize(): number {
        return this.model.trainContextSize;
    }

    /** Tokens of a raw prompt, BOS first when the model wants it; "" is BOS alone. */
    tokenize(text: string): Token[] {
        const bos = this.model.tokens.bos;
        const tokens = this.model.tokenize(text, false);
        const prompt = bos != null && this.model.tokens.shouldPrependBosToken ? [bos, ...tokens] : tokens;
        if (prompt.length === 0) throw new InvalidInputError("the prompt is empty and the model has no BOS token to start from");
        return prompt;
    }

    detokenize(tokens: readonly Token[]): string {
        return this.model.detokenize(tokens as LlamaToken[]);
    }

    /** The text of each token on its own. */
    pieces(tokens: readonly Token[]): string[] {
        return tokens.map((token) => this.model.detokenize([token as LlamaToken], true));
    }

    async openBatch(prompt: readonly Token[], size: number, maxTokens: number): Promise<SequenceBatch> {
        const needed = prompt.length + maxTokens;
        if (prompt.length >= this.contextSize)
            throw new InvalidInputError(`the prompt is ${prompt.length} tokens; the model's context holds ${this.contextSize}`);
        if (needed > this.contextSize)
            throw new InvalidInputError(`prompt (${prompt.length} tokens) + max tokens (${maxTokens}) exceed the model's context of ${this.contextSize} tokens`);
        const context = await this.model.createContext({
            contextSize: needed + 1,
            sequences: size,
            threads: this.threads,
            // Whole prompts in one batch; decoding steps carry one token per sequence.
            batchSize: Math.max(size, Math.min(needed, 2048))
        });
        return new LlamaSequenceBatch(context, prompt, this.eosToken);
    }
}
