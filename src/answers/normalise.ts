/**
 * String normalisation of final answers: the LaTeX presentation, number formatting, units and
 * wrappers that do not change an answer are dropped, as the standard MATH grader (Hendrycks et al.)
 * and the PRM800K grader the power-sampling paper uses do. No evaluation here (math-equivalence.ts
 * compares values).
 */
import {closingBrace, readArgument} from "./latex.js";

/** Greek letters that name a variable or constant (\pi is a constant to the evaluator). */
export const GREEK_LETTERS = [
    "alpha", "beta", "gamma", "delta", "epsilon", "varepsilon", "zeta", "eta", "theta", "vartheta", "iota", "kappa",
    "lambda", "mu", "nu", "xi", "pi", "rho", "sigma", "tau", "upsilon", "phi", "varphi", "chi", "psi", "omega",
    "Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Phi", "Psi", "Omega",
] as const;

const TEXT_WRAPPER = /\\(?:text|textrm|textbf|textit|textnormal|textup|mathrm|mathbf|mathit|mbox|hbox|operatorname)\s*\{/g;
/** Spacing and sizing commands that do not change the value; `\\` (a line break) is kept whole. */
const LATEX_NOISE = /(\\\\)|\\(?:left|right)(?:\.|(?![a-zA-Z]))|\\(?:displaystyle|textstyle|q?quad)(?![a-zA-Z])|\\(?:[,;:!]|\s)|~/g;
const DEGREES = /\^\s*\{?\s*\\circ\s*\}?|°|\\degree(?![a-zA-Z])/g;
const THOUSANDS = /(?<![\d.,([])\d{1,3}(?:,\d{3})+(?!\d|,\d)/g;
const DECIMAL = /(?<![\d.])(\d+)\.(\d+)(?![\d.])/g;
/** `7 3/4` is seven and three quarters, as MATH writes with \frac (before spaces go and make it 73/4). */
const MIXED_NUMBER = /(?<![\d.,])(\d+)\s+(\d+)\/(\d+)(?![\d.])/g;
/** `.5` is 0.5; not after a digit, a letter or a closing brace (where the dot is something else). */
const LEADING_DOT = /(?<![\w}.])\.(?=\d)/g;
/** A unary minus: not after an operand. */
const NEGATIVE_ZERO = /(?<![\w.)}\]])-0(?![\w.])/g;
/** Units MATH answers and models write after a number; single letters (m, g) are left alone as possible variables. */
const UNIT = String.raw`(?:(?:square|sq\.?|cubic)\s*)?(?:(?:centi|milli|kilo)?met(?:er|re)s?|cm|mm|km|inch(?:es)?|feet|foot|ft|yards?|miles?|mph|seconds?|secs?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?|cents?|dollars?|units?|degrees?|radians?|pounds?|lbs?|ounces?|oz|grams?|kilograms?|kg|lit(?:er|re)s?|gallons?)`;
const TRAILING_UNIT = new RegExp(String.raw`(?<=[\d})])\s*${UNIT}(?:\s*(?:per|/)\s*${UNIT})?(?:\s*\^\s*\{?[23]\}?)?\s*$`, "i");
/** `x =`, `f(x) =`, `\theta =`, `a_1 =`, `x \in` before the value, as Hendrycks' grader drops a short left side. */
const VARIABLE_PREFIX = new RegExp(String.raw`^(?:[a-zA-Z](?:\([a-zA-Z]\))?|\\(?:${GREEK_LETTERS.join("|")}))(?:_[a-zA-Z0-9]|_\{[a-zA-Z0-9]+\})?(?:=|\\in(?![a-zA-Z]))([^=]+)$`);

/**
 * The normal form of a math or prose answer, in which one answer written in different ways is one
 * string (mathAnswerKey compares values on top). It drops LaTeX presentation (\left, \dfrac,
 * spacing, \text), `$` and `\$`, units, degrees and percent signs, thousands separators, trailing
 * decimal zeros, `x =` before the value and every space but one that keeps a control word apart
 * from a following letter (`\cot x`), and braces `\frac12`. Idempotent: the rules feed one another
 * (`$5$.` needs the period gone before the dollars), so they run to a fixed point.
 */
export function normaliseAnswer(answer: string): string {
    for (let key = answer; ;) {
        const next = normaliseOnce(key);
        if (next === key) return key;
        key = next;
    }
}

function normaliseOnce(answer: string): string {
    const unwrapped = unwrapText(dropTextUnits(answer.trim()
        .replace(/^\$+([^$]*)\$+$/, "$1")
        .replace(/^\\\(([\s\S]*)\\\)$|^\\\[([\s\S]*)\\\]$/, "$1$2")));
    const presented = unwrapped
        .replace(LATEX_NOISE, (_, lineBreak: string | undefined) => lineBreak ?? " ")
        .replace(/\\[dtc]frac(?![a-zA-Z])/g, "\\frac")
        .replace(/\\(begin|end)\{bmatrix\}/g, "\\$1{pmatrix}")
        .replace(/\{,\}/g, ",")
        .replace(DEGREES, "")
        .replace(/\\?[%$]/g, "")
        .replace(/\s+(?:and|or)\s+/g, ",")
        .replace(MIXED_NUMBER, "$1\\frac{$2}{$3}")
        .replace(TRAILING_UNIT, "");
    const numbers = removeSpaces(presented)
        .replace(/\.+$/, "")
        .replace(/^\+/, "")
        .replace(THOUSANDS, (number) => number.replaceAll(",", ""))
        .replace(DECIMAL, (_, whole: string, fraction: string) => {
            const kept = fraction.replace(/0+$/, "");
            return kept === "" ? whole : `${whole}.${kept}`;
        })
        .replace(LEADING_DOT, "0.")
        .replace(NEGATIVE_ZERO, "0");
    return braceArguments(numbers)
        .replace(/([_^])\{([^{}\\])\}/g, "$1$2")
        .replace(VARIABLE_PREFIX, "$1")
        .replace(/^\(([a-zA-Z])\)$/, "$1");
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

/**
 * MATH writes units as `\text{ cm}` (or \mbox) with a leading space after the value, optionally
 * squared: as Hendrycks' grader does, such a trailing wrapper is dropped whatever the unit.
 */
function dropTextUnits(answer: string): string {
    const match = /\\(?:text|mbox)\s*\{\s[^{}]*\}(?:\^\{?\d\}?)?\s*$/.exec(answer);
    return match && answer.slice(0, match.index).trim() !== "" ? answer.slice(0, match.index) : answer;
}

/** Drops whitespace, except one space between a control word and a letter (`\cot x` is not `\cotx`). */
function removeSpaces(answer: string): string {
    return answer.replace(/\s+/g, (space: string, offset: number) =>
        /[a-zA-Z]/.test(answer[offset + space.length] ?? "") && /(?<!\\)(?:\\\\)*\\[a-zA-Z]+$/.test(answer.slice(0, offset)) ? " " : "");
}

/** `\frac12` → `\frac{1}{2}`, `\sqrt2` → `\sqrt{2}`: TeX's one-token arguments, braced, at every depth. */
function braceArguments(answer: string): string {
    let out = "";
    let from = 0;
    const macro = /\\(frac|binom|sqrt)(?![a-zA-Z])/g;
    for (let match = macro.exec(answer); match !== null; match = macro.exec(answer)) {
        out += answer.slice(from, match.index) + match[0];
        let at = match.index + match[0].length;
        if (match[1] === "sqrt" && answer[at] === "[") {
            const close = answer.indexOf("]", at);
            if (close < 0) return out + answer.slice(at);
            out += "[" + braceArguments(answer.slice(at + 1, close)) + "]";
            at = close + 1;
        }
        for (let count = match[1] === "sqrt" ? 1 : 2; count > 0; count--) {
            const start = answer[at] === " " ? at + 1 : at;
            // A group, a control word or a letter or digit; `\sqrt(2)` is left as written.
            const argument = /[{\\a-zA-Z0-9]/.test(answer[start] ?? "") ? readArgument(answer, start) : null;
            if (argument === null) break;
            out += `{${braceArguments(argument.content)}}`;
            at = argument.end;
        }
        from = macro.lastIndex = at;
    }
    return out + answer.slice(from);
}

/** A key for code answers: only line endings and trailing or blank-line whitespace, which never matter. */
export function normaliseCode(code: string): string {
    return code.replace(/\r\n?/g, "\n").split("\n").map((line) => line.trimEnd()).join("\n").replace(/^\n+|\n+$/g, "");
}
