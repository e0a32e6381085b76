/**
 * What the backend runs its jobs on: a local model in an engine process (engine-host.ts), or
 * inference servers (remote-engines.ts), chosen by the `server` initialization option.
 */
import type {PromptMode, SamplingParams} from "../protocol/params.js";
import type {SolveProgress, SolveResult} from "../protocol/results.js";
import type {LoadedModel} from "./engine-messages.js";

export interface SolveJobOptions {
    readonly signal: AbortSignal;
    /** The prompt's document language, for the "auto" mode. */
    readonly languageId?: string;
    readonly onProgress: (progress: SolveProgress) => void;
    readonly progressIntervalMs: number;
    readonly queuedMs: number;
    readonly loadMs: number;
}

export interface Engines {
    /** The model in use, as the status names it; null before one is ready. */
    readonly reference: string | null;
    /**
     * Makes the model ready: a local reference is downloaded and loaded; servers are checked
     * (reachable, the same model, what a power sampler needs), and `reference` is not used.
     */
    acquire(reference: string | undefined, signal: AbortSignal): Promise<{model: LoadedModel; loadMs: number}>;
    /** Runs a job on the model acquire() made ready. */
    solve(prompt: string, mode: PromptMode, params: SamplingParams, options: SolveJobOptions): Promise<SolveResult>;
    dispose(): Promise<void>;
}
