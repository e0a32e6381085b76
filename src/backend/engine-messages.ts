/**
 * Messages between the backend and its engine process, which owns llama.cpp and one model: a
 * native abort (a corrupt file, an assertion in llama.cpp) ends that process, not the backend.
 */
import type {ComputeInfo, GpuChoice} from "../protocol/backend.js";
import type {PromptMode, SamplingParams} from "../protocol/params.js";
import type {SolveProgress, SolveResult} from "../protocol/results.js";

export interface LoadOptions {
    readonly threads?: number;
    readonly contextSize?: number;
    readonly gpu?: GpuChoice;
    /** The model cache, where GPU support installed on demand lives too. */
    readonly cacheDir: string;
}

export type ToEngine =
    | {readonly type: "load"; readonly path: string; readonly options: LoadOptions}
    | {readonly type: "solve"; readonly id: number; readonly prompt: string; readonly mode: PromptMode; readonly languageId?: string; readonly params: SamplingParams;
        readonly progressIntervalMs: number; readonly queuedMs: number; readonly loadMs: number}
    | {readonly type: "cancel"; readonly id: number};

/** How a failure crosses the process boundary: its kind decides the error class on the other side. */
export interface EngineError {
    readonly kind: "invalid" | "corrupt" | "cancelled" | "internal";
    readonly message: string;
}

export interface LoadedModel {
    readonly contextSize: number;
    readonly compute: ComputeInfo;
    readonly sizeBytes: number;
}

export type FromEngine =
    | {readonly type: "loadProgress"; readonly progress: number}
    | {readonly type: "loaded"; readonly model: LoadedModel}
    | {readonly type: "loadFailed"; readonly error: EngineError}
    | {readonly type: "progress"; readonly id: number; readonly progress: SolveProgress}
    | {readonly type: "result"; readonly id: number; readonly result: SolveResult}
    | {readonly type: "failed"; readonly id: number; readonly error: EngineError};
