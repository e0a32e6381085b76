/**
 * JSON over HTTP to one inference server, with every failure turned into one line that names the
 * server and says what to do. Failures a restart explains (connection refused or reset, the
 * server loading its model) are marked transient: a job may wait for the server to come back.
 */
import http from "node:http";
import https from "node:https";
import {errnoCode} from "../net/transfer.js";
import {InvalidInputError} from "../protocol/errors.js";
import {CancelledError} from "../sampling/errors.js";

/** A server failed or refused a request; the message names the server and what to do. */
export class RemoteServerError extends InvalidInputError {
    override name = "RemoteServerError";

    /** `transient`: the server may be back soon (stopped, restarting, loading its model). */
    constructor(message: string, readonly transient = false) {
        super(message);
    }
}

export interface HttpClientOptions {
    /** Sent as a bearer token (llama-server's --api-key). */
    readonly apiKey?: string;
    /** Longest wait for one response. */
    readonly timeoutMs?: number;
    /** Names the server in messages, e.g. "llama-server at http://127.0.0.1:8080". */
    readonly name?: string;
}

/** A response may take this long: the first request of a long prompt evaluates it all on a slow machine. */
export const DEFAULT_TIMEOUT_MS = 300_000;

/** What a response body may hold at most (a probe of a large vocabulary's probabilities is a few MB). */
const MAX_RESPONSE_BYTES = 256 * 2 ** 20;

/** Connections kept open between requests: a sampler sends thousands of small ones. */
const httpAgent = new http.Agent({keepAlive: true});
const httpsAgent = new https.Agent({keepAlive: true});

export class HttpClient {
    readonly name: string;
    private readonly timeoutMs: number;

    constructor(readonly url: string, private readonly options: HttpClientOptions = {}) {
        this.name = options.name ?? `server ${url}`;
        this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    }

    get(path: string, signal?: AbortSignal): Promise<unknown> {
        return this.request("GET", path, undefined, signal);
    }

    post(path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
        return this.request("POST", path, body, signal);
    }

    /**
     * POSTs and reads the answer as server-sent events ("data: JSON" blocks), each handed to
     * `onEvent` as it arrives. The timeout is the longest silence between two events, so a long
     * generation is fine and a stuck server is not.
     */
    async stream(path: string, body: unknown, onEvent: (event: unknown) => void, signal?: AbortSignal): Promise<void> {
        let pending = "";
        const take = (block: string) => {
            for (const line of block.split("\n")) {
                const [field, value] = splitField(line);
                if (field === "error") throw new RemoteServerError(`${this.name} failed ${path}: ${serverMessage(value) || value.slice(0, 200)}`);
                if (field !== "data" || value === "[DONE]") continue;
                try {
                    onEvent(JSON.parse(value));
                } catch (error) {
                    if (error instanceof SyntaxError) throw new RemoteServerError(`${this.name} sent an event for ${path} that is not JSON: check that the URL is a llama-server`);
                    throw error;
                }
            }
        };
        await this.exchange("POST", path, body, signal, (text) => {
            pending += text;
            let end: number;
            while ((end = pending.indexOf("\n\n")) !== -1) {
                take(pending.slice(0, end));
                pending = pending.slice(end + 2);
            }
        });
        if (pending.trim() !== "") take(pending);
    }

    private async request(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<unknown> {
        const text = await this.exchange(method, path, body, signal);
        try {
            return JSON.parse(text) as unknown;
        } catch {
            throw new RemoteServerError(`${this.name} answered ${path} with something that is not JSON: check that the URL is a llama-server`);
        }
    }

    /**
     * One request; a successful answer's body goes to `onText` as it arrives (a stream), or is
     * returned whole. Closing the connection (cancel) is how a caller stops the server's work.
     */
    private async exchange(method: string, path: string, body: unknown, signal: AbortSignal | undefined, onText?: (text: string) => void): Promise<string> {
        if (signal?.aborted) throw new CancelledError();
        // llama-server closes a connection after a stream although it says keep-alive: reusing
        // one fails (measured), so each stream has its own.
        const headers: Record<string, string> = onText ? {accept: "text/event-stream", connection: "close"} : {accept: "application/json"};
        const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body), "utf8");
        if (payload) {
            headers["content-type"] = "application/json";
            headers["content-length"] = String(payload.length);
        }
        if (this.options.apiKey) headers.authorization = `Bearer ${this.options.apiKey}`;
        const {status, text} = await new Promise<{status: number; text: string}>((resolve, reject) => {
            const url = new URL(`${this.url}${path}`);
            const transport = url.protocol === "https:" ? https : http;
            const agent = onText ? false : url.protocol === "https:" ? httpsAgent : httpAgent;
            const request = transport.request(url, {method, headers, agent}, (response) => {
                const status = response.statusCode ?? 0;
                const streaming = onText !== undefined && status >= 200 && status < 300;
                const decoder = new TextDecoder();
                const chunks: Buffer[] = [];
                let length = 0;
                response.on("data", (chunk: Buffer) => {
                    restart();
                    length += chunk.length;
                    if (streaming) {
                        try {
                            onText(decoder.decode(chunk, {stream: true}));
                        } catch (error) {
                            request.destroy(error as Error);
                        }
                    } else if (length > MAX_RESPONSE_BYTES) {
                        request.destroy(new RemoteServerError(`${this.name} sent more than ${MAX_RESPONSE_BYTES} bytes for ${path}`));
                    } else {
                        chunks.push(chunk);
                    }
                });
                response.on("end", () => settle(() => resolve({status, text: Buffer.concat(chunks).toString("utf8")})));
                response.on("error", (error) => settle(() => reject(this.failure(error))));
            });
            let timer: NodeJS.Timeout | undefined;
            const restart = () => {
                clearTimeout(timer);
                timer = setTimeout(() => request.destroy(new RemoteServerError(
                    `${this.name} sent nothing for ${seconds(this.timeoutMs)} on ${path}: it is overloaded or stuck; check it, or send it less work at once`)), this.timeoutMs);
            };
            restart();
            const onAbort = () => request.destroy(new CancelledError());
            signal?.addEventListener("abort", onAbort, {once: true});
            let settled = false;
            const settle = (outcome: () => void) => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                signal?.removeEventListener("abort", onAbort);
                outcome();
            };
            request.on("error", (error) => settle(() => reject(this.failure(error))));
            request.end(payload);
        });
        if (status < 200 || status >= 300) throw this.statusError(status, path, text);
        return text;
    }

    /** What a failed exchange rejects with: our own errors as they are, network errors explained. */
    private failure(error: unknown): Error {
        return error instanceof RemoteServerError || error instanceof CancelledError ? error : this.networkError(error);
    }

    private networkError(error: unknown): RemoteServerError {
        const code = errnoCode(error);
        switch (code) {
            case "ECONNREFUSED":
                return new RemoteServerError(`${this.name} refused the connection: start it, or check the server URL`, true);
            case "ENOTFOUND":
            case "EAI_AGAIN":
                return new RemoteServerError(`cannot find the host of ${this.name}: check the server URL and the network`);
            case "ECONNRESET":
            case "EPIPE":
            case "UND_ERR_SOCKET":
            case "UND_ERR_CLOSED":
                return new RemoteServerError(`${this.name} closed the connection: it stopped or restarted`, true);
            case "ETIMEDOUT":
            case "UND_ERR_CONNECT_TIMEOUT":
            case "ENETUNREACH":
            case "EHOSTUNREACH":
                return new RemoteServerError(`cannot reach ${this.name} (${code}): check the server URL and the network`, true);
            default:
                if (code && /CERT|SSL|TLS/i.test(code)) return new RemoteServerError(`${this.name}: TLS certificate error (${code}); check the server's certificate`);
                return new RemoteServerError(`${this.name} failed: ${firstLine(error)}${code ? ` (${code})` : ""}`, true);
        }
    }

    private statusError(status: number, path: string, text: string): RemoteServerError {
        const detail = serverMessage(text);
        if (status === 401 || status === 403)
            return new RemoteServerError(`${this.name} refused the API key (HTTP ${status}): give the key it was started with (llama-server --api-key), `
                + "through --api-key-env NAME on the command line or Power Sampling: Set Server API Key in VS Code");
        if (status === 404) return new RemoteServerError(`${this.name} has no ${path} (HTTP 404): check that the URL is a llama-server, with no extra path`);
        if (status === 503) return new RemoteServerError(`${this.name} is not ready (HTTP 503${detail ? `: ${detail}` : ""}): it is loading its model; try again when it is ready`, true);
        // A gateway in front of a restarting server answers 502 or 504; a 500 is the server's own failure, and would recur.
        return new RemoteServerError(`${this.name} failed ${path} (HTTP ${status}${detail ? `: ${detail}` : ""})`, status === 502 || status === 504);
    }
}

/** "field: value" of one server-sent-event line. */
function splitField(line: string): [string, string] {
    const colon = line.indexOf(":");
    if (colon === -1) return [line, ""];
    return [line.slice(0, colon), line.slice(colon + 1).replace(/^ /, "")];
}

/** The one-line error message of a server's JSON error body ({"error": {"message"}}), if any. */
function serverMessage(text: string): string {
    try {
        const parsed = JSON.parse(text) as {error?: {message?: unknown} | string};
        const message = typeof parsed.error === "string" ? parsed.error : parsed.error?.message;
        if (typeof message === "string") return firstLine(message).slice(0, 300);
    } catch {
        // Not JSON: the text itself, if short.
    }
    return text.length <= 200 ? firstLine(text) : "";
}

function firstLine(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return text.split("\n")[0]!.trim();
}

function seconds(ms: number): string {
    return ms >= 1000 ? `${Math.round(ms / 1000)} s` : `${ms} ms`;
}
