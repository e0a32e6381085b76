/**
 * The backend: a language server (vscode-languageserver over stdio) that checks requests, queues
 * solve jobs one at a time, runs them on its engine process (engine-host.ts) or on inference
 * servers (remote-engines.ts, with the `server` option), streams progress and reports its
 * status. Nothing a request does can take it down: bad input is answered, a crashed engine is
 * replaced, a failing server fails the job.
 */
import {
    type CancellationToken, createConnection, ParameterStructures, RequestType, RequestType0, ResponseError, type Connection
} from "vscode-languageserver/node";
import {createStdioTransport} from "./framing.js";
import {
    type BackendStatus, ERROR_CODES, INSTALL_GPU_SUPPORT_REQUEST, type InstallGpuSupportResult, LOAD_MODEL_REQUEST, type LoadModelResult,
    PROGRESS_NOTIFICATION, SOLVE_REQUEST, type SolveResponse, STATUS
} from "../protocol/backend.js";
import {installGpuSupport} from "../llama/gpu-support.js";
import {CorruptModelError, InvalidInputError} from "../protocol/errors.js";
import {CancelledError} from "../sampling/errors.js";
import {RemoteServerError} from "../remote/http.js";
import {EngineCrashedError, EngineHost} from "./engine-host.js";
import type {LoadedModel} from "./engine-messages.js";
import type {Engines} from "./engines.js";
import {BusyError, type JobHandle, JobQueue} from "./jobs.js";
import {redactSecrets} from "./redact.js";
import {RemoteEngines} from "./remote-engines.js";
import {type BackendOptions, checkInitializationOptions, checkLoadModelRequest, checkSolveRequest, type SolveJob} from "./requests.js";

// Named parameters only: an array of parameters is answered with InvalidParams, not a crash.
const solveRequest = new RequestType<unknown, SolveResponse, void>(SOLVE_REQUEST, ParameterStructures.byName);
const statusRequest = new RequestType0<BackendStatus, void>(STATUS);
const loadModelRequest = new RequestType<unknown, LoadModelResult, void>(LOAD_MODEL_REQUEST, ParameterStructures.byName);
const installGpuSupportRequest = new RequestType0<InstallGpuSupportResult, void>(INSTALL_GPU_SUPPORT_REQUEST);

export interface ServerOptions {
    /** Defaults for what the client's initializationOptions leave out. */
    readonly cacheDir: string;
    readonly threads?: number;
    /** The editor's process: when it is gone, so is the reason to run. */
    readonly clientProcessId?: number;
    /** The command line script, whose `engine` command runs the engine process. */
    readonly script: string;
}

export function startStdioServer(options: ServerOptions): Connection {
    // stdout carries the protocol: anything printed goes to stderr (the client's log).
    console.log = console.error;
    console.info = console.error;
    // A job's stray failure is logged; the server keeps serving.
    process.on("unhandledRejection", (reason) => console.error("unhandled rejection:", reason));
    const {reader, writer} = createStdioTransport();
    const connection = createConnection(reader, writer);
    serve(connection, options);
    connection.listen();
    if (options.clientProcessId !== undefined) exitWithProcess(options.clientProcessId);
    // A closed stdin means the client is gone, whether or not it said exit.
    process.stdin.on("end", () => process.exit(0));
    return connection;
}

export function serve(connection: Connection, defaults: ServerOptions): void {
    let status: BackendStatus = {
        state: "starting", model: null, server: null, progress: null, compute: null, contextSize: null, modelBytes: null, queueLength: 0, running: null,
        error: null
    };
    let queue: JobQueue | undefined;
    const setStatus = (patch: Partial<BackendStatus>) => {
        // A model reference may carry credentials (a signed URL): the status shows it masked.
        const masked = {...patch, ...(patch.model ? {model: redactSecrets(patch.model)} : {}), ...(patch.error ? {error: redactSecrets(patch.error)} : {})};
        status = {...status, ...masked, queueLength: queue?.length ?? 0};
        void connection.sendNotification(STATUS, status);
    };
    let backend: {readonly options: BackendOptions; readonly engines: Engines} | undefined;
    let shuttingDown = false;
    /** Every job's abort, so that shutdown can stop them. */
    const running = new Set<AbortController>();
    /** The servers' checks between jobs (with the `server` option). */
    let serverChecks: NodeJS.Timeout | undefined;
    const stopChecks = new AbortController();

    connection.onInitialize((params) => {
        let options: BackendOptions;
        try {
            options = checkInitializationOptions(params.initializationOptions, defaults);
        } catch (error) {
            throw toResponseError(error);
        }
        queue = new JobQueue(options.queueLimit, () => setStatus({}));
        let engines: Engines;
        if (options.servers) {
            const remote = new RemoteEngines({urls: options.servers, apiKey: options.apiKey, onStatus: (server) => setStatus({server})});
            status = {...status, server: remote.initialStatus()};
            engines = remote;
        } else {
            engines = new EngineHost({
                script: defaults.script,
                cacheDir: options.cacheDir,
                threads: options.threads,
                contextSize: options.contextSize,
                gpu: options.gpu,
                onProgress: (phase, reference, progress) => setStatus({state: phase, model: reference, progress})
            });
        }
        backend = {options, engines};
        return {capabilities: {}, serverInfo: {name: "power-sampling", version: "0.1.0"}};
    });
    const showModel = ({compute, contextSize, sizeBytes}: LoadedModel) =>
        setStatus({model: backend!.engines.reference, compute, contextSize, modelBytes: sizeBytes, error: null});
    connection.onInitialized(() => {
        setStatus({state: "idle"});
        const {engines, options} = backend ?? {};
        if (!(engines instanceof RemoteEngines) || !options || !queue) return;
        // The status bar names the server and its model from the start: check the servers now,
        // then again while no job runs, so that it follows a server that stops or comes back.
        void queue.submit((handle) => engines.acquire(undefined, handle.signal).then((acquired) => showModel(acquired.model)), new AbortController().signal)
            .catch((error: unknown) => setStatus({error: describe(error)}));
        let checking = false;
        serverChecks = setInterval(() => {
            if (checking || running.size > 0 || shuttingDown) return;
            checking = true;
            void engines.recheck(stopChecks.signal).then((model) => {
                if (model && running.size === 0) showModel(model);
            }).finally(() => { checking = false; });
        }, options.serverCheckIntervalMs);
        serverChecks.unref();
    });

    connection.onRequest(statusRequest, () => status);

    /**
     * A queued request: checked before it queues, cancelled by $/cancelRequest (also one that
     * arrived before the request was dispatched), and answered with a specific error code
     * whatever fails. After a failure the status is idle again, with the error.
     */
    const queued = <P, R>(check: (raw: unknown, remote: boolean) => P, job: (params: P, engines: Engines, handle: JobHandle) => Promise<R>) =>
        async (raw: unknown, token: CancellationToken): Promise<R> => {
            if (shuttingDown) throw new ResponseError(ERROR_CODES.invalidRequest, "the server is shutting down");
            if (!backend || !queue) throw new ResponseError(ERROR_CODES.invalidRequest, "the server is not initialized");
            const {engines} = backend;
            const cancel = new AbortController();
            if (token.isCancellationRequested) cancel.abort();
            else token.onCancellationRequested(() => cancel.abort());
            running.add(cancel);
            try {
                const params = check(raw, backend.options.servers !== null);
                return await queue.submit(async (handle) => {
                    try {
                        return await job(params, engines, handle);
                    } catch (error) {
                        setStatus({state: "idle", running: null, progress: null, model: engines.reference, error: error instanceof CancelledError ? null : describe(error)});
                        throw error;
                    }
                }, cancel.signal);
            } catch (error) {
                throw toResponseError(error);
            } finally {
                running.delete(cancel);
            }
        };

    connection.onRequest(solveRequest, queued(checkSolveRequest, async (request: SolveJob, engines, {signal, queuedMs}) => {
        setStatus({state: "running", running: request.jobId, error: null});
        const {model, loadMs} = await acquire(engines, request.model, signal);
        setStatus({state: "running", model: engines.reference, progress: null, compute: model.compute, contextSize: model.contextSize, modelBytes: model.sizeBytes});
        const result = await engines.solve(request.prompt, request.mode, request.params, {
            signal, queuedMs, loadMs, languageId: request.languageId,
            progressIntervalMs: backend!.options.progressIntervalMs,
            onProgress: (progress) => void connection.sendNotification(PROGRESS_NOTIFICATION, {...progress, jobId: request.jobId})
        });
        setStatus({state: "idle", running: null, error: null});
        return {...result, jobId: request.jobId};
    }));

    connection.onRequest(loadModelRequest, queued(checkLoadModelRequest, async (reference: string | undefined, engines, {signal}) => {
        const {model, loadMs} = await acquire(engines, reference, signal);
        setStatus({state: "idle", model: engines.reference, progress: null, compute: model.compute, contextSize: model.contextSize, modelBytes: model.sizeBytes,
            error: null});
        return {model: redactSecrets(engines.reference!), contextSize: model.contextSize, loadMs};
    }));

    /** Queued like a job: the engine is replaced after it, so that the next load finds the GPU build. */
    connection.onRequest(installGpuSupportRequest, (token) => queued(() => undefined, async (_, engines, {signal}) => {
        setStatus({state: "installing", progress: 0, error: null});
        const support = await installGpuSupport({
            cacheDir: backend!.options.cacheDir,
            signal,
            onProgress: ({downloadedBytes, totalBytes}) => setStatus({state: "installing", progress: totalBytes ? downloadedBytes / totalBytes : null})
        });
        await engines.dispose();
        setStatus({state: "idle", progress: null, model: null, compute: null, modelBytes: null});
        return {backend: support.backend, folder: support.folder};
    })(undefined, token));

    connection.onShutdown(async () => {
        shuttingDown = true;
        clearInterval(serverChecks);
        stopChecks.abort();
        for (const cancel of running) cancel.abort();
        await queue?.idle();
        await backend?.engines.dispose();
    });
}

/** Model failures become ModelUnavailable, whatever stage they came from. */
async function acquire(engines: Engines, reference: string | undefined, signal: AbortSignal): ReturnType<Engines["acquire"]> {
    try {
        return await engines.acquire(reference, signal);
    } catch (error) {
        if (error instanceof InvalidInputError && !(error instanceof ModelUnavailableError)) throw new ModelUnavailableError(error.message);
        throw error;
    }
}

/** The model stage failed: missing, not GGUF, corrupt, not downloadable, or it crashed llama.cpp. */
class ModelUnavailableError extends InvalidInputError {
    override name = "ModelUnavailableError";
}

function exitWithProcess(pid: number): void {
    setInterval(() => {
        try {
            process.kill(pid, 0);
        } catch {
            process.exit(0);
        }
    }, 3000).unref();
}

/** One line, secrets masked: what an error message may say to the client. */
function describe(error: unknown): string {
    return redactSecrets(error instanceof Error ? error.message.split("\n")[0]! : String(error));
}

/** Every failure answers with a specific code and a one-line message. */
function toResponseError(error: unknown): ResponseError<void> {
    if (error instanceof ResponseError) return error;
    if (error instanceof CancelledError) return new ResponseError(ERROR_CODES.cancelled, "the job was cancelled");
    if (error instanceof BusyError) return new ResponseError(ERROR_CODES.busy, error.message);
    if (error instanceof ModelUnavailableError || error instanceof CorruptModelError || error instanceof EngineCrashedError || error instanceof RemoteServerError)
        return new ResponseError(ERROR_CODES.modelUnavailable, describe(error));
    if (error instanceof InvalidInputError) return new ResponseError(ERROR_CODES.invalidParams, describe(error));
    console.error(redactSecrets(error instanceof Error ? error.stack ?? error.message : String(error)));
    return new ResponseError(ERROR_CODES.internal, `internal error: ${describe(error)}`);
}
