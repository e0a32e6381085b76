/**
 * Exact distributions over whole completions of a small model, by enumeration: the ground truth
 * that sampler tests and the demo compare draws against.
 */
import type {Token} from "./model.js";

/** Next-token probabilities at temperature 1, indexed by token id. */
export type NextTokenDistribution = (prefix: readonly Token[]) => ArrayLike<number>;

export interface ExactCompletion {
    /** Generated tokens, EOS included when the completion ended with it. */
    readonly tokens: Token[];
    readonly logP: number;
}

/** Every completion of at most `maxTokens` tokens that ends with EOS or at the limit. */
export function enumerateCompletions(next: NextTokenDistribution, eosToken: Token, maxTokens: number): ExactCompletion[] {
    const completions: ExactCompletion[] = [];
    const visit = (tokens: Token[], logP: number) => {
        if (tokens.length === maxTokens || tokens[tokens.length - 1] === eosToken) {
            completions.push({tokens, logP});
            return;
        }
        const probabilities = next(tokens);
        for (let token = 0; token < probabilities.length; token++) {
            const p = probabilities[token]!;
            if (p > 0) visit([...tokens, token], logP + Math.log(p));
        }
    };
    visit([], 0);
    return completions;
}

export type Distribution = Map<string, number>;

export function completionKey(tokens: readonly Token[]): string {
    return tokens.join(",");
}

/** pi(x) proportional to p(x)^alpha over the enumerated completions. */
export function powerDistribution(completions: readonly ExactCompletion[], alpha: number): Distribution {
    const maxLog = Math.max(...completions.map((c) => alpha * c.logP));
    const weights = completions.map((c) => Math.exp(alpha * c.logP - maxLog));
    const total = weights.reduce((a, b) => a + b, 0);
    return new Map(completions.map((c, i) => [completionKey(c.tokens), weights[i]! / total]));
}

/** Token-by-token sampling at `temperature` (0 = greedy, 1 = the model). */
export function temperedDistribution(next: NextTokenDistribution, eosToken: Token, maxTokens: number,
    temperature: number): Distribution {
    const tempered: NextTokenDistribution = (prefix) => temper(next(prefix), temperature);
    return new Map(enumerateCompletions(tempered, eosToken, maxTokens)
        .map((c) => [completionKey(c.tokens), Math.exp(c.logP)]));
}

export function temper(probabilities: ArrayLike<number>, temperature: number): number[] {
    const p = Array.from(probabilities);
    if (temperature === 0) {
        const best = p.indexOf(Math.max(...p));
        return p.map((_, i) => (i === best ? 1 : 0));
    }
    const weights = p.map((x) => (x > 0 ? Math.pow(x, 1 / temperature) : 0));
    const total = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => w / total);
}

/** Empirical distribution of drawn completions (EOS included in the keys as in enumeration). */
export function empiricalDistribution(draws: readonly (readonly Token[])[]): Distribution {
    const counts = new Map<string, number>();
    for (const tokens of draws) counts.set(completionKey(tokens), (counts.get(completionKey(tokens)) ?? 0) + 1);
    for (const [key, count] of counts) counts.set(key, count / draws.length);
    return counts;
}

export function totalVariation(a: Distribution, b: Distribution): number {
    let sum = 0;
    for (const key of new Set([...a.keys(), ...b.keys()])) sum += Math.abs((a.get(key) ?? 0) - (b.get(key) ?? 0));
    return sum / 2;
}

/**
 * What blockwise MH converges to with enough steps per block: after block b (limit L_b) a chain
 * sits at p^alpha over completions of at most L_b tokens; the chains that ended with EOS stop
 * there, the rest carry into block b+1. Equals powerDistribution when one block covers maxTokens.
 */
export function blockwisePowerDistribution(next: NextTokenDistribution, eosToken: Token, alpha: number,
    blockSize: number, maxTokens: number): Distribution {
    const result: Distribution = new Map();
    let carried = 1;
    for (let limit = Math.min(blockSize, maxTokens); ; limit = Math.min(limit + blockSize, maxTokens)) {
        const completions = enumerateCompletions(next, eosToken, limit);
        const block = powerDistribution(completions, alpha);
        const last = limit === maxTokens;
        let unfinished = 0;
        for (const completion of completions) {
            const key = completionKey(completion.tokens);
            const ended = completion.tokens[completion.tokens.length - 1] === eosToken;
            if (ended || last) result.set(key, (result.get(key) ?? 0) + carried * block.get(key)!);
            else unfinished += block.get(key)!;
        }
        if (last) return result;
        carried *= unfinished;
    }
}
