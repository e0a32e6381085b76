/**
 * Whether two MATH answers are the same, and a grouping key under which the same answers coincide.
 *
 * At least as lenient as the graders the power-sampling paper uses (Hendrycks' MATH `is_equiv`
 * string normaliser, and PRM800K's `grade_answer`, which adds sympy): answers are normalised
 * (normalise.ts), split into structure (ordered pairs, tuples and intervals in order; sets and
 * comma lists, which MATH means unordered, in any order; `\pm` as both signs; matrices and vectors;
 * unions of intervals; equations), and scalars compared as strings, then by value with PRM800K's
 * two format rules: two fractions of whole numbers must be written alike (2/4 is not 1/2: "express
 * as a common fraction"), and a whole-number reference needs a whole number (not \frac{4}{2}).
 * Expressions with variables are equal when they agree at several sample points.
 */
import {Random} from "../sampling/random.js";
import {evaluate, integerFraction, isIntegerLiteral, parseExpression, variablesOf, type Complex, type Expression} from "./expression.js";
import {splitTopLevel} from "./latex.js";
import {normaliseAnswer} from "./normalise.js";

type Structure =
    | {readonly kind: "scalar"; readonly text: string}
    /** Ordered pairs, tuples, intervals and column vectors (as `(` `)`). */
    | {readonly kind: "ordered"; readonly open: string; readonly close: string; readonly items: readonly string[]}
    /** Sets, comma-separated lists, `\pm` alternatives and unions of intervals. */
    | {readonly kind: "unordered"; readonly items: readonly string[]}
    | {readonly kind: "matrix"; readonly rows: readonly (readonly string[])[]}
    | {readonly kind: "equation"; readonly left: string; readonly right: string};

/** Relative tolerance for equal values: far above floating error, far below any rounding a model would write. */
const RELATIVE_TOLERANCE = 1e-9;
const ABSOLUTE_TOLERANCE = 1e-12;
/** Sample points for expressions with variables, from a fixed seed so that grading is deterministic. */
const SAMPLE_POINTS = 6;
const SAMPLE_SEED = 20_251_014;

/** Whether the model's answer (`given`, e.g. its last \boxed{}) is the reference answer. */
export function mathAnswersEqual(given: string, reference: string): boolean {
    return answersEqual(normaliseAnswer(given), normaliseAnswer(reference));
}

/**
 * A key under which answers that are visibly the same coincide, for grouping alternatives: the
 * normalised answer, with structure made canonical (sets sorted) and constant scalars replaced by
 * their value (`\frac{1}{2}`, `0.5` and `\dfrac12` share one key; `2x` stays `2x`).
 */
export function mathAnswerKey(answer: string): string {
    const normalised = normaliseAnswer(answer);
    const structure = parseStructure(normalised);
    switch (structure.kind) {
        case "scalar":
            return scalarKey(structure.text);
        case "ordered":
            return structure.open + structure.items.map(mathAnswerKey).join(",") + structure.close;
        case "unordered":
            return structure.items.length === 1 ? mathAnswerKey(structure.items[0]) : `\\{${structure.items.map(mathAnswerKey).sort().join(",")}\\}`;
        case "matrix":
            return `\\begin{pmatrix}${structure.rows.map((row) => row.map(mathAnswerKey).join("&")).join("\\\\")}\\end{pmatrix}`;
        case "equation":
            return `${mathAnswerKey(structure.left)}=${mathAnswerKey(structure.right)}`;
    }
}

function scalarKey(text: string): string {
    const expression = parseExpression(text);
    if (expression === null || isIntegerLiteral(expression) || variablesOf(expression).size > 0) return text;
    const value = evaluate(expression);
    return Number.isFinite(value.re) && Number.isFinite(value.im) ? formatValue(value) : text;
}

/** 12 significant digits: computed values that differ in the last bits of a double share a key. */
function formatValue(value: Complex): string {
    const format = (x: number) => String(Number(x.toPrecision(12)) + 0); // + 0 turns -0 into 0
    const im = Number(value.im.toPrecision(12));
    return im === 0 ? format(value.re) : `${format(value.re)}${im < 0 ? "" : "+"}${format(value.im)}i`;
}

function answersEqual(given: string, reference: string): boolean {
    if (given === reference || given.toLowerCase() === reference.toLowerCase()) return true; // PRM800K ignores case
    if (given === "" || reference === "") return false;
    return structuresEqual(parseStructure(given), parseStructure(reference));
}

/** Items of a structure are normalised again: `x=1,x=2` has items `1` and `2`. */
function itemsEqual(given: string, reference: string): boolean {
    return answersEqual(normaliseAnswer(given), normaliseAnswer(reference));
}

function structuresEqual(given: Structure, reference: Structure): boolean {
    // A set or list of one is its element.
    if (given.kind === "unordered" && given.items.length === 1) return structuresEqual(parseStructure(normaliseAnswer(given.items[0])), reference);
    if (reference.kind === "unordered" && reference.items.length === 1) return structuresEqual(given, parseStructure(normaliseAnswer(reference.items[0])));
    switch (reference.kind) {
        case "scalar":
            return given.kind === "scalar" && scalarsEqual(given.text, reference.text);
        case "ordered":
            return given.kind === "ordered" && given.open === reference.open && given.close === reference.close
                && given.items.length === reference.items.length && given.items.every((item, i) => itemsEqual(item, reference.items[i]));
        case "unordered":
            return given.kind === "unordered" && sameMultiset(given.items, reference.items);
        case "matrix":
            return given.kind === "matrix" && given.rows.length === reference.rows.length
                && given.rows.every((row, i) => row.length === reference.rows[i].length && row.every((cell, j) => itemsEqual(cell, reference.rows[i][j])));
        case "equation":
            return given.kind === "equation" && equationsEqual(given, reference);
    }
}

/** Whether each given item matches a distinct reference item (a perfect matching, by augmenting paths). */
function sameMultiset(given: readonly string[], reference: readonly string[]): boolean {
    if (given.length !== reference.length) return false;
    const equal = given.map((item) => reference.map((other) => itemsEqual(item, other)));
    const matchOf: number[] = new Array<number>(reference.length).fill(-1);
    const augment = (g: number, seen: boolean[]): boolean => {
        for (let r = 0; r < reference.length; r++) {
            if (!equal[g][r] || seen[r]) continue;
            seen[r] = true;
            if (matchOf[r] < 0 || augment(matchOf[r], seen)) {
                matchOf[r] = g;
                return true;
            }
        }
        return false;
    };
    return given.every((_, g) => augment(g, new Array<boolean>(reference.length).fill(false)));
}

/** The same equation, sides swapped or not: left - right agree up to sign. */
function equationsEqual(given: {left: string; right: string}, reference: {left: string; right: string}): boolean {
    if (itemsEqual(given.left, reference.left) && itemsEqual(given.right, reference.right)) return true;
    const difference = (equation: {left: string; right: string}): Expression | null => {
        const left = parseExpression(normaliseAnswer(equation.left));
        const right = parseExpression(normaliseAnswer(equation.right));
        return left && right && {kind: "binary", operator: "-", left, right};
    };
    const a = difference(given);
    const b = difference(reference);
    return a !== null && b !== null && (valuesEqual(a, b) || valuesEqual(a, {kind: "negate", operand: b}));
}

function scalarsEqual(given: string, reference: string): boolean {
    if (given === reference || given.toLowerCase() === reference.toLowerCase()) return true;
    // Words are compared as words: "east" is not e·a·s·t, and "tea" is not "eat".
    if (isText(given) || isText(reference)) return false;
    const a = parseExpression(given);
    const b = parseExpression(reference);
    if (a === null || b === null) return false;
    const fractionA = integerFraction(a);
    const fractionB = integerFraction(b);
    if (fractionA !== null && fractionB !== null)
        return fractionA.numerator === fractionB.numerator && fractionA.denominator === fractionB.denominator;
    if (isIntegerLiteral(a) !== isIntegerLiteral(b)) return false;
    return valuesEqual(a, b);
}

/** Three letters in a row outside a command: a word, not a product of variables. */
function isText(answer: string): boolean {
    return /[a-zA-Z]{3,}/.test(answer.replace(/\\[a-zA-Z]+/g, " "));
}

/** Equal values; with variables, equal at every sample point where both have one (and at two at least). */
function valuesEqual(a: Expression, b: Expression): boolean {
    const variables = [...new Set([...variablesOf(a), ...variablesOf(b)])].sort();
    if (variables.length === 0) return close(evaluate(a), evaluate(b));
    const random = new Random(SAMPLE_SEED);
    let compared = 0;
    for (let point = 0; point < SAMPLE_POINTS; point++) {
        // Both signs, away from 0 and 1 where different expressions often agree.
        const values = new Map(variables.map((name) => [name, (random.float() < 0.5 ? -1 : 1) * (1.1 + 2 * random.float())]));
        const x = evaluate(a, values);
        const y = evaluate(b, values);
        if (!isFinite(x) || !isFinite(y)) continue;
        if (!close(x, y)) return false;
        compared++;
    }
    return compared >= 2;
}

function isFinite(value: Complex): boolean {
    return Number.isFinite(value.re) && Number.isFinite(value.im);
}

function close(a: Complex, b: Complex): boolean {
    if (!isFinite(a) || !isFinite(b)) return a.re === b.re && a.im === b.im; // the same infinity; never NaN
    const scale = Math.max(Math.hypot(a.re, a.im), Math.hypot(b.re, b.im));
    return Math.hypot(a.re - b.re, a.im - b.im) <= RELATIVE_TOLERANCE * scale + ABSOLUTE_TOLERANCE;
}

/** The structure a normalised answer writes; anything else is a scalar. */
function parseStructure(answer: string): Structure {
    const matrix = /^\\begin\{pmatrix\}([\s\S]*)\\end\{pmatrix\}$/.exec(answer);
    if (matrix) {
        const rows = matrix[1].split("\\\\").filter((row) => row !== "").map((row) => splitTopLevel(row, "&"));
        // A column vector is the tuple of its entries.
        return rows.every((row) => row.length === 1) ? {kind: "ordered", open: "(", close: ")", items: rows.map((row) => row[0])} : {kind: "matrix", rows};
    }
    if (answer.startsWith("\\{") && answer.endsWith("\\}") && closesAtEnd(answer)) {
        return {kind: "unordered", items: splitTopLevel(answer.slice(2, -2), ",").flatMap(bothSigns)};
    }
    const union = answer.split("\\cup");
    if (union.length > 1) return {kind: "unordered", items: union};
    const items = splitTopLevel(answer, ",");
    if ("([".includes(answer[0]) && ")]".includes(answer.at(-1)!) && closesAtEnd(answer)) {
        const inner = splitTopLevel(answer.slice(1, -1), ",");
        if (inner.length > 1) return {kind: "ordered", open: answer[0], close: answer.at(-1)!, items: inner};
    }
    if (items.length > 1) return {kind: "unordered", items: items.flatMap(bothSigns)};
    const alternatives = bothSigns(answer);
    if (alternatives.length > 1) return {kind: "unordered", items: alternatives};
    const sides = splitTopLevel(answer, "=");
    if (sides.length === 2 && sides[0] !== "" && sides[1] !== "") return {kind: "equation", left: sides[0], right: sides[1]};
    return {kind: "scalar", text: answer};
}

/** Answers have one or two; more would multiply into 2^n alternatives. */
const MAX_SIGN_CHOICES = 3;

/** `1\pm\sqrt{5}` is the two answers `1+\sqrt{5}` and `1-\sqrt{5}` (each \pm and \mp in turn). */
function bothSigns(item: string): string[] {
    if ((item.match(/\\(?:pm|mp)(?![a-zA-Z])/g)?.length ?? 0) > MAX_SIGN_CHOICES) return [item];
    const sign = /\\(pm|mp)(?![a-zA-Z])/.exec(item);
    if (sign === null) return [item];
    const before = item.slice(0, sign.index);
    const after = item.slice(sign.index + sign[0].length);
    const [first, second] = sign[1] === "pm" ? ["+", "-"] : ["-", "+"];
    return [...bothSigns(before + first + after), ...bothSigns(before + second + after)];
}

/** Whether the bracket that opens the answer is the one that closes it (not `(a+1)(b+2)`). */
function closesAtEnd(answer: string): boolean {
    let depth = 0;
    for (let i = 0; i < answer.length; i++) {
        const c = answer[i];
        if (c === "\\") {
            if (answer[i + 1] === "{") depth++;
            else if (answer[i + 1] === "}") depth--;
            i++;
        } else if ("([{".includes(c)) depth++;
        else if (")]}".includes(c)) depth--;
        if (depth === 0 && i < answer.length - 1) return false;
    }
    return depth === 0;
}
