/// <reference lib="dom" />
/**
 * What a click, a change or a key press in the panel means, read from the data attributes
 * render.ts puts on its controls and from the view state. Pure apart from reading the DOM, so
 * the controller stays thin and tests can check the messages each control posts.
 */
import type {AlternativeAction, AlternativeRef, FromPanel} from "../protocol/panel.js";
import {METHODS, type Method, PROMPT_MODES, type PromptMode} from "../protocol/params.js";
import {type Preset, PRESETS} from "../protocol/presets.js";
import {currentChoices, streamText, type UiEvent, type ViewState} from "./model.js";

export interface Intent {
    /** To the extension host. */
    readonly post?: FromPanel;
    /** To the panel's own reducer. */
    readonly ui?: UiEvent;
}

const ACTIONS: readonly AlternativeAction[] = ["insert", "replace", "copy", "diff"];

/** "sample:3", "particle:0:2", "partial" (render.ts's refKey) back to a reference. */
export function parseRef(key: string | undefined): AlternativeRef | null {
    if (key === "partial") return {kind: "partial"};
    const sample = /^sample:(\d+)$/.exec(key ?? "");
    if (sample) return {kind: "sample", index: Number(sample[1])};
    const particle = /^particle:(\d+):(\d+)$/.exec(key ?? "");
    if (particle) return {kind: "particle", run: Number(particle[1]), index: Number(particle[2])};
    return null;
}

/** The intent of a click on `target` (or an ancestor control); null for anything else or a disabled control. */
export function intentOf(target: EventTarget | null, state: ViewState): Intent | null {
    const element = target as Element | null;
    if (element === null || typeof element.closest !== "function") return null;
    const card = element.closest<HTMLElement>(".alternative[data-ref]");
    const button = element.closest("button");
    if (button === null && card !== null) return selectIntent(card);
    if (button === null || button.disabled) return null;
    const runId = button.dataset.runId ?? button.closest<HTMLElement>("[data-run-id]")?.dataset.runId;
    const {action, compare, chain, view, follow, reopen} = button.dataset;
    if (action === "stop" && runId !== undefined) return {post: {type: "stop", runId}, ui: {type: "ui/stopRequested", runId}};
    if (action === "selectModel") return {post: {type: "selectModel"}};
    if (action === "runAgain") {
        const choices = currentChoices(state);
        return choices === null ? null : {post: {type: "runAgain", ...choices}};
    }
    if (action !== undefined && (ACTIONS as readonly string[]).includes(action) && runId !== undefined) {
        const ref = parseRef(button.dataset.ref);
        if (ref === null) return null;
        // The host keeps results, not progress: a partial text goes with the action.
        const run = state.runs.find((r) => r.info.runId === runId);
        const text = ref.kind === "partial" && run ? streamText(run) : undefined;
        return {post: {type: "action", action: action as AlternativeAction, runId, target: ref, ...(text === undefined ? {} : {text})}};
    }
    if (compare !== undefined && (METHODS as readonly string[]).includes(compare)) return {post: {type: "compare", method: compare as Method}};
    if ((follow === "thorough" || follow === "explore") && runId !== undefined) return {post: {type: "followUp", kind: follow, runId}};
    if (reopen !== undefined) return {post: {type: "reopen", runId: reopen}};
    if (chain !== undefined && runId !== undefined) {
        const c = Number(chain);
        return Number.isInteger(c) && c >= 0 ? {ui: {type: "ui/selectChain", runId, chain: c}} : null;
    }
    if ((view === "raw" || view === "rendered") && runId !== undefined) return {ui: {type: "ui/textView", runId, view}};
    return null;
}

function selectIntent(card: HTMLElement): Intent | null {
    const ref = parseRef(card.dataset.ref);
    const runId = card.dataset.runId;
    return ref === null || runId === undefined ? null : {ui: {type: "ui/select", runId, target: ref}};
}

/** A header choice changed (a select with data-choice): the draft for the next run. */
export function changeOf(target: EventTarget | null): UiEvent | null {
    const select = target as HTMLSelectElement | null;
    if (select === null || typeof select.matches !== "function" || !select.matches("select[data-choice]")) return null;
    const {value} = select;
    switch (select.dataset.choice) {
        case "preset": return (PRESETS as readonly string[]).includes(value) ? {type: "ui/draft", draft: {preset: value as Preset}} : null;
        case "mode": return (PROMPT_MODES as readonly string[]).includes(value) ? {type: "ui/draft", draft: {mode: value as PromptMode}} : null;
        case "samples": {
            const samples = Number(value);
            return Number.isInteger(samples) && samples >= 1 ? {type: "ui/draft", draft: {samples}} : null;
        }
        default: return null;
    }
}

/**
 * Arrow keys (and Home/End) in a list of cards: the card to focus and select, or null when the
 * key is not for the list. The list is one tab stop; selection follows focus.
 */
export function cardToFocus(target: EventTarget | null, key: string): HTMLElement | null {
    const card = target as HTMLElement | null;
    if (card === null || typeof card.matches !== "function" || !card.matches(".alternative")) return null;
    const list = card.closest("[role=listbox]") ?? card.ownerDocument;
    const cards = Array.from(list.querySelectorAll<HTMLElement>(".alternative"));
    const at = cards.indexOf(card);
    if (at < 0) return null;
    switch (key) {
        case "ArrowDown": case "ArrowRight": return cards[Math.min(cards.length - 1, at + 1)] ?? null;
        case "ArrowUp": case "ArrowLeft": return cards[Math.max(0, at - 1)] ?? null;
        case "Home": return cards[0] ?? null;
        case "End": return cards.at(-1) ?? null;
        default: return null;
    }
}

/** The selection a focused card stands for. */
export function selectOnFocus(card: HTMLElement): UiEvent | null {
    return selectIntent(card)?.ui ?? null;
}
