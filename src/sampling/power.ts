/**
 * Power sampling by Metropolis-Hastings (Karan & Du 2025), exactly as in
 * shared/notes/power-sampling.md: target p^alpha, proposal q = the model at temperature 1/alpha,
 * blockwise growth, uniform resampling position, the whole old suffix against the whole new one,
 * and the log n - log m Hastings term for unequal lengths. One function per move.
 */
import {type Chain, endsWith, replaceSuffix, sumFrom} from "./chain.js";
import type {Continuation} from "./model.js";
import {throwIfCancelled} from "./errors.js";
import type {SamplingRun} from "./run.js";

export async function runPower(run: SamplingRun): Promise<void> {
    const {params, chains} = run;
    const blocks = Math.ceil(params.maxTokens / params.blockSize);
    for (let block = 1; block <= blocks; block++) {
        // A chain that ended with EOS after an earlier block's MCMC steps is finished.
        const active = chains.flatMap((chain, index) => (endsWith(chain, run.eosToken) ? [] : [index]));
        if (active.length === 0) break;
        const limit = Math.min(block * params.blockSize, params.maxTokens);
        run.progress.block = block;
        run.progress.blocks = blocks;
        run.progress.mcmcStep = 0;
        // Grow each chain from the proposal until EOS or the block's length limit.
        await run.extend(active, limit);
        for (let step = 1; step <= params.mcmcSteps; step++) {
            run.progress.mcmcStep = step;
            await metropolisStep(run, active, limit);
        }
    }
}

/** One MH step for every active chain, the proposals drawn in step. */
async function metropolisStep(run: SamplingRun, active: number[], limit: number): Promise<void> {
    const {chains} = run;
    const positions = active.map((index) => run.random.int(chains[index]!.tokens.length));
    const proposals = await run.draw(active.map((index, k) => ({
        sequence: index,
        prefix: chains[index]!.tokens.slice(0, positions[k]),
        maxTokens: limit - positions[k]!
    })));
    throwIfCancelled(run.signal);
    active.forEach((index, k) => {
        const chain = chains[index]!;
        const accepted = Math.log(run.random.float()) < logAcceptanceRatio(chain, positions[k]!, proposals[k]!, run.params.alpha);
        if (accepted) replaceSuffix(chain, positions[k]!, proposals[k]!);
        run.progress.mcmcSteps++;
        if (accepted) run.progress.acceptedSteps++;
    });
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
