/**
 * The backend: a language server (vscode-languageserver over stdio) that owns llama.cpp and the
 * model, runs sampling jobs one at a time, streams progress and reports its status.
 */
import {
    type CancellationToken, createConnection, RequestType, RequestType0, ResponseError, type Connection
} from "vscode-languageserver/node";
import {CancelledError, InvalidInputError} from "../sampling/errors.js";
import {createStdioTransport} from "./framing.js";
import {BusyError, type JobHandle, JobQueue} from "./jobs.js";
import {ModelManager} from "./models.js";
import {
    type BackendStatus, ERROR_CODES, type InitializationOptions, LOAD_MODEL_REQUEST, type LoadModelResult, PROGRESS_NOTIFICATION,
    SOLVE_REQUEST, type SolveResult, STATUS
} from "./protocol.js";
import {ModelUnavailableError, requireModelReference, runSolveJob, validateSolveParams} from "./solve-job.js";

// Typed request types: handlers then receive the cancellation token.
const solveRequest = new RequestType<unknown, SolveResult, void>(SOLVE_REQUEST);
const statusRequest = new RequestType0<BackendStatus, void>(STATUS);
const loadModelRequest = new RequestType<unknown, LoadModelResult, void>(LOAD_MODEL_REQUEST);

export interface ServerOptions {
    /** Defaults for what the client's initializationOptions leave out. */
    readonly cacheDir: string;
    readonly threads?: number;
    /** The editor's process: when it is gone, so is the reason to run. */
    readonly clientProcessId?: number;
}

const DEFAULT_QUEUE_LIMIT = 4;

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
        state: "starting", model: null, progress: null, gpu: "cpu", threads: null, contextSize: null,
        queueLength: 0, running: null, error: null
    };
    const setStatus = (patch: Partial<BackendStatus>) => {
        status = {...status, ...patch, queueLength: queue.length};
        void connection.sendNotification(STATUS, status);
    };
    let models: ModelManager | undefined;
    let queue = new JobQueue(DEFAULT_QUEUE_LIMIT);
    let progressIntervalMs: number | undefined;

    connection.onInitialize((params) => {
        const init = (params.initializationOptions ?? {}) as InitializationOptions;
        queue = new JobQueue(init.queueLimit ?? DEFAULT_QUEUE_LIMIT, () => setStatus({}));
        progressIntervalMs = init.progressIntervalMs;
        models = new ModelManager({
            cacheDir: init.cacheDir ?? defaults.cacheDir,
            threads: init.threads ?? defaults.threads,
            contextSize: init.contextSize,
            gpu: init.gpu,
            onProgress: (phase, reference, progress) => setStatus({state: phase, model: reference, progress})
        });
        return {capabilities: {}, serverInfo: {name: "power-sampling", version: "0.1.0"}};
    });
    connection.onInitialized(() => setStatus({state: "idle"}));

    connection.onRequest(statusRequest, () => status);

    /**
     * A queued request: validated before it queues, cancelled by $/cancelRequest, and answered
     * with a specific error code whatever fails.
     */
    const queued = <P, R>(validate: (raw: unknown) => P, job: (params: P, manager: ModelManager, handle: JobHandle) => Promise<R>) =>
        async (raw: unknown, token: CancellationToken): Promise<R> => {
            const manager = models;
            if (!manager) throw new ResponseError(ERROR_CODES.internal, "the server is not initialized");
            const cancel = new AbortController();
            token.onCancellationRequested(() => cancel.abort());
            try {
                const params = validate(raw);
                return await queue.submit((handle) => job(params, manager, handle), cancel.signal);
            } catch (error) {
                throw toResponseError(error);
            }
        };

    connection.onRequest(solveRequest, queued(validateSolveParams, async (request, manager, {signal, queuedMs}) => {
        setStatus({state: "running", running: request.jobId, error: null});
        try {
            const result = await runSolveJob(request, {
                signal,
                queuedMs,
                progressIntervalMs,
                acquireModel: async (reference, loadSignal) => {
                    const acquired = await manager.acquire(reference, loadSignal);
                    setStatus({state: "running", model: reference, progress: null, threads: acquired.model.threads,
                        contextSize: acquired.model.contextSize, gpu: manager.gpu});
                    return acquired;
                },
                onProgress: (progress) => void connection.sendNotification(PROGRESS_NOTIFICATION, progress)
            });
            setStatus({state: "idle", running: null, error: null});
            return result;
        } catch (error) {
            // A failed load leaves no model; anything else leaves the server ready.
            setStatus({state: "idle", running: null, progress: null, model: manager.reference, error: describe(error)});
            throw error;
        }
    }));

    connection.onRequest(loadModelRequest, queued(validateModelReference, async (reference, manager, {signal}) => {
        try {
            const {model, loadMs} = await manager.acquire(reference, signal);
            setStatus({state: "idle", model: reference, progress: null, threads: model.threads, contextSize: model.contextSize, gpu: manager.gpu, error: null});
            return {model: reference, contextSize: model.contextSize, loadMs};
        } catch (error) {
            setStatus({state: "idle", progress: null, model: manager.reference, error: describe(error)});
            throw error instanceof InvalidInputError ? new ModelUnavailableError(error.message) : error;
        }
    }));

    connection.onShutdown(async () => {
        await models?.dispose();
    });
}

function validateModelReference(raw: unknown): string {
    return requireModelReference((raw as {model?: unknown} | null)?.model);
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

function describe(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

/** Every failure answers with a specific code and a one-line message. */
function toResponseError(error: unknown): ResponseError<void> {
    if (error instanceof ResponseError) return error;
    if (error instanceof CancelledError) return new ResponseError(ERROR_CODES.cancelled, "the job was cancelled");
    if (error instanceof BusyError) return new ResponseError(ERROR_CODES.busy, error.message);
    if (error instanceof ModelUnavailableError) return new ResponseError(ERROR_CODES.modelUnavailable, error.message);
    if (error instanceof InvalidInputError) return new ResponseError(ERROR_CODES.invalidParams, error.message);
    console.error(error);
    return new ResponseError(ERROR_CODES.internal, `internal error: ${describe(error).split("\n")[0]}`);
}
