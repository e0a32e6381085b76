/**
 * Power sampling by Metropolis-Hastings (Karan & Du 2025), exactly as in
 * shared/notes/power-sampling.md: target p^alpha, proposal q = the model at temperature 1/alpha,
 * blockwise growth, uniform resampling position, the whole old suffix against the whole new one,
 * and the log n - log m Hastings term for unequal lengths. One function per move.
 */
import {type Chain, hasEnded, replaceSuffix, sumFrom} from "./chain.js";
import type {Continuation} from "./model.js";
import type {SamplingRun} from "./run.js";

/** Runs chain `index` block by block until it ends with EOS after a block's steps, or the last block. */
export async function runPower(run: SamplingRun, index: number): Promise<void> {
    const {params} = run;
    const chain = run.chains[index]!;
    for (let block = 1; block <= run.blocks && !hasEnded(chain, run.isEnd); block++) {
        const limit = Math.min(block * params.blockSize, params.maxTokens);
        run.moveTo(index, block, 0);
        // Grow the chain from the proposal until EOS or the block's length limit.
        await run.extend(index, limit);
        for (let step = 1; step <= params.mcmcSteps; step++) {
            run.moveTo(index, block, step);
            await metropolisStep(run, index, limit);
        }
    }
    run.finish(index);
}

/** One MH step: resample the suffix from a uniform position, accept with probability min(1, r). */
async function metropolisStep(run: SamplingRun, index: number, limit: number): Promise<void> {
    const chain = run.chains[index]!;
    const random = run.random(index);
    const position = random.int(chain.tokens.length);
    const proposal = await run.draw(index, chain.tokens.slice(0, position), limit - position);
    const accepted = Math.log(random.float()) < logAcceptanceRatio(chain, position, proposal, run.params.alpha);
    if (accepted) replaceSuffix(chain, position, proposal);
    run.countStep(accepted);
    run.reportProgress();
}

/**
 * log r for replacing chain.tokens[i..n) by the proposal (new length m):
 * alpha*[log p(x') - log p(x)] + [log q(x) - log q(x')] + log n - log m.
 */
export function logAcceptanceRatio(chain: Chain, i: number, proposal: Continuation, alpha: number): number {
    const n = chain.tokens.length;
    const m = i + proposal.tokens.length;
    return alpha * (sumFrom(proposal.logP) - sumFrom(chain.logP, i))
        + (sumFrom(chain.logQ, i) - sumFrom(proposal.logQ))
        + Math.log(n) - Math.log(m);
}
