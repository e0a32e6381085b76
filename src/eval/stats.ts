/**
 * The figures of an evaluation: pass@k by the unbiased estimator, accuracy with a confidence
 * interval, majority-vote and weight-vote accuracy. Pure functions over per-problem results.
 */
import {chooseAnswer, groupAlternatives, indicesByAnswer} from "../answers/group.js";
import type {PromptMode} from "../protocol/params.js";

/** One problem's samples: how many were drawn and how many of them are correct. */
export interface ProblemTally {
    readonly samples: number;
    readonly correct: number;
}

/** z for a two-sided 95 % interval. */
export const Z_95 = 1.959963984540054;

/**
 * The unbiased pass@k estimator of Chen et al. (2021), 1 - C(n-c, k) / C(n, k): the chance that k of
 * the n samples drawn without replacement include a correct one. Computed as the product
 * Π_{i<k} (n-c-i)/(n-i), whose factors are all in [0, 1], so it neither overflows nor loses
 * precision for any n.
 */
export function passAtK(n: number, c: number, k: number): number {
    if (!Number.isInteger(n) || !Number.isInteger(c) || !Number.isInteger(k) || c < 0 || c > n || k < 1 || k > n)
        throw new RangeError(`pass@k needs integers 0 <= c <= n and 1 <= k <= n, got n=${n}, c=${c}, k=${k}`);
    if (n - c < k) return 1;
    let allWrong = 1;
    for (let i = 0; i < k; i++) allWrong *= (n - c - i) / (n - i);
    return 1 - allWrong;
}

/** pass@k averaged over problems for every k from 1 to the fewest samples any problem has, keyed "1".."K". */
export function passAtKCurve(problems: readonly ProblemTally[]): Record<string, number> {
    const samples = Math.min(...problems.map((problem) => problem.samples));
    if (problems.length === 0 || samples < 1) throw new RangeError("pass@k needs at least one problem with at least one sample each");
    const curve: Record<string, number> = {};
    for (let k = 1; k <= samples; k++) curve[k] = mean(problems.map((problem) => passAtK(problem.samples, problem.correct, k)));
    return curve;
}

export interface AccuracyEstimate {
    /** Mean over problems of each problem's share of correct samples (pass@1). */
    readonly accuracy: number;
    readonly low: number;
    readonly high: number;
    /** The sample size the interval counts as independent: the problems, up to all samples. */
    readonly effectiveSamples: number;
}

/**
 * Accuracy with a Wilson score interval (95 % by default). Wilson rather than a bootstrap: it keeps
 * its coverage for the small problem counts of `--limit` runs and near 0 and 1, where a percentile
 * bootstrap collapses to a point, and it needs no random numbers. Samples of one problem are not
 * independent (an easy problem is solved by all of them), so the interval counts Kish's effective
 * sample size N p(1-p) / s², with s² the variance of the per-problem accuracies (Korn & Graubard's
 * design-effect Wilson interval): N when a problem's samples always agree, all samples when they
 * vary as independent draws would; between N and the sample count. With one sample per problem it
 * is the plain Wilson interval. When every sample is right (or every one wrong) it counts N.
 */
export function accuracyInterval(problems: readonly ProblemTally[], z = Z_95): AccuracyEstimate {
    if (problems.length === 0) throw new RangeError("accuracy needs at least one problem");
    for (const {samples, correct} of problems) {
        if (!Number.isInteger(samples) || !Number.isInteger(correct) || samples < 1 || correct < 0 || correct > samples)
            throw new RangeError(`a problem needs integers 0 <= correct <= samples, samples >= 1; got ${correct} of ${samples}`);
    }
    const accuracies = problems.map((problem) => problem.correct / problem.samples);
    const p = mean(accuracies);
    const n = problems.length;
    const total = problems.reduce((sum, problem) => sum + problem.samples, 0);
    const spread = mean(accuracies.map((a) => (a - p) ** 2));
    const effective = p === 0 || p === 1 ? n : spread === 0 ? total : Math.min(total, n * p * (1 - p) / spread);
    const z2 = z * z;
    const centre = (p + z2 / (2 * effective)) / (1 + z2 / effective);
    const half = z * Math.sqrt(p * (1 - p) / effective + z2 / (4 * effective * effective)) / (1 + z2 / effective);
    return {accuracy: p, low: Math.max(0, centre - half), high: Math.min(1, centre + half), effectiveSamples: effective};
}

export interface VotingSample {
    readonly finalAnswer: string | null;
    /** Base-model log p of the sample: it breaks ties between equally large groups. */
    readonly logProb: number;
    readonly correct: boolean;
}

/**
 * Majority-vote accuracy: per problem, the answer the product shows (chooseAnswer over
 * groupAlternatives: the largest group of equal answers, ties broken by the group whose likeliest
 * member has the higher log p, then by first appearance; samples without an answer never outvote
 * one with an answer), graded by that group's likeliest member; averaged over problems.
 */
export function majorityVoteAccuracy(problems: readonly (readonly VotingSample[])[], mode: PromptMode): number {
    return mean(problems.map((samples) => {
        if (samples.length === 0) throw new RangeError("majority vote needs at least one sample per problem");
        return Number(samples[chooseAnswer(groupAlternatives(samples, mode))].correct);
    }));
}

export interface WeightedSample {
    readonly finalAnswer: string | null;
    /** The sample's normalised importance weight (e.g. an SMC particle's); >= 0. */
    readonly weight: number;
    readonly correct: boolean;
}

/**
 * Weight-vote accuracy: per problem, the answer whose samples carry the largest total weight wins
 * (ties: more samples, then first appearance; samples without an answer only when no sample has
 * one), graded by its heaviest sample (the first of equals); averaged over problems.
 */
export function weightVoteAccuracy(problems: readonly (readonly WeightedSample[])[], mode: PromptMode): number {
    return mean(problems.map((samples) => {
        if (samples.length === 0) throw new RangeError("weight vote needs at least one sample per problem");
        for (const {weight} of samples) if (!(weight >= 0) || !Number.isFinite(weight)) throw new RangeError(`weights must be finite and >= 0, got ${weight}`);
        const groups = [...indicesByAnswer(samples, mode)].map(([key, members]) =>
            ({key, members, weight: members.reduce((sum, index) => sum + samples[index].weight, 0)}));
        const answered = groups.filter((group) => group.key !== "");
        const candidates = answered.length > 0 ? answered : groups;
        const winner = candidates.reduce((best, group) =>
            group.weight > best.weight || (group.weight === best.weight && group.members.length > best.members.length) ? group : best);
        const heaviest = winner.members.reduce((best, index) => samples[index].weight > samples[best].weight ? index : best);
        return Number(samples[heaviest].correct);
    }));
}

function mean(values: readonly number[]): number {
    return values.reduce((sum, value) => sum + value, 0) / values.length;
}
