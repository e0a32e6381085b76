/**
 * The backend's engines when it runs on inference servers: nothing native, so jobs run in the
 * backend process itself. Each job checks the servers first (reachable, the same model as each
 * other, what power sampling needs), and so does the backend's timer between jobs (`recheck`),
 * so the status follows a server that went down, is loading or changed its model; a failure is
 * the job's, with a message naming the server, and the backend serves on.
 */
import type {ComputeInfo, RemoteStatus} from "../protocol/backend.js";
import type {PromptMode, SamplingParams} from "../protocol/params.js";
import type {SolveResult} from "../protocol/results.js";
import {solve} from "../llama/solve.js";
import {RemoteLanguageModel, type RemoteOptions} from "../remote/model.js";
import type {ServerInfo} from "../remote/server.js";
import {CancelledError} from "../sampling/errors.js";
import type {LoadedModel} from "./engine-messages.js";
import type {Engines, SolveJobOptions} from "./engines.js";

export interface RemoteEnginesOptions extends Pick<RemoteOptions, "apiKey" | "timeoutMs" | "recoveryMs"> {
    /** Checked base URLs (see address.ts). */
    readonly urls: readonly string[];
    /** Each time the servers have been checked. */
    readonly onStatus: (status: RemoteStatus) => void;
}

export class RemoteEngines implements Engines {
    private model?: RemoteLanguageModel;
    /** Checks started, and the latest whose outcome was reported: an older check's outcome is stale. */
    private checksStarted = 0;
    private checkReported = 0;
    /** The latest check's outcome. */
    private reported: RemoteStatus | null = null;

    constructor(private readonly options: RemoteEnginesOptions) {}

    /** The servers' model as the latest check found it. */
    get reference(): string | null {
        return this.reported?.ready ? this.reported.model : null;
    }

    /** The servers' state as a status, before anything was checked. */
    initialStatus(): RemoteStatus {
        return {urls: [...this.options.urls], ready: false, model: null, engine: null, slots: 0, summary: `${hostsOf(this.options.urls)} (not checked yet)`, error: null};
    }

    async acquire(_reference: string | undefined, signal: AbortSignal): Promise<{model: LoadedModel; loadMs: number}> {
        const start = performance.now();
        try {
            this.model = await this.check(signal);
        } catch (error) {
            this.model = undefined;
            throw error;
        }
        return {model: this.loaded(this.model), loadMs: performance.now() - start};
    }

    /**
     * Checks the servers between jobs, leaving the jobs' model alone; the status is reported when
     * it changed. Returns what the servers hold when they became ready, else null. Never throws.
     */
    async recheck(signal: AbortSignal): Promise<LoadedModel | null> {
        const before = this.reported;
        const model = await this.check(signal).catch(() => null);
        return model && !sameStatus(this.reported, before) ? this.loaded(model) : null;
    }

    private loaded({servers, contextSize}: RemoteLanguageModel): LoadedModel {
        return {contextSize, compute: remoteCompute(readyStatus(this.options.urls, servers)), sizeBytes: servers[0]!.sizeBytes};
    }

    /** Connects to the servers and reports what it found, unless a later check has reported already. */
    private async check(signal: AbortSignal): Promise<RemoteLanguageModel> {
        const {urls, apiKey, timeoutMs, recoveryMs} = this.options;
        const id = ++this.checksStarted;
        try {
            const model = await RemoteLanguageModel.connect(urls, {apiKey, timeoutMs, recoveryMs, signal});
            this.report(id, readyStatus(urls, model.servers));
            return model;
        } catch (error) {
            if (!(error instanceof CancelledError))
                this.report(id, {...this.initialStatus(), summary: `${hostsOf(urls)} (unavailable)`, error: error instanceof Error ? error.message : String(error)});
            throw error;
        }
    }

    private report(id: number, status: RemoteStatus): void {
        if (id < this.checkReported) return;
        this.checkReported = id;
        const changed = !sameStatus(status, this.reported);
        this.reported = status;
        if (changed) this.options.onStatus(status);
    }

    solve(prompt: string, mode: PromptMode, params: SamplingParams, options: SolveJobOptions): Promise<SolveResult> {
        if (!this.model) return Promise.reject(new Error("the servers were not checked before the job"));
        return solve(this.model, prompt, mode, params, options);
    }

    async dispose(): Promise<void> {
        this.model = undefined;
    }
}

function readyStatus(urls: readonly string[], servers: readonly ServerInfo[]): RemoteStatus {
    const slots = servers.reduce((sum, server) => sum + server.slots, 0);
    const {model, engine} = servers[0]!;
    return {urls: [...urls], ready: true, model, engine, slots, summary: `${hostsOf(urls)} · ${model} · ${slots} slot${slots === 1 ? "" : "s"}`, error: null};
}

function sameStatus(a: RemoteStatus | null, b: RemoteStatus | null): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

function hostsOf(urls: readonly string[]): string {
    return `llama-server ${urls.map((url) => new URL(url).host).join(", ")}`;
}

/** The servers as the status's compute line: what runs the model, in the same shape as a local model's. */
function remoteCompute(status: RemoteStatus): ComputeInfo {
    return {backend: "llama-server", devices: [], layers: null, reason: null, summary: status.summary, threads: 0};
}
