/**
 * The backend's side of the engine process, which holds one model at a time. It starts on demand
 * (opening llama.cpp takes a second or two, so a new model loads into the running engine) and is
 * replaced after a number of models, which returns whatever their loads left behind. Remote
 * references download here first. When the engine dies (a native abort, the kernel's
 * out-of-memory killer), its load or jobs fail with a message that says so, and the next
 * request starts a fresh one: the backend itself keeps serving.
 */
import {type ChildProcess, fork} from "node:child_process";
import {CorruptModelError, InvalidInputError} from "../protocol/errors.js";
import type {GpuChoice} from "../protocol/backend.js";
import type {PromptMode, SamplingParams} from "../protocol/params.js";
import type {SolveProgress, SolveResult} from "../protocol/results.js";
import {CancelledError} from "../sampling/errors.js";
import type {EngineError, FromEngine, LoadedModel, ToEngine} from "./engine-messages.js";
import {isRemoteReference} from "../protocol/model-reference.js";
import {resolveModelSource, setAsideCachedModel} from "./model-source.js";

export interface EngineHostOptions {
    /** The command line script whose `engine` command runs an engine. */
    readonly script: string;
    readonly cacheDir: string;
    readonly threads?: number;
    readonly contextSize?: number;
    readonly gpu?: GpuChoice;
    /** Download or load progress of `reference`, 0..1 (null when the size is unknown). */
    readonly onProgress: (phase: "downloading" | "loading", reference: string, progress: number | null) => void;
    /** Where the engine's own output goes (llama.cpp's log lines); the backend's stderr by default. */
    readonly log?: (line: string) => void;
}

export interface SolveJobOptions {
    readonly signal: AbortSignal;
    /** The prompt's document language, for the "auto" mode. */
    readonly languageId?: string;
    readonly onProgress: (progress: SolveProgress) => void;
    readonly progressIntervalMs: number;
    readonly queuedMs: number;
    readonly loadMs: number;
}

/** The engine stopped: it was killed, aborted, or ran out of memory. */
export class EngineCrashedError extends Error {
    override name = "EngineCrashedError";
}

/** How long a cancelled job may take to wind down before its engine is stopped. */
const CANCEL_GRACE_MS = 5000;
/** Lines of the engine's output kept to explain a crash. */
const OUTPUT_TAIL_LINES = 20;
/** Models one engine loads before a fresh process takes over (llama.cpp keeps ~0.5 MB per model). */
const MODELS_PER_ENGINE = 16;

interface PendingJob {
    readonly resolve: (result: SolveResult) => void;
    readonly reject: (error: unknown) => void;
    readonly onProgress: (progress: SolveProgress) => void;
}

class Engine {
    readonly process: ChildProcess;
    readonly jobs = new Map<number, PendingJob>();
    readonly output: string[] = [];
    /** Models asked to load so far. */
    loads = 0;
    /** Set when the process has exited: how. */
    exit: string | null = null;
    private readonly exitListeners = new Set<(how: string) => void>();
    private readonly messageListeners = new Set<(message: FromEngine) => void>();

    constructor(script: string, private readonly log: (line: string) => void) {
        // stdout is the backend's protocol channel: the engine's output must not reach it.
        this.process = fork(script, ["engine"], {stdio: ["ignore", "pipe", "pipe", "ipc"]});
        for (const stream of [this.process.stdout!, this.process.stderr!]) {
            stream.setEncoding("utf8");
            stream.on("data", (chunk: string) => this.record(chunk));
        }
        this.process.on("message", (message: FromEngine) => { for (const listener of this.messageListeners) listener(message); });
        this.process.on("exit", (code, signal) => {
            this.exit = signal ? `${signal}` : `exit code ${code}`;
            for (const listener of this.exitListeners) listener(this.exit);
        });
        // A send to an engine that just died fails here; its exit handler explains it.
        this.process.on("error", (error) => this.log(`engine process: ${error.message}`));
    }

    /** Returns the function that removes the listener. */
    onMessage(listener: (message: FromEngine) => void): () => void {
        this.messageListeners.add(listener);
        return () => this.messageListeners.delete(listener);
    }

    onExit(listener: (how: string) => void): () => void {
        this.exitListeners.add(listener);
        return () => this.exitListeners.delete(listener);
    }

    send(message: ToEngine): void {
        if (this.exit === null && this.process.connected) this.process.send(message);
    }

    /** The last line the engine wrote, for a crash message. */
    lastLine(): string {
        return this.output.at(-1) ?? "";
    }

    async stop(): Promise<void> {
        if (this.exit !== null) return;
        const exited = new Promise<void>((resolve) => { this.onExit(() => resolve()); });
        this.process.kill("SIGKILL");
        await exited;
    }

    private record(chunk: string): void {
        for (const line of chunk.split("\n")) {
            if (line.trim() === "") continue;
            this.output.push(line);
            this.log(line);
        }
        this.output.splice(0, Math.max(0, this.output.length - OUTPUT_TAIL_LINES));
    }
}

export class EngineHost {
    private engine?: Engine;
    private current?: {readonly reference: string; readonly model: LoadedModel};
    private nextJobId = 1;

    constructor(private readonly options: EngineHostOptions) {}

    get reference(): string | null {
        return this.current?.reference ?? null;
    }

    /** The model for `reference`, loading it (in place of the current one) when needed. */
    async acquire(reference: string, signal: AbortSignal): Promise<{model: LoadedModel; loadMs: number}> {
        if (this.current?.reference === reference && this.engine?.exit === null) return {model: this.current.model, loadMs: 0};
        const start = performance.now();
        const path = await resolveModelSource(reference, {
            cacheDir: this.options.cacheDir,
            signal,
            onProgress: isRemoteReference(reference)
                ? ({downloadedBytes, totalBytes}) => this.options.onProgress("downloading", reference, totalBytes ? downloadedBytes / totalBytes : null)
                : undefined
        });
        this.current = undefined;
        this.options.onProgress("loading", reference, 0);
        const engine = await this.freshEnough();
        try {
            const model = await this.load(engine, path, reference, signal);
            this.current = {reference, model};
            return {model, loadMs: performance.now() - start};
        } catch (error) {
            // A cancelled load may still be running in native code: that engine cannot be trusted.
            if (error instanceof CancelledError) await this.stopEngine();
            // A downloaded file llama.cpp cannot load is set aside, so the next request fetches it again.
            else if (error instanceof InvalidInputError && isRemoteReference(reference)) await setAsideCachedModel(reference, this.options.cacheDir);
            throw error;
        }
    }

    /** Runs a job on the loaded engine; acquire() first. */
    solve(prompt: string, mode: PromptMode, params: SamplingParams, options: SolveJobOptions): Promise<SolveResult> {
        const engine = this.engine;
        if (!this.current || !engine || engine.exit !== null) return Promise.reject(new EngineCrashedError("no model is loaded"));
        const id = this.nextJobId++;
        return new Promise<SolveResult>((resolve, reject) => {
            engine.jobs.set(id, {resolve, reject, onProgress: options.onProgress});
            const {signal} = options;
            const cancel = () => {
                engine.send({type: "cancel", id});
                // A native call that does not return would hold the queue: stop the engine instead.
                setTimeout(() => {
                    const job = engine.jobs.get(id);
                    if (!job) return;
                    engine.jobs.delete(id);
                    job.reject(new CancelledError());
                    void engine.stop();
                }, CANCEL_GRACE_MS).unref();
            };
            if (signal.aborted) cancel();
            else signal.addEventListener("abort", cancel, {once: true});
            engine.send({type: "solve", id, prompt, mode, params, languageId: options.languageId, progressIntervalMs: options.progressIntervalMs,
                queuedMs: options.queuedMs, loadMs: options.loadMs});
        });
    }

    async dispose(): Promise<void> {
        await this.stopEngine();
    }

    /** The running engine, or a new one when there is none or it has loaded enough models. */
    private async freshEnough(): Promise<Engine> {
        if (this.engine && this.engine.exit === null && this.engine.loads < MODELS_PER_ENGINE) return this.engine;
        await this.stopEngine();
        const engine = new Engine(this.options.script, this.options.log ?? ((line) => process.stderr.write(`${line}\n`)));
        engine.onMessage((message) => this.route(engine, message));
        engine.onExit((how) => this.crashed(engine, how));
        this.engine = engine;
        return engine;
    }

    private async stopEngine(): Promise<void> {
        const engine = this.engine;
        this.engine = undefined;
        this.current = undefined;
        await engine?.stop();
    }

    private load(engine: Engine, path: string, reference: string, signal: AbortSignal): Promise<LoadedModel> {
        engine.loads++;
        return new Promise((resolve, reject) => {
            const settle = (outcome: () => void) => {
                signal.removeEventListener("abort", onAbort);
                stopMessages();
                stopExit();
                outcome();
            };
            const onAbort = () => settle(() => reject(new CancelledError()));
            signal.addEventListener("abort", onAbort, {once: true});
            const stopMessages = engine.onMessage((message) => {
                if (message.type === "loadProgress") this.options.onProgress("loading", reference, message.progress);
                else if (message.type === "loaded") settle(() => resolve(message.model));
                else if (message.type === "loadFailed") settle(() => reject(toError(message.error)));
            });
            const stopExit = engine.onExit((how) => {
                const detail = engine.lastLine();
                settle(() => reject(new CorruptModelError(`model is corrupt or not supported: llama.cpp stopped (${how}) while loading ${path}${detail ? `: ${detail}` : ""}`)));
            });
            engine.send({type: "load", path, options: {threads: this.options.threads, contextSize: this.options.contextSize, gpu: this.options.gpu, cacheDir: this.options.cacheDir}});
        });
    }

    private route(engine: Engine, message: FromEngine): void {
        if (message.type !== "progress" && message.type !== "result" && message.type !== "failed") return;
        const job = engine.jobs.get(message.id);
        if (!job) return;
        if (message.type === "progress") return job.onProgress(message.progress);
        engine.jobs.delete(message.id);
        if (message.type === "result") job.resolve(message.result);
        else job.reject(toError(message.error));
    }

    /** The engine is gone: its jobs fail, and the next acquire starts a fresh one. */
    private crashed(engine: Engine, how: string): void {
        if (this.engine === engine) {
            this.engine = undefined;
            this.current = undefined;
        }
        const detail = engine.lastLine();
        for (const job of engine.jobs.values())
            job.reject(new EngineCrashedError(`the model process stopped (${how}) while sampling${detail ? `: ${detail}` : ""}; the next request loads the model again`));
        engine.jobs.clear();
    }
}

function toError(error: EngineError): Error {
    switch (error.kind) {
        case "cancelled": return new CancelledError();
        case "corrupt": return new CorruptModelError(error.message);
        case "invalid": return new InvalidInputError(error.message);
        case "internal": return new Error(error.message);
    }
}
