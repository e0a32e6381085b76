/// <reference lib="dom" />
/**
 * What a click or key press in the panel means, read from the data attributes render.ts puts on
 * its controls. Pure apart from reading the DOM, so the controller stays thin and tests can check
 * the messages each button posts.
 */
import {METHODS, type Method} from "../protocol/params.js";
import type {AlternativeAction, FromPanel} from "../protocol/panel.js";
import type {UiEvent} from "./model.js";

export interface Intent {
    /** To the extension host. */
    readonly post?: FromPanel;
    /** To the panel's own reducer. */
    readonly ui?: UiEvent;
}

const ACTIONS: readonly AlternativeAction[] = ["insert", "replace", "copy", "diff"];

/** The intent of a click on `target` (or an ancestor button); null for anything else or a disabled button. */
export function intentOf(target: EventTarget | null): Intent | null {
    const element = target as Element | null;
    if (element === null || typeof element.closest !== "function") return null;
    const button = element.closest("button");
    if (button === null || button.disabled) return null;
    const runId = button.dataset.runId ?? button.closest<HTMLElement>("[data-run-id]")?.dataset.runId;
    const {action, rerun, chain, view, index} = button.dataset;
    if (action === "stop" && runId !== undefined) {
        return {post: {type: "stop", runId}, ui: {type: "ui/stopRequested", runId}};
    }
    if (action !== undefined && (ACTIONS as readonly string[]).includes(action) && runId !== undefined) {
        const i = Number(index);
        if (!Number.isInteger(i) || i < 0) return null;
        return {post: {type: "action", action: action as AlternativeAction, runId, index: i}};
    }
    if (rerun !== undefined && (METHODS as readonly string[]).includes(rerun)) return {post: {type: "rerun", method: rerun as Method}};
    if (chain !== undefined && runId !== undefined) {
        const c = Number(chain);
        return Number.isInteger(c) && c >= 0 ? {ui: {type: "ui/selectChain", runId, chain: c}} : null;
    }
    if ((view === "raw" || view === "rendered") && runId !== undefined) return {ui: {type: "ui/textView", runId, view}};
    return null;
}

/**
 * Arrow keys (and Home/End) between the alternative cards of one run. Returns the card to focus,
 * or null when the key is not for card navigation.
 */
export function cardToFocus(target: EventTarget | null, key: string): HTMLElement | null {
    const card = target as HTMLElement | null;
    if (card === null || typeof card.matches !== "function" || !card.matches(".alternative")) return null;
    const scope = card.closest(".run") ?? card.ownerDocument;
    const cards = Array.from(scope.querySelectorAll<HTMLElement>(".alternative"));
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
