/**
 * The small model interface the samplers are written against. A model holds a batch of
 * sequences that share one prompt (or one per group of sequences); each sequence is a cache the implementation may reuse:
 * continuing from a prefix evaluates only what the sequence does not already hold.
 */
import type {Random} from "./random.js";

export type Token = number;

/** Tokens drawn by a model, with what the samplers need per token. */
export interface Continuation {
    readonly tokens: Token[];
    /** log p of each drawn token under the model at temperature 1. */
    readonly logP: number[];
    /** log q of each drawn token under the temperature it was drawn at (0 for greedy). */
    readonly logQ: number[];
}

export interface ContinueRequest {
    /** Index of the sequence in its batch. */
    readonly sequence: number;
    /** Generated tokens (after the prompt) to continue from. */
    readonly prefix: readonly Token[];
    /** Most tokens to draw; drawing stops earlier right after an end token. At least 1. */
    readonly maxTokens: number;
    /** The request's own random stream, so its draws do not depend on what else is in the batch. */
    readonly random: Random;
}

export interface DrawOptions {
    /** 0 draws greedily, 1 from the model itself, 1/alpha the power proposal. */
    readonly temperature: number;
    readonly signal?: AbortSignal;
    /** Called once per step in which at least one sequence drew a token. */
    readonly onStep?: (drawnTokens: number) => void;
}

export interface SequenceBatch {
    readonly size: number;
    /**
     * Continues several sequences in step (the model evaluates them as one batch) and
     * resolves when every request has stopped. Sequences not named keep their cache.
     */
    continue(requests: readonly ContinueRequest[], options: DrawOptions): Promise<Continuation[]>;
    /**
     * Makes sequence `to` hold what sequence `from` holds, without evaluating anything when both
     * are in one group (see OpenBatchOptions). Neither may be continuing meanwhile.
     */
    copy(from: number, to: number): Promise<void>;
    dispose(): Promise<void>;
}

export interface OpenBatchOptions {
    /** Sequences [k*groupSize, (k+1)*groupSize) share a cache store, so copies among them are cheap. */
    readonly groupSize?: number;
    /**
     * Group k's own prompt, in place of `prompt`: one batch for several problems (an evaluation).
     * One entry per group; a model that evaluates prompts must honour it.
     */
    readonly groupPrompts?: readonly (readonly Token[])[];
    /** Checked while the batch's resources are allocated. */
    readonly signal?: AbortSignal;
}

export interface LanguageModel {
    /**
     * Whether a completion stops after `token`: EOS, or another end-of-generation token the
     * model defines (a chat model's end of turn, for one).
     */
    isEnd(token: Token): boolean;
    /**
     * The most sequences (a multiple of `groupSize`) one batch can hold with the memory free now,
     * each with `promptTokens` + `maxTokens`. Throws InvalidInputError, with what it would need,
     * when not even one group fits.
     */
    batchCapacity(promptTokens: number, maxTokens: number, groupSize: number): number;
    /**
     * Opens `size` sequences, each starting with `prompt` (BOS included when the model wants it),
     * or with its group's prompt (OpenBatchOptions.groupPrompts), and able to hold `maxTokens`
     * generated tokens after it.
     */
    openBatch(prompt: readonly Token[], size: number, maxTokens: number, options?: OpenBatchOptions): Promise<SequenceBatch>;
}

/** Each of a batch's `size` sequences' prompt: `prompt`, or its group's (OpenBatchOptions.groupPrompts), checked. */
export function sequencePrompts(prompt: readonly Token[], size: number, options: OpenBatchOptions): (readonly Token[])[] {
    const groupSize = options.groupSize ?? 1;
    if (options.groupPrompts !== undefined && options.groupPrompts.length !== Math.ceil(size / groupSize))
        throw new RangeError(`${Math.ceil(size / groupSize)} groups need as many prompts, got ${options.groupPrompts.length}`);
    return Array.from({length: size}, (_, sequence) => options.groupPrompts?.[Math.floor(sequence / groupSize)] ?? prompt);
}
