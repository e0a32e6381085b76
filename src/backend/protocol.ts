/**
 * The JSON-RPC protocol between the extension and the backend process, beside standard LSP.
 * Types only (plus names and codes), so both sides import it.
 */
import type {Method} from "../sampling/params.js";
import type {AnswerGroup} from "../answers/group.js";
import type {SolveStats as EngineStats} from "../llama/solve.js";

export const SOLVE_REQUEST = "powerSampling/solve";
/** Server to client while a job runs: at most a few a second. */
export const PROGRESS_NOTIFICATION = "powerSampling/progress";
/** Downloads (if remote) and loads a model without solving: {model} -> LoadModelResult. */
export const LOAD_MODEL_REQUEST = "powerSampling/loadModel";
/** Client to server as a request; server to client as a notification whenever it changes. */
export const STATUS = "powerSampling/status";

export const PROMPT_MODES = ["raw", "chat", "math", "code"] as const;
export type PromptMode = (typeof PROMPT_MODES)[number];

export interface SolveParams {
    readonly prompt: string;
    /** A local GGUF path, an `hf:user/repo:quant` URI or an https URL. */
    readonly model: string;
    readonly method?: Method;
    readonly alpha?: number;
    readonly blockSize?: number;
    readonly mcmcSteps?: number;
    readonly maxTokens?: number;
    /** k >= 1 independent samples, drawn in step. */
    readonly alternatives?: number;
    readonly seed?: number;
    readonly mode?: PromptMode;
    /** Echoed in progress notifications; the server makes one up when absent. */
    readonly jobId?: string;
}

export interface SolvedAlternative {
    readonly text: string;
    readonly finishReason: "eos" | "length";
    /** Base-model log p of the completion (its end token included), temperature 1. */
    readonly logProb: number;
    readonly tokenCount: number;
    /** The last \boxed{...}, else the final code block (code mode), else the last line. */
    readonly finalAnswer: string | null;
    /** Character offsets in `text` where accepted MCMC moves changed it, oldest first. */
    readonly changedOffsets: number[];
}

/** The engine's statistics (as the command line prints them) plus the backend's own costs. */
export interface SolveStats extends EngineStats {
    readonly loadMs: number;
    readonly queuedMs: number;
}

export interface SolveResult {
    readonly jobId: string;
    readonly method: Method;
    readonly params: {alpha: number; blockSize: number; mcmcSteps: number; maxTokens: number; alternatives: number; seed: number; mode: PromptMode};
    /** The chosen sample: the likeliest member of the largest answer group. */
    readonly answer: SolvedAlternative;
    readonly answerIndex: number;
    readonly alternatives: SolvedAlternative[];
    /** Alternatives gathered by normalised final answer, largest group first. */
    readonly groups: AnswerGroup[];
    readonly stats: SolveStats;
}

export interface ProgressParams {
    readonly jobId: string;
    /** Current text of each chain. */
    readonly chains: string[];
    readonly block: number;
    readonly blocks: number;
    readonly mcmcStep: number;
    readonly mcmcStepsPerBlock: number;
    readonly acceptanceRate: number | null;
    readonly proposedTokens: number;
}

export interface LoadModelResult {
    readonly model: string;
    readonly contextSize: number;
    readonly loadMs: number;
}

export type BackendState = "starting" | "idle" | "downloading" | "loading" | "running" | "error";

export interface BackendStatus {
    readonly state: BackendState;
    /** The loaded (or loading) model reference, as the client named it. */
    readonly model: string | null;
    /** 0..1 while downloading or loading. */
    readonly progress: number | null;
    /** "cpu", or the GPU type llama.cpp runs on ("cuda", "vulkan", "metal"). */
    readonly gpu: string;
    readonly threads: number | null;
    readonly contextSize: number | null;
    /** Jobs waiting, the running one excluded. */
    readonly queueLength: number;
    readonly running: string | null;
    readonly error: string | null;
}

export interface InitializationOptions {
    /** Where downloaded models go (the extension's global storage). */
    readonly cacheDir?: string;
    readonly threads?: number;
    readonly gpu?: "auto" | "cpu" | "cuda" | "vulkan" | "metal";
    /** Waiting jobs beyond the running one; more get a Busy error. */
    readonly queueLimit?: number;
    /** Most tokens (prompt + generated) a sequence may hold; default the model's trained context. */
    readonly contextSize?: number;
    /** Minimum milliseconds between progress notifications of a job (default 250). */
    readonly progressIntervalMs?: number;
}

/** JSON-RPC error codes the backend answers with. */
export const ERROR_CODES = {
    /** Invalid parameters, or a prompt too long for the context: the message says which. */
    invalidParams: -32602,
    /** The model is missing, not GGUF, corrupt, or could not be downloaded. */
    modelUnavailable: -32001,
    /** The queue is full. */
    busy: -32002,
    /** LSP's RequestCancelled. */
    cancelled: -32800,
    internal: -32603
} as const;
