/**
 * The panel's view model: everything the panel shows, as plain JSON (it is what
 * `acquireVsCodeApi().setState` keeps across reloads), and a pure reducer from host messages
 * and UI events to the next state. No DOM here.
 */
import type {ProgressNotification} from "../protocol/backend.js";
import {formatPercent} from "../protocol/figures.js";
import type {AlternativeRef, HistoryEntry, PanelChoices, RunInfo, ToPanel} from "../protocol/panel.js";
import type {Method, PromptMode} from "../protocol/params.js";
import type {Preset} from "../protocol/presets.js";
import type {SolvedSample, SolveResult} from "../protocol/results.js";

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
    /** The chain whose text streams (index into progress.texts). */
    readonly chain: number;
    /** The alternative the answer block and its actions show; null: the chosen answer. */
    readonly selected: AlternativeRef | null;
    /** How the shown text reads: Markdown, or raw text with the MCMC rewrites marked. */
    readonly textView: TextView;
}

/** The header's choices as the user has set them, not yet run. */
export interface Draft {
    readonly preset: Preset;
    readonly mode: PromptMode;
    readonly samples: number;
}

export interface ViewState {
    readonly version: 3;
    /** The main run first, then comparison re-runs in the order they started. */
    readonly runs: readonly RunState[];
    readonly choices: PanelChoices | null;
    readonly draft: Draft | null;
    readonly history: readonly HistoryEntry[];
}

/** Events that come from the panel itself rather than the host. */
export type UiEvent =
    | {readonly type: "ui/selectChain"; readonly runId: string; readonly chain: number}
    | {readonly type: "ui/select"; readonly runId: string; readonly target: AlternativeRef}
    | {readonly type: "ui/textView"; readonly runId: string; readonly view: TextView}
    | {readonly type: "ui/stopRequested"; readonly runId: string}
    | {readonly type: "ui/draft"; readonly draft: Partial<Draft>};

export type ViewEvent = ToPanel | UiEvent;

export const initialState: ViewState = {version: 3, runs: [], choices: null, draft: null, history: []};

function freshRun(info: RunInfo, status: RunStatus = "running"): RunState {
    return {info, status, progress: null, result: null, error: null, stopRequested: false, chain: 0, selected: null, textView: "rendered"};
}

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
            if (state.runs.some((r) => r.info.runId === run.runId)) return updateRun(state, run.runId, (r) => ({...r, info: run}));
            const fresh = freshRun(run);
            const main = state.runs[0];
            if (main === undefined || main.info.prompt !== run.prompt || main.info.method === run.method) return {...state, runs: [fresh], draft: null};
            const same = state.runs.findIndex((r, i) => i > 0 && r.info.method === run.method);
            if (same >= 0) return {...state, runs: state.runs.map((r, i) => (i === same ? fresh : r))};
            return {...state, runs: [...state.runs, fresh]};
        }
        case "progress":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, progress: event.progress} : r));
        case "result":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, status: "done", result: event.result, stopRequested: false} : r));
        case "failed":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, status: "error", error: event.message, stopRequested: false} : r));
        case "cancelled":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, status: "stopped", stopRequested: false} : r));
        case "choices":
            return {...state, choices: event.choices};
        case "history":
            return {...state, history: event.entries};
        case "reopened": {
            const progress: ProgressNotification | null = event.partial === null ? null
                : {jobId: event.run.runId, method: event.run.method, texts: [event.partial], proposedTokens: 0, fraction: 1};
            return {...state, runs: [{...freshRun(event.run, event.status), result: event.result, progress}], draft: null};
        }
        case "ui/selectChain":
            return updateRun(state, event.runId, (r) => (Number.isInteger(event.chain) && event.chain >= 0 ? {...r, chain: event.chain} : r));
        case "ui/select":
            return updateRun(state, event.runId, (r) => ({...r, selected: event.target}));
        case "ui/textView":
            return updateRun(state, event.runId, (r) => ({...r, textView: event.view}));
        case "ui/stopRequested":
            return updateRun(state, event.runId, (r) => (r.status === "running" ? {...r, stopRequested: true} : r));
        case "ui/draft": {
            const base = state.draft ?? currentChoices(state);
            return base === null ? state : {...state, draft: {...base, ...event.draft}};
        }
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
    return changed ? {...state, runs} : state;
}

/** What the header shows: the user's draft, else the shown run's choices, else the host's. */
export function currentChoices(state: ViewState): Draft | null {
    if (state.draft) return state.draft;
    const main = state.runs[0];
    if (main) return {preset: main.info.preset, mode: main.result?.params.mode ?? main.info.mode, samples: main.info.samples};
    const {choices} = state;
    return choices ? {preset: choices.preset, mode: choices.mode, samples: choices.samples} : null;
}

const TO_PANEL_TYPES = new Set(["runStarted", "progress", "result", "failed", "cancelled", "choices", "history", "reopened"]);

/** A structural check of a host message, enough that the reducer and renderer cannot trip on it. */
export function isToPanel(value: unknown): value is ToPanel {
    if (typeof value !== "object" || value === null) return false;
    const m = value as Record<string, unknown>;
    if (typeof m.type !== "string" || !TO_PANEL_TYPES.has(m.type)) return false;
    switch (m.type) {
        case "runStarted":
        case "reopened":
            return isRunInfo(m.run) && (m.type === "runStarted" || m.result === null || isResult(m.result));
        case "progress": {
            const p = m.progress as Record<string, unknown> | null | undefined;
            return typeof m.runId === "string" && typeof p === "object" && p !== null && Array.isArray(p.texts)
                && p.texts.every((c) => typeof c === "string") && typeof p.fraction === "number";
        }
        case "result":
            return typeof m.runId === "string" && isResult(m.result);
        case "failed":
            return typeof m.runId === "string" && typeof m.message === "string";
        case "choices":
            return typeof m.choices === "object" && m.choices !== null && typeof (m.choices as Record<string, unknown>).presetEstimates === "object";
        case "history":
            return Array.isArray(m.entries) && m.entries.every((e: unknown) => typeof e === "object" && e !== null && typeof (e as Record<string, unknown>).runId === "string");
        default:
            return typeof m.runId === "string";
    }
}

function isRunInfo(value: unknown): boolean {
    const run = value as Record<string, unknown> | null | undefined;
    return typeof run === "object" && run !== null && typeof run.runId === "string" && typeof run.method === "string"
        && typeof run.prompt === "string" && typeof run.estimate === "object" && run.estimate !== null;
}

function isResult(value: unknown): boolean {
    const r = value as Record<string, unknown> | null | undefined;
    return typeof r === "object" && r !== null && Array.isArray(r.samples) && Array.isArray(r.groups)
        && typeof r.answerIndex === "number" && r.samples[r.answerIndex] !== undefined && typeof r.stats === "object";
}

/** The state kept by setState, if it is one of ours; else the initial state. */
export function restoreState(saved: unknown): ViewState {
    if (typeof saved !== "object" || saved === null) return initialState;
    const s = saved as Record<string, unknown>;
    if (s.version !== 3 || !Array.isArray(s.runs) || !Array.isArray(s.history)) return initialState;
    const ok = s.runs.every((r: unknown) => {
        if (typeof r !== "object" || r === null) return false;
        const run = r as Record<string, unknown>;
        return isRunInfo(run.info) && ["running", "done", "stopped", "error"].includes(run.status as string);
    });
    return ok ? (saved as ViewState) : initialState;
}

// ---- alternatives --------------------------------------------------------------------------

/** One card of the alternatives list: a sample, or a distinct particle of a one-run SMC result. */
export interface Alternative {
    readonly ref: AlternativeRef;
    readonly text: string;
    readonly finalAnswer: string | null;
    readonly logProb: number;
    readonly tokenCount: number;
    readonly finishReason: "eos" | "length";
    /** MCMC rewrites (power). */
    readonly changedOffsets: readonly number[];
    /** Its answer's share: of the samples (count) or of the particles' weight. */
    readonly share: number;
    /** "3 of 4" or "62 % of the weight". */
    readonly shareText: string;
    readonly chosen: boolean;
}

/**
 * The alternatives a result offers, in the order of their answer groups: a one-run SMC result
 * offers its distinct particles with their weights (summed per answer), others their samples
 * with the share of their group.
 */
export function alternativesOf(result: SolveResult): Alternative[] {
    const run = result.smc?.length === 1 ? result.smc[0]! : undefined;
    if (run) {
        return run.particles.map((particle, index): Alternative => {
            const share = particle.answerWeight;
            return {
                ref: {kind: "particle", run: 0, index}, text: particle.text, finalAnswer: particle.finalAnswer, logProb: particle.logProb,
                tokenCount: particle.tokenCount, finishReason: particle.finishReason, changedOffsets: [], share,
                shareText: `${formatPercent(share)} of the weight`, chosen: index === run.drawn
            };
        }).sort((a, b) => b.share - a.share);
    }
    const total = result.samples.length;
    return result.groups.flatMap((group) => group.members.map((index): Alternative => {
        const sample: SolvedSample = result.samples[index]!;
        return {
            ref: {kind: "sample", index}, text: sample.text, finalAnswer: sample.finalAnswer, logProb: sample.logProb, tokenCount: sample.tokenCount,
            finishReason: sample.finishReason, changedOffsets: sample.changedOffsets, share: group.share, shareText: `${group.count} of ${total}`,
            chosen: index === result.answerIndex
        };
    }));
}

/** The alternative `ref` names, or the chosen one. */
export function selectedAlternative(alternatives: readonly Alternative[], ref: AlternativeRef | null): Alternative | undefined {
    if (ref !== null) {
        const found = alternatives.find((alternative) => sameRef(alternative.ref, ref));
        if (found) return found;
    }
    return alternatives.find((alternative) => alternative.chosen) ?? alternatives[0];
}

export function sameRef(a: AlternativeRef, b: AlternativeRef): boolean {
    if (a.kind !== b.kind) return false;
    if (a.kind === "sample" && b.kind === "sample") return a.index === b.index;
    if (a.kind === "particle" && b.kind === "particle") return a.run === b.run && a.index === b.index;
    return true;
}

// ---- derived figures ----------------------------------------------------------------------

export const METHOD_LABELS: Record<Method, string> = {
    "power": "Power sampling (MH)",
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

/**
 * Milliseconds left, from the share done and the time it took: null until enough is done for
 * the rate to mean anything.
 */
export function remainingMs(fraction: number, elapsedMs: number): number | null {
    if (!(fraction >= 0.03) || fraction >= 1 || elapsedMs <= 0) return null;
    return (elapsedMs * (1 - fraction)) / fraction;
}

export function formatLogProb(logProb: number | null): string {
    if (logProb === null || !Number.isFinite(logProb)) return "—";
    return logProb.toFixed(Math.abs(logProb) >= 100 ? 1 : 2).replace("-", "−");
}

/** "about 12k" for estimates: a rounded count reads as an estimate. */
export function formatAbout(value: number): string {
    if (value < 1000) return `about ${Math.round(value)}`;
    if (value < 1_000_000) return `about ${(value / 1000).toFixed(value < 10_000 ? 1 : 0)}k`;
    return `about ${(value / 1_000_000).toFixed(1)}M`;
}

/** "about 40 s", "about 3 min", for estimates and ETAs: rounded, as they are not exact. */
export function formatRoughDuration(ms: number): string {
    if (!Number.isFinite(ms) || ms < 0) return "—";
    const seconds = ms / 1000;
    if (seconds < 10) return "a few seconds";
    if (seconds < 90) return `about ${Math.round(seconds / 5) * 5} s`;
    const minutes = Math.round(seconds / 60);
    return minutes < 90 ? `about ${minutes} min` : `about ${(minutes / 60).toFixed(1)} h`;
}

export function formatMultiplier(value: number | null): string {
    return value === null || !Number.isFinite(value) ? "—" : `${value.toFixed(value < 10 ? 1 : 0)}×`;
}
