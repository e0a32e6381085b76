/// <reference lib="dom" />
/**
 * Wires the panel: host messages and UI events go through the reducer, the state is saved with
 * setState after each one, and rendering is coalesced to one per animation frame (progress can
 * arrive several times a second). Clicks, changes and keys are handled by delegation on the
 * document. While a run goes, the status line's time left is refreshed every second. When the
 * panel gains focus with nothing focused, focus starts at the top: the status line, else the
 * first control.
 */
import type {FromPanel} from "../protocol/panel.js";
import {cardToFocus, changeOf, intentOf, selectOnFocus} from "./events.js";
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

const TICK_MS = 1000;

export function startPanel(win: Window, api: VsCodeApi): PanelController {
    const doc = win.document;
    let state = restoreState(api.getState());
    let pending: number | null = null;

    const draw = () => render(state, doc, Date.now());
    const flush = () => {
        if (pending !== null) {
            cancel(pending);
            pending = null;
        }
        draw();
    };
    const raf = typeof win.requestAnimationFrame === "function";
    const schedule = () => {
        if (pending !== null) return;
        pending = raf ? win.requestAnimationFrame(() => { pending = null; draw(); })
            : win.setTimeout(() => { pending = null; draw(); }, 16);
    };
    const cancel = (handle: number) => (raf ? win.cancelAnimationFrame(handle) : win.clearTimeout(handle));

    // While a run goes, the time left is refreshed every second; no timer otherwise.
    let ticking: number | null = null;
    const tickWhileRunning = () => {
        const running = state.runs.some((run) => run.status === "running");
        if (running && ticking === null) ticking = win.setInterval(schedule, TICK_MS);
        if (!running && ticking !== null) {
            win.clearInterval(ticking);
            ticking = null;
        }
    };

    const dispatch = (event: ViewEvent) => {
        const next = reduce(state, event);
        if (next === state) return;
        state = next;
        api.setState(state);
        tickWhileRunning();
        schedule();
    };

    win.addEventListener("message", (event: MessageEvent) => {
        if (isToPanel(event.data)) dispatch(event.data);
    });
    doc.addEventListener("click", (event) => {
        const intent = intentOf(event.target, state);
        if (intent === null) return;
        if (intent.post !== undefined) api.postMessage(intent.post);
        if (intent.ui !== undefined) dispatch(intent.ui);
    });
    doc.addEventListener("change", (event) => {
        const draft = changeOf(event.target);
        if (draft !== null) dispatch(draft);
    });
    doc.addEventListener("keydown", (event) => {
        if (event.altKey || event.ctrlKey || event.metaKey) return;
        const card = cardToFocus(event.target, event.key);
        if (card === null) return;
        event.preventDefault();
        const select = selectOnFocus(card);
        if (select !== null) dispatch(select);
        flush();
        // The card was rebuilt: focus the one now selected.
        (doc.querySelector<HTMLElement>(`.alternative[data-ref="${card.dataset.ref}"]`) ?? card).focus();
    });
    win.addEventListener("focus", () => {
        if (doc.activeElement !== null && doc.activeElement !== doc.body) return;
        const top = doc.querySelector<HTMLElement>("#status") ?? doc.querySelector<HTMLElement>("button, select, [tabindex='0']");
        if (top === null) return;
        if (!top.hasAttribute("tabindex") && top.id === "status") top.setAttribute("tabindex", "-1");
        top.focus();
    });
    tickWhileRunning();
    draw();
    api.postMessage({type: "ready"});
    return {dispatch, flush, state: () => state};
}
