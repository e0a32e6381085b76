/**
 * The backend's engines when it runs on inference servers: nothing native, so jobs run in the
 * backend process itself. Each job checks the servers first (reachable, the same model as each
 * other, what power sampling needs), so the status follows a server that went down or changed
 * its model; a failure is the job's, with a message naming the server, and the backend serves on.
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

    constructor(private readonly options: RemoteEnginesOptions) {}

    get reference(): string | null {
        return this.model?.servers[0]!.model ?? null;
    }

    /** The servers' state as a status, before anything was checked. */
    initialStatus(): RemoteStatus {
        return {urls: [...this.options.urls], ready: false, model: null, engine: null, slots: 0, summary: `${hostsOf(this.options.urls)} (not checked yet)`, error: null};
    }

    async acquire(_reference: string | undefined, signal: AbortSignal): Promise<{model: LoadedModel; loadMs: number}> {
        const start = performance.now();
        const {urls, onStatus, ...options} = this.options;
        try {
            this.model = await RemoteLanguageModel.connect(urls, {...options, signal});
        } catch (error) {
            this.model = undefined;
            if (!(error instanceof CancelledError))
                onStatus({...this.initialStatus(), summary: `${hostsOf(urls)} (unavailable)`, error: error instanceof Error ? error.message : String(error)});
            throw error;
        }
        const {servers, contextSize} = this.model;
        const status = readyStatus(urls, servers);
        onStatus(status);
        return {model: {contextSize, compute: remoteCompute(status), sizeBytes: servers[0]!.sizeBytes}, loadMs: performance.now() - start};
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

function hostsOf(urls: readonly string[]): string {
    return `llama-server ${urls.map((url) => new URL(url).host).join(", ")}`;
}

/** The servers as the status's compute line: what runs the model, in the same shape as a local model's. */
function remoteCompute(status: RemoteStatus): ComputeInfo {
    return {backend: "llama-server", devices: [], layers: null, reason: null, summary: status.summary, threads: 0};
}
