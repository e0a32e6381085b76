/** The LanguageModel of the samplers, backed by a node-llama-cpp model. */
import os from "node:os";
import type {Llama, LlamaContext, LlamaModel, Token as LlamaToken} from "node-llama-cpp";
import {InvalidInputError, throwIfCancelled} from "../sampling/errors.js";
import {type LanguageModel, type OpenBatchOptions, type SequenceBatch, sequencePrompts, type Token} from "../sampling/model.js";
import {LlamaSequenceBatch} from "./batch.js";
import {isInstructModel, llamaChatPrompt} from "./prompts.js";
import {defaultThreadCount, loadGgufModel, type LoadOptions} from "./runtime.js";

export interface LlamaLanguageModelOptions {
    /** CPU threads for evaluation; defaults to one fewer than the physical cores, at least one (one for tiny models). */
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
    readonly shape: ModelShape;
    private readonly contextLimit?: number;

    constructor(readonly model: LlamaModel, options: LlamaLanguageModelOptions = {}) {
        this.contextLimit = options.contextSize;
        if (model.tokens.eos == null && model.tokens.eot == null) throw new InvalidInputError("the model has no end-of-sequence token");
        this.threads = options.threads ?? (model.size < TINY_MODEL_BYTES ? 1 : defaultThreadCount());
        this.shape = modelShape(model);
    }

    static async load(llama: Llama, modelPath: string, options: LlamaLanguageModelOptions & LoadOptions = {}): Promise<LlamaLanguageModel> {
        return new LlamaLanguageModel(await loadGgufModel(llama, modelPath, options), options);
    }

    async dispose(): Promise<void> {
        await this.model.dispose();
    }

    /** An instruct (chat) model (see isInstructModel). */
    get instruct(): boolean {
        const metadata = this.model.fileInfo.metadata as {tokenizer?: {chat_template?: unknown}; general?: {name?: unknown}};
        return isInstructModel(metadata.tokenizer?.chat_template, [String(metadata.general?.name ?? ""), this.model.filename ?? ""]);
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

    /** One user turn in the model's chat template, ready for the model's answer. */
    chatPrompt(text: string): Promise<Token[]> {
        return llamaChatPrompt(this, text);
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

    /**
     * Sequences that fit the memory free now, in whole groups, at most 16 contexts' worth per
     * batch (creating a context takes a while; waves keep the first tokens coming).
     */
    batchCapacity(promptTokens: number, maxTokens: number, groupSize: number): number {
        const tokens = this.checkFits(promptTokens, maxTokens) + 1;
        const perContext = sequencesPerContext(groupSize);
        const budget = memoryBudget();
        const bytes = (sequences: number) => contextBytes(this.shape, sequences, tokens);
        if (bytes(groupSize) > budget) {
            const what = groupSize === 1 ? "one sequence" : `one group of ${groupSize} sequences`;
            throw new InvalidInputError(`${what} of ${tokens.toLocaleString("en-US")} tokens needs about ${megabytes(bytes(groupSize))} `
                + `of memory; ${megabytes(budget)} is free for it: use fewer tokens${groupSize > 1 ? " or particles" : ""}, or a smaller model`);
        }
        let sequences = 0;
        for (let context = 0; context < MAX_CONTEXTS_PER_BATCH; context++) {
            let add = perContext;
            while (add > 0 && bytes(add) * (context + 1) > budget) add -= groupSize;
            sequences += add;
            if (add < perContext) break;
        }
        return sequences;
    }

    async openBatch(prompt: readonly Token[], size: number, maxTokens: number, options: OpenBatchOptions = {}): Promise<SequenceBatch> {
        const groupSize = options.groupSize ?? 1;
        const prompts = sequencePrompts(prompt, size, options);
        const needed = this.checkFits(Math.max(...prompts.map((tokens) => tokens.length)), maxTokens);
        const perContext = sequencesPerContext(groupSize);
        const contexts: LlamaContext[] = [];
        try {
            for (let first = 0; first < size; first += perContext) {
                throwIfCancelled(options.signal);
                const sequences = Math.min(perContext, size - first);
                contexts.push(await this.model.createContext({
                    contextSize: needed + 1,
                    sequences,
                    threads: this.threads,
                    batchSize: batchSize(sequences, needed),
                    failedCreationRemedy: false
                }));
            }
            return new LlamaSequenceBatch(this.model, contexts, prompts, (token) => this.isEnd(token));
        } catch (error) {
            // A later context failing (memory, cancel) must not leak the earlier ones.
            await Promise.all(contexts.map((context) => context.dispose()));
            throw error;
        }
    }

    /** prompt + maxTokens, checked against the context; what one sequence must hold. */
    private checkFits(promptTokens: number, maxTokens: number): number {
        if (promptTokens >= this.contextSize)
            throw new InvalidInputError(`the prompt is ${promptTokens} tokens; the model's context holds ${this.contextSize}`);
        if (promptTokens + maxTokens > this.contextSize)
            throw new InvalidInputError(`prompt (${promptTokens} tokens) + max tokens (${maxTokens}) exceed the model's context of ${this.contextSize} tokens`);
        return promptTokens + maxTokens;
    }
}

/** A batch's contexts are created one after another: more than this makes a wave wait too long to start. */
const MAX_CONTEXTS_PER_BATCH = 16;

/** The parts of a model's shape that decide what a context costs. */
export interface ModelShape {
    /** Key and value bytes one token occupies in the cache (F16), over all layers. */
    readonly kvBytesPerToken: number;
    readonly vocabularySize: number;
}

export function modelShape(model: LlamaModel): ModelShape {
    const meta = model.fileInfo.architectureMetadata as {
        block_count?: number; embedding_length?: number;
        attention?: {head_count?: number; head_count_kv?: number | number[]; key_length?: number; value_length?: number};
    };
    const layers = meta.block_count ?? 1;
    const width = meta.embedding_length ?? 0;
    const heads = meta.attention?.head_count ?? 1;
    const kvHeadCount = meta.attention?.head_count_kv ?? heads;
    const kvHeads = Array.isArray(kvHeadCount) ? Math.max(...kvHeadCount) : kvHeadCount;
    const headDim = width / heads;
    const keyDim = (meta.attention?.key_length ?? headDim) * kvHeads;
    const valueDim = (meta.attention?.value_length ?? headDim) * kvHeads;
    const tokens = (model.fileInfo.metadata as {tokenizer?: {ggml?: {tokens?: readonly string[]}}}).tokenizer?.ggml?.tokens;
    return {kvBytesPerToken: layers * (keyDim + valueDim) * 2, vocabularySize: tokens?.length ?? 0};
}

/**
 * What a CPU context costs, fitted with room to spare to RSS measured on stories260K and the
 * SmolLM2-135M shape with 1 to 256 sequences of 64 to 1,100 tokens: per sequence its cache and
 * llama.cpp's bookkeeping for it (about 4 KB a cell, half a megabyte a stream) and its logits,
 * plus buffers of the compute graph.
 */
export function contextBytes(shape: ModelShape, sequences: number, tokensPerSequence: number): number {
    const perSequence = 512 * 1024 + tokensPerSequence * (1.5 * shape.kvBytesPerToken + 4096) + shape.vocabularySize * 8;
    return 64 * 2 ** 20 + sequences * perSequence;
}

/**
 * Memory free for one batch: what the system has available, less a reserve for everything else;
 * POWER_SAMPLING_MEMORY_MB caps it (a shared machine, or a test of a small one).
 */
export function memoryBudget(): number {
    const free = Math.max(0, os.freemem() - Math.max(512 * 2 ** 20, 0.1 * os.totalmem()));
    const cap = Number(process.env.POWER_SAMPLING_MEMORY_MB);
    return cap > 0 ? Math.min(free, cap * 2 ** 20) : free;
}

function megabytes(bytes: number): string {
    return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GB` : `${Math.ceil(bytes / 2 ** 20)} MB`;
}

/** Whole groups per context (llama.cpp holds at most 256 sequences in one), so a group's copies stay cache copies. */
function sequencesPerContext(groupSize: number): number {
    return Math.max(1, Math.floor(MAX_SEQUENCES_PER_CONTEXT / groupSize)) * groupSize;
}

/** Whole prompts in one batch; decoding steps carry one token per sequence. */
function batchSize(sequences: number, tokensPerSequence: number): number {
    return Math.max(sequences, Math.min(tokensPerSequence, 2048));
}
