/**
 * The backend process, started through vscode-languageclient on first use. If it dies the user
 * is told, and the next command starts a fresh one.
 */
import * as vscode from "vscode";
import {CloseAction, ErrorAction, LanguageClient, ResponseError, TransportKind, type ServerOptions} from "vscode-languageclient/node";
import {
    type BackendStatus, ERROR_CODES, INSTALL_GPU_SUPPORT_REQUEST, type InitializationOptions, type InstallGpuSupportResult, LOAD_MODEL_REQUEST,
    type LoadModelResult, PROGRESS_NOTIFICATION, type ProgressNotification, SOLVE_REQUEST, type SolveRequest, type SolveResponse, STATUS
} from "../protocol/backend.js";
import type {Settings} from "./settings.js";

export type ClientState = BackendStatus | {readonly state: "stopped" | "crashed"; readonly error: string | null};

/** A failed request, with the backend's one-line message and whether the user cancelled. */
export class BackendRequestError extends Error {
    override name = "BackendRequestError";

    constructor(message: string, readonly cancelled: boolean, readonly code?: number) {
        super(message);
    }
}

export class BackendClient implements vscode.Disposable {
    private client?: LanguageClient;
    private starting?: Promise<LanguageClient>;
    private readonly progressListeners = new Map<string, (progress: ProgressNotification) => void>();
    private readonly stateEmitter = new vscode.EventEmitter<ClientState>();
    readonly onState = this.stateEmitter.event;

    constructor(private readonly context: vscode.ExtensionContext, private readonly log: vscode.LogOutputChannel) {}

    /** Solves; `onProgress` sees this job's progress notifications. */
    async solve(request: SolveRequest & {jobId: string}, token: vscode.CancellationToken,
        onProgress: (progress: ProgressNotification) => void, settings: Settings): Promise<SolveResponse> {
        const client = await this.ensureStarted(settings);
        this.progressListeners.set(request.jobId, onProgress);
        try {
            return await this.request(() => client.sendRequest<SolveResponse>(SOLVE_REQUEST, request, token));
        } finally {
            this.progressListeners.delete(request.jobId);
        }
    }

    /** Downloads (if remote) and loads a model ahead of a solve. */
    async loadModel(model: string, token: vscode.CancellationToken, settings: Settings): Promise<LoadModelResult> {
        const client = await this.ensureStarted(settings);
        return this.request(() => client.sendRequest<LoadModelResult>(LOAD_MODEL_REQUEST, {model}, token));
    }

    /** Downloads this platform's CUDA build into the model cache; progress comes as "installing" states. */
    async installGpuSupport(token: vscode.CancellationToken, settings: Settings): Promise<InstallGpuSupportResult> {
        const client = await this.ensureStarted(settings);
        return this.request(() => client.sendRequest<InstallGpuSupportResult>(INSTALL_GPU_SUPPORT_REQUEST, token));
    }

    /** Stops the process; the next request starts a new one (used when process settings change, and on deactivation). */
    async stop(): Promise<void> {
        const client = this.client;
        this.client = undefined;
        this.starting = undefined;
        if (client) {
            await client.stop().catch((error: unknown) => this.log.appendLine(`stopping the backend: ${String(error)}`));
            this.stateEmitter.fire({state: "stopped", error: null});
        }
    }

    dispose(): void {
        void this.stop();
        this.stateEmitter.dispose();
    }

    private async request<T>(send: () => Promise<T>): Promise<T> {
        try {
            return await send();
        } catch (error) {
            if (error instanceof ResponseError) throw new BackendRequestError(error.message, error.code === ERROR_CODES.cancelled, error.code);
            if (error instanceof vscode.CancellationError) throw new BackendRequestError("cancelled", true);
            throw new BackendRequestError(`the backend failed: ${error instanceof Error ? error.message : String(error)}`, false);
        }
    }

    private ensureStarted(settings: Settings): Promise<LanguageClient> {
        if (this.client) return Promise.resolve(this.client);
        this.starting ??= this.start(settings).then((client) => {
            this.client = client;
            return client;
        }, (error: unknown) => {
            this.starting = undefined;
            throw new BackendRequestError(`the backend did not start: ${error instanceof Error ? error.message : String(error)}`, false);
        });
        return this.starting;
    }

    /** The log's account of the backend: models loaded (what they run on) and the errors it reports. */
    private tell(previous: BackendStatus | undefined, status: BackendStatus): void {
        if (status.state === "loading" && previous?.state !== "loading") this.log.info(`loading model ${status.model}`);
        if (status.compute && status.compute !== previous?.compute)
            this.log.info(`model ready: ${status.model} (${((status.modelBytes ?? 0) / 2 ** 20).toFixed(0)} MB), context ${status.contextSize} tokens; `
                + `runs on ${status.compute.summary}, ${status.compute.threads} threads`);
        if (status.compute?.reason && status.compute !== previous?.compute) this.log.warn(`GPU: ${status.compute.reason}`);
        if (status.error && status.error !== previous?.error) this.log.error(`backend: ${status.error}`);
    }

    private async start(settings: Settings): Promise<LanguageClient> {
        this.log.info(`starting the backend (${this.context.asAbsolutePath("dist/cli.js")} serve), gpu ${settings.gpu}, threads ${settings.threads || "auto"}, `
            + `model cache ${settings.modelCacheFolder || this.context.globalStorageUri.fsPath}`);
        this.stateEmitter.fire({state: "starting", model: null, progress: null, compute: null, contextSize: null, modelBytes: null, queueLength: 0, running: null, error: null});
        const serverModule = this.context.asAbsolutePath("dist/cli.js");
        const server = {module: serverModule, args: ["serve", "--stdio"], transport: TransportKind.stdio};
        const serverOptions: ServerOptions = {run: server, debug: server};
        const initializationOptions: InitializationOptions = {
            cacheDir: settings.modelCacheFolder || this.context.globalStorageUri.fsPath,
            threads: settings.threads || undefined,
            gpu: settings.gpu,
            contextSize: settings.contextSize || undefined
        };
        const client = new LanguageClient("powerSampling", "Power Sampling backend", serverOptions, {
            documentSelector: [],
            outputChannel: this.log,
            initializationOptions,
            errorHandler: {
                error: () => ({action: ErrorAction.Continue}),
                closed: () => {
                    if (this.client === client) this.crashed(client);
                    return {action: CloseAction.DoNotRestart, handled: true};
                }
            }
        });
        client.onNotification(PROGRESS_NOTIFICATION, (progress: ProgressNotification) => this.progressListeners.get(progress.jobId)?.(progress));
        let previous: BackendStatus | undefined;
        client.onNotification(STATUS, (status: BackendStatus) => {
            this.tell(previous, status);
            previous = status;
            this.stateEmitter.fire(status);
        });
        await client.start();
        return client;
    }

    private crashed(client: LanguageClient): void {
        this.client = undefined;
        this.starting = undefined;
        void client.dispose();
        const message = "The Power Sampling backend stopped unexpectedly. It restarts with the next command.";
        this.log.appendLine(message);
        this.stateEmitter.fire({state: "crashed", error: message});
        void vscode.window.showErrorMessage(message, "Show Log").then((choice) => { if (choice) this.log.show(); });
    }
}
