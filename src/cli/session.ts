/**
 * Loads llama.cpp and one model for a command, stops when the run stops, and always frees both;
 * or connects to the servers that hold the model.
 */
import {openLlama} from "../llama/runtime.js";
import {LlamaLanguageModel} from "../llama/model.js";
import {RemoteLanguageModel} from "../remote/model.js";
import {parseServerUrls} from "../remote/address.js";
import {InvalidInputError} from "../sampling/errors.js";
import {debugLine, stopSignal} from "./lifetime.js";

export interface RemoteCommandOptions {
    /** Checked server URLs. */
    readonly urls: readonly string[];
    readonly apiKey?: string;
    readonly allowPlainHttp: boolean;
}

/** Runs `body` with the model loaded; `signal` aborts when the run must stop (Ctrl-C, SIGTERM, output lost). */
export async function withModel<T>(modelPath: string, options: {threads?: number},
    body: (model: LlamaLanguageModel, loadMs: number, signal: AbortSignal) => Promise<T>): Promise<T> {
    stopSignal.throwIfAborted();
    const start = performance.now();
    debugLine("loading llama.cpp");
    const llama = await openLlama();
    let model: LlamaLanguageModel | undefined;
    try {
        stopSignal.throwIfAborted();
        debugLine(`loading model ${modelPath}`);
        model = await LlamaLanguageModel.load(llama, modelPath, {...options, signal: stopSignal});
        const loadMs = performance.now() - start;
        debugLine(`model loaded in ${Math.round(loadMs)} ms`);
        return await body(model, loadMs, stopSignal);
    } finally {
        // Model before instance: disposing the instance first has hung with models loaded.
        await model?.dispose();
        await llama.dispose();
        debugLine("model freed");
    }
}

/** Runs `body` on the servers (checked first); `signal` aborts when the run must stop, which also stops the servers' work. */
export async function withRemoteModel<T>(options: RemoteCommandOptions,
    body: (model: RemoteLanguageModel, loadMs: number, signal: AbortSignal) => Promise<T>): Promise<T> {
    stopSignal.throwIfAborted();
    const start = performance.now();
    debugLine(`connecting to ${options.urls.join(", ")}`);
    const model = await RemoteLanguageModel.connect(options.urls, {...options, signal: stopSignal});
    const loadMs = performance.now() - start;
    debugLine(`servers ready in ${Math.round(loadMs)} ms: ${model.servers.map((server) => `${server.url} (${server.model}, ${server.slots} slots)`).join(", ")}`);
    return await body(model, loadMs, stopSignal);
}

/** The flags that put a command on servers instead of a local model. */
export const SERVER_FLAGS = {server: {type: "string", multiple: true}, "api-key-env": {type: "string"}, "allow-plain-http": {type: "boolean"}} as const;

/** --server (repeatable), the API key from the variable --api-key-env names, and the plain-http opt-in; undefined without --server. */
export function serverOptions(values: {server?: string[]; "api-key-env"?: string; "allow-plain-http"?: boolean}): RemoteCommandOptions | undefined {
    const name = values["api-key-env"];
    if (!values.server) {
        if (name !== undefined || values["allow-plain-http"]) throw new InvalidInputError("--api-key-env and --allow-plain-http go with --server URL");
        return undefined;
    }
    let apiKey: string | undefined;
    if (name !== undefined) {
        apiKey = process.env[name];
        if (!apiKey) throw new InvalidInputError(`--api-key-env ${name}: the environment variable ${name} is not set or empty`);
    }
    const allowPlainHttp = values["allow-plain-http"] ?? false;
    return {urls: parseServerUrls(values.server, {allowPlainHttp}), apiKey, allowPlainHttp};
}

/** The servers of a command that runs on a local model or on servers, refusing what only a local model takes. */
export function serversInsteadOfModel(values: Parameters<typeof serverOptions>[0] & {model?: string}, threads: number | undefined): RemoteCommandOptions | undefined {
    const remote = serverOptions(values);
    if (remote && values.model !== undefined) throw new InvalidInputError("--model and --server: give one; a server holds its own model");
    if (remote && threads !== undefined) throw new InvalidInputError("--threads and --server: the server sets its own threads");
    return remote;
}
