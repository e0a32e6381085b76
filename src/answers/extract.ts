/** Final answers of sampled completions: the last \boxed{}, the final code block, the last number. */
import type {PromptMode} from "../protocol/params.js";
import {closingBrace} from "./latex.js";

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

/**
 * The content of the last balanced, non-empty \boxed{...} or \fbox{...}, trimmed; null when there is
 * none. A box cut off by the token limit does not count, and a box inside a box is its content.
 */
export function lastBoxed(text: string): string | null {
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

/** Digits with optional thousands commas and decimals, with the sign character before them if any. */
const PROSE_NUMBER = /(-?)((?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?)/g;

/**
 * The last number in the text as written (thousands commas kept), or null: how GSM8K graders read
 * prose. A minus counts only as a sign, not after an operand ("3-5" ends with 5).
 */
export function lastNumber(text: string): string | null {
    const match = [...text.matchAll(PROSE_NUMBER)].at(-1);
    if (match === undefined) return null;
    const binary = match[1] === "-" && /[\w)\]}]/.test(text[match.index - 1] ?? "");
    return binary ? match[2] : match[0];
}
