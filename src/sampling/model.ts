/**
 * The small model interface the samplers are written against. A model holds a batch of
 * sequences that share one prompt; each sequence is a cache the implementation may reuse:
 * continuing from a prefix evaluates only what the sequence does not already hold.
 */
import type {Random} from "./random.js";

export type Token = number;

/** Tokens drawn by a model, with what Metropolis-Hastings needs per token. */
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
    /** Most tokens to draw; drawing stops earlier right after EOS. At least 1. */
    readonly maxTokens: number;
}

export interface DrawOptions {
    /** 0 draws greedily, 1 from the model itself, 1/alpha the power proposal. */
    readonly temperature: number;
    /** The only source of randomness, so that a seed reproduces a run. */
    readonly random: Random;
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
    dispose(): Promise<void>;
}

export interface LanguageModel {
    /**
     * Whether a completion stops after `token`: EOS, or another end-of-generation token the
     * model defines (a chat model's end of turn, for one).
     */
    isEnd(token: Token): boolean;
    /**
     * Opens `size` sequences, each starting with `prompt` (BOS included when the model wants it)
     * and able to hold `maxTokens` generated tokens after it.
     */
    openBatch(prompt: readonly Token[], size: number, maxTokens: number): Promise<SequenceBatch>;
}
