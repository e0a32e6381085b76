/**
 * One chain (MH) or particle (SMC): its completion with the per-token log-probabilities the
 * samplers need, its sequence in the batch, its random stream and where its method has got to.
 */
import type {Continuation, Token} from "./model.js";
import type {Random} from "./random.js";

export class Chain {
    readonly tokens: Token[] = [];
    /** log p (temperature 1) of each token. */
    readonly logP: number[] = [];
    /** log q (the temperature the token was drawn at) of each token. */
    readonly logQ: number[] = [];
    /** Token positions where an accepted MH move first changed the completion, oldest first. */
    readonly changedPositions: number[] = [];
    /** MH: the block being grown or stepped (1-based; 0 before the first). */
    block = 0;
    /** MH: the step within the block (0 while the block grows). */
    mcmcStep = 0;
    /** SMC: log importance weight. */
    logWeight = 0;
    /** SMC: the particle at token 0 this one descends from. */
    origin: number;
    /** The method is done with this chain. */
    done = false;

    /** `sequence`: the chain's sequence in the batch; `random`: its own stream. */
    constructor(readonly sequence: number, readonly random: Random) {
        this.origin = sequence;
    }

    /** Ended with an end token (EOS, end of turn). */
    ended(isEnd: (token: Token) => boolean): boolean {
        return this.tokens.length > 0 && isEnd(this.tokens[this.tokens.length - 1]!);
    }

    append(continuation: Continuation): void {
        this.tokens.push(...continuation.tokens);
        this.logP.push(...continuation.logP);
        this.logQ.push(...continuation.logQ);
    }

    /** Replaces everything from `from` on with `continuation`, noting where the text first changed. */
    replaceSuffix(from: number, continuation: Continuation): void {
        const firstChange = firstDifference(this.tokens, continuation.tokens, from);
        if (firstChange !== undefined) this.changedPositions.push(firstChange);
        this.truncate(from);
        this.append(continuation);
    }

    /** Becomes a copy of `other`'s completion, weight and line (SMC resampling). */
    copyFrom(other: Chain): void {
        this.truncate(0);
        this.append(other);
        this.logWeight = other.logWeight;
        this.origin = other.origin;
    }

    private truncate(length: number): void {
        this.tokens.length = length;
        this.logP.length = length;
        this.logQ.length = length;
    }
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
