/**
 * Final answers of sampled completions: extraction, normalisation to a grouping key, grouping of
 * the k alternatives by answer, and the choice of the sample to show. Pure functions.
 */
import type {PromptMode} from "../protocol/params.js";
import type {AnswerGroup} from "../protocol/results.js";

const NO_ANSWER = "(no answer)";

/**
 * The last balanced \boxed{...} or \fbox{...} in any mode (the math prompt asks for one, and a
 * model that boxes an answer means it); else, in code mode, the last non-blank fenced code block,
 * or the whole text when it has none (code mode continues a stub, so the completion is the code);
 * else the last non-empty line. null for blank text.
 */
export function extractFinalAnswer(text: string, mode: PromptMode): string | null {
    if (text.trim() === "") return null;
    const boxed = lastBoxed(text);
    if (boxed !== null) return boxed;
    if (mode === "code") return lastCodeBlock(text) ?? trimBlankLines(text);
    return text.split(/\r?\n/).map((line) => line.trim()).filter((line) => line !== "").at(-1) ?? null;
}

function lastBoxed(text: string): string | null {
    let last: string | null = null;
    let end = -1;
    for (const match of text.matchAll(/\\(?:boxed|fbox)\s*\{/g)) {
        if (match.index < end) continue; // a box inside the previous box is part of its content
        const open = match.index + match[0].length - 1;
        const close = closingBrace(text, open);
        if (close < 0) continue; // unterminated, e.g. cut off by the token limit
        const content = text.slice(open + 1, close).trim();
        if (content !== "") last = content;
        end = close;
    }
    return last;
}

/** Index of the `}` matching the `{` at `open`, or -1. */
function closingBrace(text: string, open: number): number {
    let depth = 0;
    for (let i = open; i < text.length; i++) {
        const c = text[i];
        if (c === "\\") i++; // \{ and \} are literal braces, not grouping
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) return i;
    }
    return -1;
}

/** CommonMark-style backtick fences; an unterminated last fence runs to the end of the text. */
function lastCodeBlock(text: string): string | null {
    const blocks: string[] = [];
    let open: {fence: string; lines: string[]} | null = null;
    for (const line of text.split(/\r?\n/)) {
        const fence = /^ {0,3}(`{3,})(.*)$/.exec(line);
        if (open === null) {
            if (fence) open = {fence: fence[1], lines: []};
        } else if (fence && fence[1].length >= open.fence.length && fence[2].trim() === "") {
            blocks.push(open.lines.join("\n"));
            open = null;
        } else {
            open.lines.push(line);
        }
    }
    if (open !== null) blocks.push(open.lines.join("\n"));
    return blocks.map(trimBlankLines).filter((block) => block !== "").at(-1) ?? null;
}

/** Drops leading and trailing blank lines, keeping the first line's indentation. */
function trimBlankLines(text: string): string {
    return text.replace(/^\s*\n|\s+$/g, "");
}

const TEXT_WRAPPER = /\\(?:text|textrm|textbf|mathrm|mbox)\s*\{/g;
/** Spacing and sizing commands that do not change the value; `\\` (a line break) is kept whole. */
const LATEX_NOISE = /(\\\\)|\\(?:left|right)(?:\.|(?![a-zA-Z]))|\\(?:displaystyle|q?quad)(?![a-zA-Z])|\\(?:[,;:!]|\s)|~/g;
const THOUSANDS = /(?<![\d.,])\d{1,3}(?:,\d{3})+(?!\d|,\d)/g;
const DECIMAL = /(?<![\d.])(\d+)\.(\d+)(?![\d.])/g;
/** A unary minus: not after an operand. */
const NEGATIVE_ZERO = /(?<![\w.)}\]])-0(?![\w.])/g;

/**
 * A key under which equal math or prose answers coincide: LaTeX presentation, number formatting
 * and all whitespace are dropped. Idempotent: the rules feed one another (`$5$.` needs the period
 * gone before the dollars), so they run to a fixed point.
 */
export function normaliseAnswer(answer: string): string {
    for (let key = answer; ;) {
        const next = normaliseOnce(key);
        if (next === key) return key;
        key = next;
    }
}

function normaliseOnce(answer: string): string {
    return unwrapText(answer.trim().replace(/^\$+([^$]*)\$+$/, "$1"))
        .replace(LATEX_NOISE, (_, lineBreak: string | undefined) => lineBreak ?? "")
        .replace(/\\[dt]frac(?![a-zA-Z])/g, "\\frac")
        .replace(/\s+/g, "")
        .replace(/\.+$/, "")
        .replace(/^\+/, "")
        .replace(THOUSANDS, (number) => number.replaceAll(",", ""))
        .replace(DECIMAL, (_, whole: string, fraction: string) => {
            const kept = fraction.replace(/0+$/, "");
            return kept === "" ? whole : `${whole}.${kept}`;
        })
        .replace(NEGATIVE_ZERO, "0");
}

/** Replaces the first balanced \text{...}-like wrapper by its content (the fixed point does the rest). */
function unwrapText(answer: string): string {
    for (const match of answer.matchAll(TEXT_WRAPPER)) {
        const open = match.index + match[0].length - 1;
        const close = closingBrace(answer, open);
        if (close >= 0) return answer.slice(0, match.index) + answer.slice(open + 1, close) + answer.slice(close + 1);
    }
    return answer;
}

/** A key for code answers: only line endings and trailing or blank-line whitespace, which never matter. */
export function normaliseCode(code: string): string {
    return code.replace(/\r\n?/g, "\n").split("\n").map((line) => line.trimEnd()).join("\n").replace(/^\n+|\n+$/g, "");
}

export function answerKey(answer: string, mode: PromptMode): string {
    return mode === "code" ? normaliseCode(answer) : normaliseAnswer(answer);
}

/**
 * Groups samples by answerKey, largest group first, ties broken by the likeliest member; samples
 * with no answer, or one that normalises to nothing, form a last group with key "".
 */
export function groupAlternatives<T extends {readonly finalAnswer: string | null; readonly logProb: number}>(
    samples: readonly T[],
    mode: PromptMode
): AnswerGroup[] {
    const byKey = new Map<string, number[]>();
    samples.forEach((sample, index) => {
        const key = sample.finalAnswer === null ? "" : answerKey(sample.finalAnswer, mode);
        const members = byKey.get(key);
        if (members) members.push(index);
        else byKey.set(key, [index]);
    });
    const best = (group: AnswerGroup) => samples[group.members[0]].logProb;
    return [...byKey].map(([key, members]): AnswerGroup => {
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
