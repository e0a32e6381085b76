/**
 * Power sampling by Metropolis-Hastings (Karan & Du 2025), exactly as in
 * shared/notes/power-sampling.md: target p^alpha, proposal q = the model at temperature 1/alpha,
 * blockwise growth, uniform resampling position, the whole old suffix against the whole new one,
 * and the log n - log m Hastings term for unequal lengths. One function per move.
 */
import {type Chain, sumFrom} from "./chain.js";
import {extend, type MethodContext} from "./method.js";
import type {Continuation} from "./model.js";

export function blockCount(params: {readonly blockSize: number; readonly maxTokens: number}): number {
    return Math.ceil(params.maxTokens / params.blockSize);
}

/** Runs one chain block by block until it ends with an end token after a block's steps, or the last block. */
export async function runPower(context: MethodContext, chain: Chain): Promise<void> {
    const {params} = context;
    const blocks = blockCount(params);
    for (let block = 1; block <= blocks && !chain.ended((token) => context.isEnd(token)); block++) {
        const limit = Math.min(block * params.blockSize, params.maxTokens);
        chain.block = block;
        chain.mcmcStep = 0;
        // Grow the chain from the proposal until it ends or reaches the block's length limit.
        await extend(context, [chain], limit, 1 / params.alpha);
        for (let step = 1; step <= params.mcmcSteps; step++) {
            chain.mcmcStep = step;
            await metropolisStep(context, chain, limit);
        }
    }
    chain.done = true;
}

/** One MH step: resample the suffix from a uniform position, accept with probability min(1, r). */
async function metropolisStep(context: MethodContext, chain: Chain, limit: number): Promise<void> {
    const position = chain.random.int(chain.tokens.length);
    const [proposal] = await context.draw([{chain, from: position, maxTokens: limit - position}], 1 / context.params.alpha);
    const accepted = Math.log(chain.random.float()) < logAcceptanceRatio(chain, position, proposal!, context.params.alpha);
    if (accepted) chain.replaceSuffix(position, proposal!);
    context.counters.mcmcSteps++;
    if (accepted) context.counters.acceptedSteps++;
}

/**
 * log r for replacing chain.tokens[i..n) by the proposal (new length m):
 * alpha*[log p(x') - log p(x)] + [log q(x) - log q(x')] + log n - log m.
 */
export function logAcceptanceRatio(chain: Pick<Chain, "tokens" | "logP" | "logQ">, i: number, proposal: Continuation, alpha: number): number {
    const n = chain.tokens.length;
    const m = i + proposal.tokens.length;
    return alpha * (sumFrom(proposal.logP) - sumFrom(chain.logP, i))
        + (sumFrom(chain.logQ, i) - sumFrom(proposal.logQ))
        + Math.log(n) - Math.log(m);
}
