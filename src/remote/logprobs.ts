/**
 * log q of a drawn token from what a server reports: its log p at temperature 1 over the full
 * vocabulary, and the log p of the K likeliest tokens. The proposal at temperature T draws
 * q(v) = p(v)^a / Z with a = 1/T and Z = sum_v p(v)^a over the whole vocabulary; the top K give
 * Z up to the tokens the server left out, whose sum is bounded: they number at most V - K, hold
 * the probability the top K leave (R), and none is likelier than the K-th (p_K), so
 *   S_K <= Z <= S_K + min(R, (V - K) p_K) p_K^(a - 1)        (a >= 1, S_K the top K's sum).
 * log Z is taken at the middle of that interval, so log q is off by at most half its width: the
 * bound reported with it.
 */

/** What a server reports for one drawn token (temperature 1, full vocabulary). */
export interface ReportedProbabilities {
    /** log p of the drawn token. */
    readonly logP: number;
    /** log p of the K likeliest tokens, likeliest first. */
    readonly topLogP: readonly number[];
}

export interface ProposalLogProb {
    /** log q of the drawn token at the draw temperature. */
    readonly logQ: number;
    /** |logQ - the exact log q| is at most this (0: exact). */
    readonly bound: number;
}

/**
 * Allowance for rounding in what the server reports: each probability is a float32 (about 2^-24
 * relative) sent as its logarithm, itself a float32 (|log p| * 2^-24 absolute).
 */
function roundingAllowance(logP: number): number {
    return Math.exp(logP) * (Math.abs(logP) + 2) * 2 ** -23;
}

/** log q and its certified bound for a token drawn at `temperature` (0: greedy, 1: the model itself). */
export function proposalLogProb(reported: ReportedProbabilities, temperature: number, vocabularySize: number): ProposalLogProb {
    if (temperature === 0) return {logQ: 0, bound: 0};
    if (temperature === 1) return {logQ: reported.logP, bound: 0};
    const a = 1 / temperature;
    const {interval} = logNormaliser(reported.topLogP, a, vocabularySize);
    const [low, high] = interval;
    return {logQ: a * reported.logP - (low + high) / 2, bound: (high - low) / 2};
}

/** [lower, upper] bounds on log Z = log sum_v p(v)^a from the top K log-probabilities. */
export function logNormaliser(topLogP: readonly number[], a: number, vocabularySize: number): {interval: [number, number]} {
    if (topLogP.length === 0) throw new Error("no top log-probabilities to bound log Z with");
    const logS = logSumExp(topLogP.map((logP) => a * logP));
    const missing = vocabularySize - topLogP.length;
    if (missing <= 0) return {interval: [logS, logS]};
    let reported = 0;
    let allowance = 0;
    for (const logP of topLogP) {
        reported += Math.exp(logP);
        allowance += roundingAllowance(logP);
    }
    const logSmallest = topLogP[topLogP.length - 1]!;
    const rest = Math.min(Math.max(0, 1 - reported) + allowance, missing * Math.exp(logSmallest));
    // In logs: at a = 64 the terms underflow a double.
    const logTail = Math.log(rest) + (a - 1) * logSmallest;
    // Z <= sum_v p(v) = 1 whatever the top K say.
    return {interval: [logS, Math.min(0, logS + Math.log1p(Math.exp(logTail - logS)))]};
}

function logSumExp(values: readonly number[]): number {
    const max = Math.max(...values);
    if (max === -Infinity) return -Infinity;
    return max + Math.log(values.reduce((sum, value) => sum + Math.exp(value - max), 0));
}
