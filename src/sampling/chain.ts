import type {Continuation, Token} from "./model.js";

/** One Markov chain's current completion, with the per-token log-probabilities MH needs. */
export interface Chain {
    tokens: Token[];
    /** log p (temperature 1) of each token. */
    logP: number[];
    /** log q (the temperature the token was drawn at) of each token. */
    logQ: number[];
    /** Token positions where an accepted move first changed the completion, oldest first. */
    changedPositions: number[];
}

export function emptyChain(): Chain {
    return {tokens: [], logP: [], logQ: [], changedPositions: []};
}

export function hasEnded(chain: Chain, isEnd: (token: Token) => boolean): boolean {
    return chain.tokens.length > 0 && isEnd(chain.tokens[chain.tokens.length - 1]!);
}

export function appendContinuation(chain: Chain, continuation: Continuation): void {
    chain.tokens.push(...continuation.tokens);
    chain.logP.push(...continuation.logP);
    chain.logQ.push(...continuation.logQ);
}

/** Replaces everything from `from` on with `continuation`, noting where the text first changed. */
export function replaceSuffix(chain: Chain, from: number, continuation: Continuation): void {
    const firstChange = firstDifference(chain.tokens, continuation.tokens, from);
    if (firstChange !== undefined) chain.changedPositions.push(firstChange);
    chain.tokens.length = from;
    chain.logP.length = from;
    chain.logQ.length = from;
    appendContinuation(chain, continuation);
}

export function sumFrom(values: readonly number[], from = 0): number {
    let sum = 0;
    for (let i = from; i < values.length; i++) sum += values[i]!;
    return sum;
}

function firstDifference(tokens: readonly Token[], suffix: readonly Token[], from: number): number | undefined {
    const length = Math.max(tokens.length - from, suffix.length);
    for (let k = 0; k < length; k++) {
        if (tokens[from + k] !== suffix[k]) return from + k;
    }
    return undefined;
}
