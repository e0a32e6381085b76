/** Small LaTeX scanning helpers shared by extraction and normalisation. */

/** Index of the `}` matching the `{` at `open`, or -1. */
export function closingBrace(text: string, open: number): number {
    let depth = 0;
    for (let i = open; i < text.length; i++) {
        const c = text[i];
        if (c === "\\") i++; // \{ and \} are literal braces, not grouping
        else if (c === "{") depth++;
        else if (c === "}" && --depth === 0) return i;
    }
    return -1;
}

/**
 * One macro argument starting at `start`: a balanced {group}, a control word (\pi) or a single
 * character, as TeX reads `\frac12` or `\sqrt\pi`. Returns its text without the braces and the
 * index after it, or null at the end of the text or at an unbalanced brace.
 */
export function readArgument(text: string, start: number): {content: string; end: number} | null {
    if (start >= text.length) return null;
    if (text[start] === "{") {
        const close = closingBrace(text, start);
        return close < 0 ? null : {content: text.slice(start + 1, close), end: close + 1};
    }
    if (text[start] === "}") return null;
    const word = /^\\(?:[a-zA-Z]+|.)/.exec(text.slice(start));
    const length = word ? word[0].length : 1;
    return {content: text.slice(start, start + length), end: start + length};
}

/**
 * Splits at `separator` characters outside (), [], {} and \{ \}; a bracket that never closes keeps
 * the rest of the text in one part.
 */
export function splitTopLevel(text: string, separator: string): string[] {
    const parts: string[] = [];
    let depth = 0;
    let from = 0;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "\\") {
            if (text[i + 1] === "{") depth++;
            else if (text[i + 1] === "}") depth--;
            i++;
        } else if (c === "(" || c === "[" || c === "{") depth++;
        else if (c === ")" || c === "]" || c === "}") depth--;
        else if (c === separator && depth === 0) {
            parts.push(text.slice(from, i));
            from = i + 1;
        }
    }
    parts.push(text.slice(from));
    return parts;
}
