/**
 * The panel's view model: everything the panel shows, as plain JSON (it is what
 * `acquireVsCodeApi().setState` keeps across reloads), and a pure reducer from host messages
 * and UI events to the next state. No DOM here.
 */
import type {ProgressNotification} from "../protocol/backend.js";
import type {SolvedSample, SolveResult} from "../protocol/results.js";
import type {Method} from "../protocol/params.js";
import type {RunInfo, ToPanel} from "../protocol/panel.js";

export type RunStatus = "running" | "done" | "stopped" | "error";

export type TextView = "rendered" | "raw";

export interface RunState {
    readonly info: RunInfo;
    readonly status: RunStatus;
    /** The latest progress notification (kept after the run ends: a stopped run shows its partial text). */
    readonly progress: ProgressNotification | null;
    readonly result: SolveResult | null;
    readonly error: string | null;
    /** The user pressed Stop and the host has not answered yet. */
    readonly stopRequested: boolean;
    /** The chain whose text streams (index into progress.chains). */
    readonly chain: number;
    /** How the chosen answer's full text shows: Markdown, or raw text with the MCMC changes marked. */
    readonly textView: TextView;
}

export interface ViewState {
    readonly version: 2;
    /** The main run first, then comparison re-runs in the order they started. */
    readonly runs: readonly RunState[];
}

/** Events that come from the panel itself rather than the host. */
export type UiEvent =
    | {readonly type: "ui/selectChain"; readonly runId: string; readonly chain: number}
    | {readonly type: "ui/textView"; readonly runId: string; readonly view: TextView}
    | {readonly type: "ui/stopRequested"; readonly runId: string};

export type ViewEvent = ToPanel | UiEvent;

export const initialState: ViewState = {version: 2, runs: []};

/**
 * The next state. A runStarted for a known runId only refreshes its info (the host may replay
 * it). One for another problem (prompt) than the main run's, or for the same problem with the
 * main run's method (solved again), starts over with it as the main run; otherwise it is a
 * comparison, replacing an earlier comparison with the same method. Messages for unknown runs, and
 * progress after a run ended, are ignored. A run's first terminal message wins.
 */
export function reduce(state: ViewState, event: ViewEvent): ViewState {
    switch (event.type) {
        case "runStarted": {
            const {run} = event;
            if (state.runs.some((r) => r.info.runId === run.runId))
                return updateRun(state, run.runId, (r) => ({...r, info: run}));
            const fresh: RunState = {
                info: run, status: "running", progress: null, result: null, error: null,
                stopRequested: false, chain: 0, textView: "rendered"
            };
            const main = state.runs[0];
            // Another problem, or the same one solved afresh with the main run's method: start over.
            if (main === undefined || main.info.prompt !== run.prompt || main.info.method === run.method) return {version: 2, runs: [fresh]};
            // A comparison replaces an earlier one with the same method, in its place.
            const same = state.runs.findIndex((r, i) => i > 0 && r.info.method === run.method);
            if (same >= 0) return {version: 2, runs: state.runs.map((r, i) => (i === same ? fresh : r))};
            return {version: 2, runs: [...state.runs, fresh]};
        }
        case "progress":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, progress: event.progress} : r));
        case "result":
            return updateRun(state, event.runId, (r) =>
                r.status === "running" ? {...r, status: "done", result: event.result, stopRequested: false} : r);
        case "failed":
            return updateRun(state, event.runId, (r) =>
                r.status === "running" ? {...r, status: "error", error: event.message, stopRequested: false} : r);
        case "cancelled":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, status: "stopped", stopRequested: false} : r));
        case "ui/selectChain":
            return updateRun(state, event.runId, (r) => (Number.isInteger(event.chain) && event.chain >= 0 ? {...r, chain: event.chain} : r));
        case "ui/textView":
            return updateRun(state, event.runId, (r) => ({...r, textView: event.view}));
        case "ui/stopRequested":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, stopRequested: true} : r));
        default:
            return state;
    }
}

function updateRun(state: ViewState, runId: string, update: (run: RunState) => RunState): ViewState {
    let changed = false;
    const runs = state.runs.map((run) => {
        if (run.info.runId !== runId) return run;
        const next = update(run);
        if (next !== run) changed = true;
        return next;
    });
    return changed ? {version: 2, runs} : state;
}

const TO_PANEL_TYPES = new Set(["runStarted", "progress", "result", "failed", "cancelled"]);

/** A structural check of a host message, enough that the reducer and renderer cannot trip on it. */
export function isToPanel(value: unknown): value is ToPanel {
    if (typeof value !== "object" || value === null) return false;
    const m = value as Record<string, unknown>;
    if (typeof m.type !== "string" || !TO_PANEL_TYPES.has(m.type)) return false;
    switch (m.type) {
        case "runStarted": {
            const run = m.run as Record<string, unknown> | null | undefined;
            return typeof run === "object" && run !== null && typeof run.runId === "string" && typeof run.method === "string"
                && typeof run.prompt === "string";
        }
        case "progress": {
            const p = m.progress as Record<string, unknown> | null | undefined;
            return typeof m.runId === "string" && typeof p === "object" && p !== null && Array.isArray(p.texts)
                && p.texts.every((c) => typeof c === "string") && typeof p.fraction === "number";
        }
        case "result": {
            const r = m.result as Record<string, unknown> | null | undefined;
            return typeof m.runId === "string" && typeof r === "object" && r !== null && Array.isArray(r.samples)
                && Array.isArray(r.groups) && typeof r.answerIndex === "number" && r.samples[r.answerIndex] !== undefined && typeof r.stats === "object";
        }
        case "failed":
            return typeof m.runId === "string" && typeof m.message === "string";
        default:
            return typeof m.runId === "string";
    }
}

/** The state kept by setState, if it is one of ours; else the initial state. */
export function restoreState(saved: unknown): ViewState {
    if (typeof saved !== "object" || saved === null) return initialState;
    const s = saved as Record<string, unknown>;
    if (s.version !== 2 || !Array.isArray(s.runs)) return initialState;
    const ok = s.runs.every((r: unknown) => {
        if (typeof r !== "object" || r === null) return false;
        const run = r as Record<string, unknown>;
        const info = run.info as Record<string, unknown> | null | undefined;
        return typeof info === "object" && info !== null && typeof info.runId === "string" && typeof info.prompt === "string"
            && ["running", "done", "stopped", "error"].includes(run.status as string);
    });
    return ok ? (saved as ViewState) : initialState;
}

// ---- derived figures ----------------------------------------------------------------------

export const METHOD_LABELS: Record<Method, string> = {
    "power": "Power sampling",
    "smc": "Power-SMC",
    "low-temperature": "Low temperature",
    "standard": "Standard sampling",
    "greedy": "Greedy decoding"
};

export const STATUS_LABELS: Record<RunStatus, string> = {running: "Running", done: "Done", stopped: "Stopped", error: "Error"};

export function methodLabel(method: string): string {
    return (METHOD_LABELS as Record<string, string>)[method] ?? method;
}

/** The text that streams for a run: the picked chain, else the first. */
export function streamText(run: RunState): string {
    const texts = run.progress?.texts ?? [];
    return texts[run.chain] ?? texts[0] ?? "";
}

export function totalTokens(samples: readonly SolvedSample[]): number {
    return samples.reduce((sum, a) => sum + a.tokenCount, 0);
}

/** Tokens standard sampling draws for these texts: their tokens and each end token. */
export function drawnTokens(samples: readonly SolvedSample[]): number {
    return samples.reduce((sum, a) => sum + a.tokenCount + (a.finishReason === "eos" ? 1 : 0), 0);
}

/** Tokens drawn against standard sampling of the same texts, counted alike (end tokens included). null when undefined. */
export function costMultiplier(result: SolveResult): number | null {
    const standard = drawnTokens(result.samples);
    return standard > 0 ? result.stats.proposedTokens / standard : null;
}

export function meanLogProb(alternatives: readonly SolvedSample[]): number | null {
    if (alternatives.length === 0) return null;
    return alternatives.reduce((sum, a) => sum + a.logProb, 0) / alternatives.length;
}

/** "3/4 · 75 %" */
export function formatShare(count: number, total: number): string {
    const percent = total > 0 ? Math.round((100 * count) / total) : 0;
    return `${count}/${total} · ${percent} %`;
}

export function formatPercent(rate: number | null): string {
    return rate === null || !Number.isFinite(rate) ? "—" : `${Math.round(rate * 100)} %`;
}

export function formatLogProb(logProb: number | null): string {
    if (logProb === null || !Number.isFinite(logProb)) return "—";
    return logProb.toFixed(Math.abs(logProb) >= 100 ? 1 : 2).replace("-", "−");
}

export function formatInteger(value: number): string {
    return Math.round(value).toLocaleString("en-US");
}

export function formatDuration(ms: number): string {
    if (!Number.isFinite(ms) || ms < 0) return "—";
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const seconds = ms / 1000;
    if (seconds < 60) return `${seconds.toFixed(seconds < 10 ? 2 : 1)} s`;
    const minutes = Math.floor(seconds / 60);
    return `${minutes} min ${Math.round(seconds - minutes * 60)} s`;
}

export function formatMultiplier(value: number | null): string {
    return value === null || !Number.isFinite(value) ? "—" : `${value.toFixed(value < 10 ? 1 : 0)}×`;
}
