/**
 * The demo: the note's pivotal two-branch chain as a real GGUF, sampled by standard, low
 * temperature and power sampling with the same seed, next to the exact answers.
 */
import {enumerateCompletions, powerDistribution, temperedDistribution, type Distribution} from "../sampling/exact.js";
import {resolveParams, type Method} from "../protocol/params.js";
import {formatPercent} from "../protocol/figures.js";
import {solve} from "../llama/solve.js";
import {markovNextTokenDistribution} from "../testmodels/markov-exact.js";
import {MARKOV_EOS, markovVocabulary, PIVOTAL_CHAIN} from "../testmodels/markov.js";
import {builtinModelPath} from "./cache.js";
import {withModel} from "./session.js";

export interface DemoOptions {
    readonly cacheDir: string;
    readonly samples?: number;
    readonly seed?: number;
}

const ALPHA = 4;
const MAX_TOKENS = 8;
const VOCABULARY = markovVocabulary(PIVOTAL_CHAIN);
const B_ID = VOCABULARY.indexOf("B");
const EOS_ID = VOCABULARY.indexOf(MARKOV_EOS);

export async function runDemo(options: DemoOptions): Promise<void> {
    const samples = options.samples ?? 200;
    const seed = options.seed ?? 1;
    const next = markovNextTokenDistribution(PIVOTAL_CHAIN);
    const exact: Record<string, Distribution> = {
        standard: temperedDistribution(next, EOS_ID, MAX_TOKENS, 1),
        "low-temperature": temperedDistribution(next, EOS_ID, MAX_TOKENS, 1 / ALPHA),
        power: powerDistribution(enumerateCompletions(next, EOS_ID, MAX_TOKENS), ALPHA)
    };
    const modelPath = await builtinModelPath(options.cacheDir);
    const out = (line = "") => process.stdout.write(`${line}\n`);
    out("Power sampling demo: the pivotal two-branch chain (a real llama.cpp model written by this project)");
    out("  first token A (p 0.6) then any of 10 tokens (0.1 each), or B (p 0.4) then one certain token.");
    out(`  Which branch wins? ${samples} samples per method, seed ${seed}, alpha ${ALPHA}.`);
    out();
    out(`  ${"method".padEnd(26)}${"starts with B".padStart(14)}${"exact".padStart(9)}${"mean log p".padStart(12)}${"tokens drawn".padStart(14)}${"time".padStart(9)}`);
    await withModel(modelPath, {}, async (model, _loadMs, signal) => {
        const runs: [Method, string, number][] = [["standard", "standard (temperature 1)", 0], ["low-temperature", `low temperature (1/${ALPHA})`, 0], ["power", "power sampling (MH)", 100]];
        for (const [method, label, mcmcSteps] of runs) {
            const params = resolveParams({method, alpha: ALPHA, blockSize: MAX_TOKENS, maxTokens: MAX_TOKENS, mcmcSteps, samples, seed});
            const result = await solve(model, "", "raw", params, {signal});
            const shareB = result.samples.filter((s) => s.text.startsWith("B")).length / samples;
            const exactB = [...exact[method]!].filter(([key]) => key.startsWith(`${B_ID},`)).reduce((sum, [, p]) => sum + p, 0);
            const meanLogP = result.samples.reduce((sum, s) => sum + s.logProb, 0) / samples;
            out(`  ${label.padEnd(26)}${formatPercent(shareB, 1).padStart(14)}${formatPercent(exactB, 1).padStart(9)}${meanLogP.toFixed(2).padStart(12)}`
                + `${String(result.stats.proposedTokens).padStart(14)}${`${(result.stats.wallMs / 1000).toFixed(1)} s`.padStart(9)}`);
        }
    });
    out();
    out("Low temperature sharpens each token on its own and still prefers A, whose many mediocre");
    out("continuations add up; the power distribution p^alpha weighs whole completions and picks B.");
    out("Try: power-sampling solve --samples 5 --mcmc-steps 100 --json \"\"");
}

