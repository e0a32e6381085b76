/**
 * The JSON-RPC protocol between the extension and the backend process, beside standard LSP:
 * request names, parameters, status and error codes.
 */
import type {PromptMode, SamplingParams} from "./params.js";
import type {SolveProgress, SolveResult} from "./results.js";

export const SOLVE_REQUEST = "powerSampling/solve";
/** Server to client while a job runs: at most a few a second. */
export const PROGRESS_NOTIFICATION = "powerSampling/progress";
/** Downloads (if remote) and loads a model without solving: LoadModelRequest -> LoadModelResult. */
export const LOAD_MODEL_REQUEST = "powerSampling/loadModel";
/** Client to server as a request; server to client as a notification whenever it changes. */
export const STATUS = "powerSampling/status";
/**
 * Downloads this platform's CUDA build of llama.cpp into the model cache (an explicit user action:
 * about 320 MB), with progress in the status ("installing"): -> InstallGpuSupportResult.
 */
export const INSTALL_GPU_SUPPORT_REQUEST = "powerSampling/installGpuSupport";

export interface InstallGpuSupportResult {
    /** The GPU backend installed ("cuda"). */
    readonly backend: string;
    readonly folder: string;
}

export interface SolveRequest {
    readonly prompt: string;
    /** A local GGUF path, an `hf:user/repo:quant` URI or an https URL; with a `server`, optional and not used (the server holds its model). */
    readonly model?: string;
    /** "auto" picks a mode from the prompt, the document's language and the model (the result says which). */
    readonly mode?: PromptMode;
    /** The language of the document the prompt came from (VS Code's languageId), for "auto". */
    readonly languageId?: string;
    /** Sampling parameters (see PARAMETERS); missing ones take their defaults. */
    readonly params?: Partial<SamplingParams>;
    /** Echoed in progress notifications; the server makes one up when absent. */
    readonly jobId?: string;
}

export interface SolveResponse extends SolveResult {
    readonly jobId: string;
}

export interface ProgressNotification extends SolveProgress {
    readonly jobId: string;
}

export interface LoadModelRequest {
    /** As in SolveRequest; with a `server`, loadModel checks the servers again and refreshes the status. */
    readonly model?: string;
}

export interface LoadModelResult {
    readonly model: string;
    readonly contextSize: number;
    readonly loadMs: number;
}

export type BackendState = "starting" | "idle" | "downloading" | "installing" | "loading" | "running";

/** What llama.cpp runs on, as loaded (not as asked for). */
export interface ComputeInfo {
    /** "cpu", or the GPU backend the model's layers run on ("cuda", "vulkan", "metal"). */
    readonly backend: string;
    /** GPU device names; empty on the CPU. */
    readonly devices: readonly string[];
    /** The model's layers on the GPU, of its total. */
    readonly layers: {readonly offloaded: number; readonly total: number} | null;
    /** Why the CPU runs when a GPU was asked for or looked for (no build, no driver, out of memory), with how to fix it. */
    readonly reason: string | null;
    /** One line for a status bar or a log, e.g. "CUDA (NVIDIA H200), 29/29 layers" or "CPU: ...". */
    readonly summary: string;
    readonly threads: number;
}

/** Inference servers the backend runs on (the `server` option), as last checked (/props, /health). */
export interface RemoteStatus {
    /** The servers' URLs, as given (checked, no trailing slash). */
    readonly urls: string[];
    /** The servers answered and can serve power sampling; false with `error` saying why not. */
    readonly ready: boolean;
    /** What the servers call their model (a file name or alias); null until one answered. */
    readonly model: string | null;
    /** The server software and build, e.g. "llama-server b7000 (80fb11a)"; null until one answered. */
    readonly engine: string | null;
    /** Parallel sequences over all servers (llama-server -np). */
    readonly slots: number;
    /** One line for a status bar, e.g. "llama-server 127.0.0.1:8080 · stories260K.gguf · 4 slots". */
    readonly summary: string;
    /** Why the servers cannot be used, with what to do; null when ready. */
    readonly error: string | null;
}

export interface BackendStatus {
    readonly state: BackendState;
    /** The loaded (or loading) model reference, credentials masked; with a server, what the server calls its model. */
    readonly model: string | null;
    /** With the `server` option: the servers and their model; null for the local engine. */
    readonly server?: RemoteStatus | null;
    /** 0..1 while downloading, installing or loading; null when unknown. */
    readonly progress: number | null;
    readonly compute: ComputeInfo | null;
    readonly contextSize: number | null;
    /** The loaded model's size in memory (its weights). */
    readonly modelBytes: number | null;
    /** Jobs waiting, the running one excluded. */
    readonly queueLength: number;
    readonly running: string | null;
    /** The last failure, until the next job succeeds. */
    readonly error: string | null;
}

/** What the client may set when it starts the backend; each is checked, and a bad one fails initialize. */
export interface InitializationOptions {
    /** Where downloaded models go (the extension's global storage). */
    readonly cacheDir?: string;
    /** CPU threads; default: chosen for the machine. */
    readonly threads?: number;
    readonly gpu?: GpuChoice;
    /** Waiting jobs beyond the running one; more get a Busy error. */
    readonly queueLimit?: number;
    /** Most tokens (prompt + generated) a sequence may hold; default the model's trained context. */
    readonly contextSize?: number;
    /** Minimum milliseconds between progress notifications of a job (default 250). */
    readonly progressIntervalMs?: number;
    /**
     * Run on llama-server(s) at these URLs instead of a local model ("" or absent: local). Several
     * URLs spread a job's chains over the servers, which must hold the same model.
     */
    readonly server?: string | string[];
    /** llama-server's --api-key (the extension keeps it in SecretStorage); never logged or echoed. */
    readonly apiKey?: string;
    /** Allow plain http:// to a server on another machine (prompts readable on the network); loopback needs no opt-in. */
    readonly allowPlainHttp?: boolean;
    /** With `server`: milliseconds between checks of the servers while no job runs (default 30 s), so the status follows them. */
    readonly serverCheckIntervalMs?: number;
}

export const GPU_CHOICES = ["auto", "cpu", "cuda", "vulkan", "metal"] as const;
/** "auto" takes a GPU when one works, else the CPU; a GPU that cannot be used falls back to the CPU with a reason. */
export type GpuChoice = (typeof GPU_CHOICES)[number];

/** JSON-RPC error codes the backend answers with. */
export const ERROR_CODES = {
    /** LSP: a request after shutdown. */
    invalidRequest: -32600,
    /** Invalid parameters, or a prompt too long for the context or memory: the message says which. */
    invalidParams: -32602,
    /** The model is missing, not GGUF, corrupt, could not be downloaded, or crashed llama.cpp. */
    modelUnavailable: -32001,
    /** The queue is full. */
    busy: -32002,
    /** LSP's RequestCancelled. */
    cancelled: -32800,
    internal: -32603
} as const;
