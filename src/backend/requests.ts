/**
 * The backend's boundary: every request and the client's initialization options are checked
 * here, once, before anything is queued, loaded or allocated; a bad one gets one line that
 * names what is wrong.
 */
import {randomUUID} from "node:crypto";
import {type GpuChoice, GPU_CHOICES, type InitializationOptions} from "../protocol/backend.js";
import {InvalidInputError} from "../protocol/errors.js";
import {checkPrompt, type PromptMode, resolveParams, resolvePromptMode, type SamplingParams, show} from "../protocol/params.js";
import {parseServerUrls} from "../remote/address.js";

export interface SolveJob {
    readonly jobId: string;
    readonly prompt: string;
    /** Absent only when the backend runs on servers, which hold their model. */
    readonly model?: string;
    readonly mode: PromptMode;
    readonly languageId?: string;
    readonly params: SamplingParams;
}

/** Longest job id echoed back. */
const MAX_JOB_ID_LENGTH = 200;

/** `remote`: the backend runs on servers, so the model may be left out (it is not used). */
export function checkSolveRequest(raw: unknown, remote = false): SolveJob {
    const request = requireObject(raw, "solve");
    const jobId = request.jobId ?? randomUUID();
    if (typeof jobId !== "string" || jobId.length > MAX_JOB_ID_LENGTH) throw new InvalidInputError(`jobId must be a string of at most ${MAX_JOB_ID_LENGTH} characters`);
    const {languageId} = request;
    if (languageId !== undefined && (typeof languageId !== "string" || languageId.length > 100))
        throw new InvalidInputError("languageId must be a string of at most 100 characters");
    return {
        jobId,
        prompt: checkPrompt(request.prompt),
        model: remote && request.model === undefined ? undefined : requireModelReference(request.model),
        mode: resolvePromptMode(request.mode),
        languageId,
        params: resolveParams(request.params ?? {})
    };
}

export function checkLoadModelRequest(raw: unknown, remote = false): string | undefined {
    const {model} = requireObject(raw, "loadModel");
    return remote && model === undefined ? undefined : requireModelReference(model);
}

export function requireModelReference(value: unknown): string {
    if (typeof value !== "string" || value.trim() === "") throw new InvalidInputError("model must name a GGUF file, an hf: URI or an https URL");
    if (value.length > 4096) throw new InvalidInputError("model reference is longer than 4096 characters");
    return value;
}

export interface BackendOptions {
    readonly cacheDir: string;
    readonly threads?: number;
    readonly gpu: GpuChoice;
    readonly queueLimit: number;
    readonly contextSize?: number;
    readonly progressIntervalMs: number;
    /** Server base URLs (checked); null: the local engine. */
    readonly servers: string[] | null;
    readonly apiKey?: string;
    readonly serverCheckIntervalMs: number;
}

const DEFAULT_QUEUE_LIMIT = 4;
const DEFAULT_SERVER_CHECK_INTERVAL_MS = 30_000;
const DEFAULT_PROGRESS_INTERVAL_MS = 250;

/** The client's options over the server's defaults; a bad one fails initialize with its name. */
export function checkInitializationOptions(raw: unknown, defaults: {cacheDir: string; threads?: number}): BackendOptions {
    const options = (raw ?? {}) as Record<string, unknown>;
    if (typeof options !== "object" || Array.isArray(options)) throw new InvalidInputError("initializationOptions must be an object");
    const known: (keyof InitializationOptions)[] = ["cacheDir", "threads", "gpu", "queueLimit", "contextSize", "progressIntervalMs", "server", "apiKey",
        "allowPlainHttp", "serverCheckIntervalMs"];
    const unknown = Object.keys(options).find((key) => !(known as string[]).includes(key));
    if (unknown !== undefined) throw new InvalidInputError(`unknown initialization option ${JSON.stringify(unknown)}`);
    const integer = (key: string, min: number, max: number): number | undefined => {
        const value = options[key];
        if (value === undefined || value === null) return undefined;
        if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max)
            throw new InvalidInputError(`initialization option ${key} must be an integer in ${min}..${max}, got ${show(value)}`);
        return value;
    };
    const cacheDir = options.cacheDir ?? defaults.cacheDir;
    if (typeof cacheDir !== "string" || cacheDir.trim() === "") throw new InvalidInputError(`initialization option cacheDir must be a folder path, got ${show(cacheDir)}`);
    const gpu = options.gpu ?? "auto";
    if (!GPU_CHOICES.includes(gpu as GpuChoice)) throw new InvalidInputError(`initialization option gpu must be one of ${GPU_CHOICES.join(", ")}, got ${show(gpu)}`);
    const allowPlainHttp = options.allowPlainHttp ?? false;
    if (typeof allowPlainHttp !== "boolean") throw new InvalidInputError(`initialization option allowPlainHttp must be true or false, got ${show(allowPlainHttp)}`);
    const apiKey = options.apiKey ?? "";
    // The key itself is never shown, even in an error.
    if (typeof apiKey !== "string" || /[\r\n]/.test(apiKey)) throw new InvalidInputError("initialization option apiKey must be a string of one line");
    return {
        servers: checkServers(options.server, allowPlainHttp),
        apiKey: apiKey === "" ? undefined : apiKey,
        cacheDir,
        threads: integer("threads", 1, 1024) ?? defaults.threads,
        gpu: gpu as GpuChoice,
        queueLimit: integer("queueLimit", 1, 1000) ?? DEFAULT_QUEUE_LIMIT,
        contextSize: integer("contextSize", 16, 1 << 24),
        progressIntervalMs: integer("progressIntervalMs", 0, 60_000) ?? DEFAULT_PROGRESS_INTERVAL_MS,
        serverCheckIntervalMs: integer("serverCheckIntervalMs", 100, 3_600_000) ?? DEFAULT_SERVER_CHECK_INTERVAL_MS
    };
}

/** The `server` option: a URL or a list of them; "" or absent is the local engine. */
function checkServers(value: unknown, allowPlainHttp: boolean): string[] | null {
    const list = typeof value === "string" ? (value.trim() === "" ? [] : [value]) : value ?? [];
    if (!Array.isArray(list) || list.some((url) => typeof url !== "string"))
        throw new InvalidInputError(`initialization option server must be a URL or a list of URLs, got ${show(value)}`);
    if (list.length === 0) return null;
    return parseServerUrls(list as string[], {allowPlainHttp, optIn: "the allowPlainHttp option"});
}

function requireObject(raw: unknown, request: string): Record<string, unknown> {
    if (typeof raw !== "object" || raw === null || Array.isArray(raw)) throw new InvalidInputError(`${request} expects an object of named parameters`);
    return raw as Record<string, unknown>;
}
