/**
 * Messages between the extension host and the Power Sampling panel (webview). A panel shows one
 * problem: its main run, any one-click comparison re-runs with another method, and the header's
 * choices (preset, prompt mode, alternatives, model) for running it again; a history of the
 * workspace's runs reopens earlier ones.
 */
import type {ProgressNotification} from "./backend.js";
import type {Estimate} from "./cost.js";
import type {Method, PromptMode} from "./params.js";
import type {Preset} from "./presets.js";
import type {SolveResult} from "./results.js";

export interface RunInfo {
    readonly runId: string;
    readonly method: Method;
    readonly preset: Preset;
    readonly modelName: string;
    /** As asked for; "auto" until the result says which mode the prompt was built in. */
    readonly mode: PromptMode;
    /** Independent samples asked for (Explore: the samples setting; Solve: 1). */
    readonly samples: number;
    /** The problem as the user selected it (shown at the top; never rendered as HTML). */
    readonly prompt: string;
    /** Lines of the selection Replace would replace; 0 when there was no selection. */
    readonly selectionLines: number;
    /** The tokens the run is expected to draw and, once a rate is known for this model, its time. */
    readonly estimate: Estimate;
    /** When the run started (epoch ms): the panel counts elapsed time and the ETA from it. */
    readonly startedAt: number;
}

/** What the header offers: the choices a re-run can change, with each preset's estimate. */
export interface PanelChoices {
    readonly modelName: string;
    readonly preset: Preset;
    readonly mode: PromptMode;
    readonly samples: number;
    readonly presetEstimates: Readonly<Record<Preset, Estimate>>;
}

/** One line of the history: a run of this workspace. */
export interface HistoryEntry {
    readonly runId: string;
    readonly prompt: string;
    readonly method: Method;
    readonly answer: string | null;
    readonly status: "done" | "stopped" | "error";
    /** Epoch ms. */
    readonly finishedAt: number;
    readonly wallMs: number;
}

/** Host to panel. */
export type ToPanel =
    | {readonly type: "runStarted"; readonly run: RunInfo}
    | {readonly type: "progress"; readonly runId: string; readonly progress: ProgressNotification}
    | {readonly type: "result"; readonly runId: string; readonly result: SolveResult}
    | {readonly type: "failed"; readonly runId: string; readonly message: string}
    /** Stopped by the user: the partial text (last progress) stays, with its actions. */
    | {readonly type: "cancelled"; readonly runId: string}
    | {readonly type: "choices"; readonly choices: PanelChoices}
    | {readonly type: "history"; readonly entries: readonly HistoryEntry[]}
    /** A run from the history, whole: it replaces what the panel shows. */
    | {readonly type: "reopened"; readonly run: RunInfo; readonly result: SolveResult | null; readonly status: HistoryEntry["status"];
        readonly partial: string | null};

/** Which text an action acts on: a sample, or a distinct particle of an SMC run. */
export type AlternativeRef =
    | {readonly kind: "sample"; readonly index: number}
    | {readonly kind: "particle"; readonly run: number; readonly index: number}
    /** The partial text of a stopped run. */
    | {readonly kind: "partial"};

export type AlternativeAction = "insert" | "replace" | "copy" | "diff";

/** Panel to host. */
export type FromPanel =
    | {readonly type: "ready"}
    | {readonly type: "stop"; readonly runId: string}
    | {readonly type: "action"; readonly action: AlternativeAction; readonly runId: string; readonly target: AlternativeRef;
        /** The partial text, for a stopped run (the host keeps results, not progress). */
        readonly text?: string}
    /** Re-run the panel's problem with another method, for side-by-side comparison. */
    | {readonly type: "compare"; readonly method: Method}
    /** Run the panel's problem again with the header's choices. */
    | {readonly type: "runAgain"; readonly preset: Preset; readonly mode: PromptMode; readonly samples: number}
    /** Follow-ups: the same problem with a more thorough preset, or more alternatives to set beside this answer. */
    | {readonly type: "followUp"; readonly kind: "thorough" | "explore"; readonly runId: string}
    | {readonly type: "reopen"; readonly runId: string}
    | {readonly type: "selectModel"};
