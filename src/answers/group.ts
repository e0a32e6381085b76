/** The k alternatives of a solve grouped by final answer, and the choice of the sample to show. */
import type {PromptMode} from "../protocol/params.js";
import type {AnswerGroup} from "../protocol/results.js";
import {mathAnswerKey} from "./math-equivalence.js";
import {normaliseCode} from "./normalise.js";

const NO_ANSWER = "(no answer)";

/** The key under which equal answers coincide: normaliseCode for code, mathAnswerKey for the rest. */
export function answerKey(answer: string, mode: PromptMode): string {
    return mode === "code" ? normaliseCode(answer) : mathAnswerKey(answer);
}

/**
 * Sample indices by answerKey, in order of first appearance; samples with no answer, or one that
 * normalises to nothing, under "".
 */
export function indicesByAnswer(samples: readonly {readonly finalAnswer: string | null}[], mode: PromptMode): Map<string, number[]> {
    const byKey = new Map<string, number[]>();
    samples.forEach((sample, index) => {
        const key = sample.finalAnswer === null ? "" : answerKey(sample.finalAnswer, mode);
        const members = byKey.get(key);
        if (members) members.push(index);
        else byKey.set(key, [index]);
    });
    return byKey;
}

/**
 * Groups samples by answerKey, largest group first, ties broken by the likeliest member; samples
 * with no answer, or one that normalises to nothing, form a last group with key "".
 */
export function groupAlternatives<T extends {readonly finalAnswer: string | null; readonly logProb: number}>(
    samples: readonly T[],
    mode: PromptMode
): AnswerGroup[] {
    const best = (group: AnswerGroup) => samples[group.members[0]].logProb;
    return [...indicesByAnswer(samples, mode)].map(([key, members]): AnswerGroup => {
        // Stable sort: equally likely members stay in sample order.
        members.sort((a, b) => descending(samples[a].logProb, samples[b].logProb));
        // A non-empty key comes from a non-null answer.
        const answer = key === "" ? NO_ANSWER : samples[members[0]].finalAnswer!;
        return {key, answer, count: members.length, share: members.length / samples.length, members};
    }).sort((a, b) => Number(a.key === "") - Number(b.key === "") || b.count - a.count || descending(best(a), best(b)));
}

/** Comparator for descending order that, unlike b - a, also orders equal infinities (-Infinity log p). */
function descending(a: number, b: number): number {
    return a === b ? 0 : a > b ? -1 : 1;
}

/** The index into the samples of the one to show, given groupAlternatives' groups (in its order). */
export function chooseAnswer(groups: readonly AnswerGroup[]): number {
    // Majority vote (self-consistency): an answer reached by many independent samples is likelier
    // right than a single more likely outlier; the group's likeliest member represents it.
    if (groups.length === 0) throw new RangeError("chooseAnswer needs at least one sample");
    return (groups.find((group) => group.key !== "") ?? groups[0]).members[0];
}
