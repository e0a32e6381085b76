/// <reference lib="dom" />
/**
 * Wires the panel: host messages and UI events go through the reducer, the state is saved with
 * setState after each one, and rendering is coalesced to one per animation frame (progress can
 * arrive several times a second). Clicks and keys are handled by delegation on the document.
 */
import type {FromPanel} from "../protocol/panel.js";
import {cardToFocus, intentOf} from "./events.js";
import {isToPanel, reduce, restoreState, type ViewEvent, type ViewState} from "./model.js";
import {render} from "./render.js";

/** The part of VS Code's webview API the panel uses. */
export interface VsCodeApi {
    postMessage(message: FromPanel): void;
    getState(): unknown;
    setState(state: unknown): void;
}

export interface PanelController {
    /** Applies an event now, saves the state, schedules a render. */
    dispatch(event: ViewEvent): void;
    /** Renders now if a render is pending. */
    flush(): void;
    state(): ViewState;
}

export function startPanel(win: Window, api: VsCodeApi): PanelController {
    const doc = win.document;
    let state = restoreState(api.getState());
    let pending: number | null = null;

    const flush = () => {
        if (pending !== null) {
            cancel(pending);
            pending = null;
        }
        render(state, doc);
    };
    const raf = typeof win.requestAnimationFrame === "function";
    const schedule = () => {
        if (pending !== null) return;
        pending = raf ? win.requestAnimationFrame(() => { pending = null; render(state, doc); })
            : win.setTimeout(() => { pending = null; render(state, doc); }, 16);
    };
    const cancel = (handle: number) => (raf ? win.cancelAnimationFrame(handle) : win.clearTimeout(handle));

    const dispatch = (event: ViewEvent) => {
        const next = reduce(state, event);
        if (next === state) return;
        state = next;
        api.setState(state);
        schedule();
    };

    win.addEventListener("message", (event: MessageEvent) => {
        if (isToPanel(event.data)) dispatch(event.data);
    });
    doc.addEventListener("click", (event) => {
        const intent = intentOf(event.target);
        if (intent === null) return;
        if (intent.post !== undefined) api.postMessage(intent.post);
        if (intent.ui !== undefined) dispatch(intent.ui);
    });
    doc.addEventListener("keydown", (event) => {
        if (event.altKey || event.ctrlKey || event.metaKey) return;
        const card = cardToFocus(event.target, event.key);
        if (card === null) return;
        event.preventDefault();
        card.focus();
    });

    render(state, doc);
    api.postMessage({type: "ready"});
    return {dispatch, flush, state: () => state};
}
