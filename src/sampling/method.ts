/**
 * What a sampling method runs against: drawing continuations of its chains from the model (all
 * requests of one call decode in step), copying one chain's cache to another, and the run's
 * counters. power.ts, smc.ts and direct.ts each take one of these and their chains.
 */
import type {SamplingParams} from "../protocol/params.js";
import type {Chain} from "./chain.js";
import type {Continuation, Token} from "./model.js";

export interface DrawRequest {
    readonly chain: Chain;
    /** Continue from the chain's first `from` tokens. */
    readonly from: number;
    /** Most tokens to draw; drawing stops earlier after an end token. */
    readonly maxTokens: number;
}

export interface Counters {
    mcmcSteps: number;
    acceptedSteps: number;
    resamplings: number;
}

export interface MethodContext {
    readonly params: SamplingParams;
    readonly counters: Counters;
    isEnd(token: Token): boolean;
    draw(requests: readonly DrawRequest[], temperature: number): Promise<Continuation[]>;
    /** Makes `to`'s sequence hold what `from`'s holds; the chains' own state is the method's to copy. */
    copySequence(from: Chain, to: Chain): Promise<void>;
}

/** Whether `chain` can grow: it has not ended and holds fewer than `limit` tokens. */
export function canGrow(context: MethodContext, chain: Chain, limit: number): boolean {
    return !chain.ended((token) => context.isEnd(token)) && chain.tokens.length < limit;
}

/** Grows each chain until it ends or holds `limit` tokens, all in step; returns the chains that grew with what each drew. */
export async function extend(context: MethodContext, chains: readonly Chain[], limit: number, temperature: number): Promise<[Chain, Continuation][]> {
    const growing = chains.filter((chain) => canGrow(context, chain, limit));
    if (growing.length === 0) return [];
    const continuations = await context.draw(growing.map((chain) => ({chain, from: chain.tokens.length, maxTokens: limit - chain.tokens.length})), temperature);
    return growing.map((chain, i) => {
        chain.append(continuations[i]!);
        return [chain, continuations[i]!];
    });
}
