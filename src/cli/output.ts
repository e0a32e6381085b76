/** How a solve result is shown: readable text for people, one JSON object for scripts. */
import type {SolveResult} from "../protocol/results.js";

/** The documented JSON shape: the backend's result, as the command line prints it. */
export function toJson(result: SolveResult): string {
    return JSON.stringify(result, null, 2);
}

export function toReadable(result: SolveResult): string {
    const lines: string[] = [];
    const count = result.samples.length;
    result.samples.forEach((s, i) => {
        const title = count > 1 ? `sample ${i + 1}/${count}` : "answer";
        const end = s.finishReason === "eos" ? "ended" : "cut at max tokens";
        lines.push(`── ${title} · ${s.tokenCount} tokens, ${end} · log p ${s.logProb.toFixed(2)}`);
        lines.push(s.text.length > 0 ? s.text : "(empty)");
        lines.push("");
    });
    const {stats, params} = result;
    const generated = result.samples.reduce((sum, s) => sum + s.tokenCount, 0);
    const method = result.method === "power" ? `power α=${params.alpha}, block ${params.blockSize}, ${params.mcmcSteps} steps`
        : result.method === "smc" ? `smc α=${params.alpha}, ${params.particles} particles`
        : result.method === "low-temperature" ? `low temperature ${(1 / params.alpha).toFixed(3)}` : result.method;
    const cost = generated > 0 ? ` (${(stats.proposedTokens / generated).toFixed(1)}x the ${generated} kept)` : "";
    const mcmc = stats.acceptanceRate === null ? "" : ` · ${stats.mcmcSteps} MCMC steps, ${(100 * stats.acceptanceRate).toFixed(0)}% accepted`;
    const smc = result.method === "smc" ? ` · ${stats.resamplings} resamplings` : "";
    lines.push(`${method} · seed ${params.seed} · ${stats.proposedTokens} tokens drawn${cost}${mcmc}${smc} · ${(stats.wallMs / 1000).toFixed(2)} s (load ${(stats.loadMs / 1000).toFixed(2)} s)`);
    return lines.join("\n");
}
