/**
 * GSM8K answers: the reference is the number after `####` in the dataset's solution; the model's
 * answer is its last \boxed{}, else the last number it wrote; they are compared as numbers, so
 * commas, `$`, units and trailing `.0` do not matter.
 */
import {evaluate, parseExpression, variablesOf} from "./expression.js";
import {lastBoxed, lastNumber} from "./extract.js";
import {normaliseAnswer} from "./normalise.js";

/** The final answer of a GSM8K solution (the text after its last `####`), or null when it has none. */
export function gsm8kReference(solution: string): string | null {
    const marker = solution.lastIndexOf("####");
    if (marker < 0) return null;
    const answer = solution.slice(marker + 4).trim();
    return answer === "" ? null : answer;
}

/** The model's answer: its last \boxed{}, else the last number in the text; null when it has neither. */
export function extractGsm8kAnswer(completion: string): string | null {
    return lastBoxed(completion) ?? lastNumber(completion);
}

/** Whether the model's answer is the reference number (within 1e-9 relative, for decimals). */
export function gsm8kAnswersEqual(given: string, reference: string): boolean {
    const a = numericValue(given);
    const b = numericValue(reference);
    return a !== null && b !== null && Math.abs(a - b) <= 1e-9 * Math.max(1, Math.abs(b));
}

/**
 * The number an answer means: normalised like a MATH answer (`\$1,080.00` is 1080, `18 dollars`
 * is 18), evaluated when it is a constant expression (`\frac{3}{2}`), else its last number.
 */
function numericValue(answer: string): number | null {
    const normalised = normaliseAnswer(answer);
    const expression = parseExpression(normalised);
    if (expression !== null && variablesOf(expression).size === 0) {
        const value = evaluate(expression);
        if (value.im === 0 && Number.isFinite(value.re)) return value.re;
    }
    const last = lastNumber(normalised);
    return last === null ? null : Number(last.replaceAll(",", ""));
}
