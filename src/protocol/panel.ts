/**
 * Messages between the extension host and the Power Sampling panel (webview). Types only, so
 * both sides import them. A panel shows one or more runs: the main solve and any one-click
 * comparison re-runs with another method.
 */
import type {ProgressNotification} from "./backend.js";
import type {Method, PromptMode} from "./params.js";
import type {SolveResult} from "./results.js";

export interface RunInfo {
    readonly runId: string;
    readonly method: Method;
    readonly modelName: string;
    readonly mode: PromptMode;
    /** Independent samples asked for (Explore: the samples setting; Solve: 1). */
    readonly samples: number;
    /** The problem as the user selected it (shown at the top; never rendered as HTML). */
    readonly prompt: string;
    /** Whether insert/replace have a selection to act on. */
    readonly hasSelection: boolean;
}

/** Host to panel. */
export type ToPanel =
    | {readonly type: "runStarted"; readonly run: RunInfo}
    | {readonly type: "progress"; readonly runId: string; readonly progress: ProgressNotification}
    | {readonly type: "result"; readonly runId: string; readonly result: SolveResult}
    | {readonly type: "failed"; readonly runId: string; readonly message: string}
    | {readonly type: "cancelled"; readonly runId: string};

export type AlternativeAction = "insert" | "replace" | "copy" | "diff";

/** Panel to host. */
export type FromPanel =
    | {readonly type: "ready"}
    | {readonly type: "stop"; readonly runId: string}
    | {readonly type: "action"; readonly action: AlternativeAction; readonly runId: string; readonly index: number}
    /** Re-run the panel's problem with another method, for side-by-side comparison. */
    | {readonly type: "rerun"; readonly method: Method};
