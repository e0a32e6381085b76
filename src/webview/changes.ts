/// <reference lib="dom" />
/**
 * Where accepted MCMC moves rewrote a sample: each changed offset starts a short marked span (to
 * the end of the word there), built on the raw text with text nodes only, so it needs no escaping
 * and cannot interfere with Markdown.
 */
import {h} from "./dom.js";

export interface ChangedSpan {
    readonly start: number;
    readonly end: number;
    /** How many accepted moves start inside this span (overlapping spans merge). */
    readonly moves: number;
}

const MAX_SPAN = 24;

/**
 * Spans to mark, in text order: from each valid offset over any whitespace, then to the next
 * whitespace (at most 24 characters). Offsets outside the text are ignored.
 */
export function changedSpans(text: string, offsets: readonly number[]): ChangedSpan[] {
    const starts = [...new Set(offsets.filter((o) => Number.isInteger(o) && o >= 0 && o < text.length))].sort((a, b) => a - b);
    const spans: {start: number; end: number; moves: number}[] = [];
    for (const start of starts) {
        let end = start;
        while (end < text.length && /\s/.test(text[end]!) && end - start < MAX_SPAN) end++;
        while (end < text.length && !/\s/.test(text[end]!) && end - start < MAX_SPAN) end++;
        if (end === start) end = start + 1;
        const moves = offsets.filter((o) => o === start).length;
        const last = spans.at(-1);
        if (last !== undefined && start <= last.end) {
            last.end = Math.max(last.end, end);
            last.moves += moves;
        } else {
            spans.push({start, end, moves});
        }
    }
    return spans;
}

export const CHANGE_TITLE = "rewritten by an accepted MCMC move";

export function changeTitle(moves: number): string {
    return moves > 1 ? `rewritten by ${moves} accepted MCMC moves (the text after each was resampled)`
        : `${CHANGE_TITLE} (the text after it was resampled)`;
}

/** A <pre> of the raw text with <mark class="changed"> at each changed span. */
export function rawTextWithChanges(doc: Document, text: string, offsets: readonly number[]): HTMLPreElement {
    const pre = h(doc, "pre", {class: "raw-text", tabindex: 0, "aria-label": "Raw text; marked spans were rewritten by accepted MCMC moves"});
    let at = 0;
    for (const span of changedSpans(text, offsets)) {
        if (span.start > at) pre.append(text.slice(at, span.start));
        pre.append(h(doc, "mark", {class: "changed", "data-offset": span.start, title: changeTitle(span.moves)}, text.slice(span.start, span.end)));
        at = span.end;
    }
    if (at < text.length) pre.append(text.slice(at));
    return pre;
}
