/**
 * One HTTP(S) file transfer into a local file, owned from the first byte to the last: the
 * model downloads and the npm tarballs of GPU support both go through it. A cancel or a stall
 * aborts the request itself, so nothing goes on in the background once the call has returned
 * (node-llama-cpp's downloader, ipull, retries a failed transfer for minutes after a cancel and
 * can leave a connection open for good).
 */
import {createWriteStream} from "node:fs";
import {pipeline} from "node:stream/promises";
import {CancelledError} from "../sampling/errors.js";

export interface TransferProgress {
    readonly downloadedBytes: number;
    /** null when the server does not say how large the body is. */
    readonly totalBytes: number | null;
}

export interface TransferOptions {
    readonly signal?: AbortSignal;
    /** The transfer fails when no data arrives for this long, the answer's headers included. */
    readonly stallTimeoutMs: number;
    readonly headers?: Readonly<Record<string, string>>;
    /** Appends the body to `file` instead of replacing what it holds. */
    readonly append?: boolean;
    /** Bytes received, at most every PROGRESS_INTERVAL_MS and always once at the end. */
    readonly onProgress?: (progress: TransferProgress) => void;
}

/** The server answered with a status other than 2xx. */
export class HttpStatusError extends Error {
    constructor(readonly status: number, readonly statusText: string) {
        super(`HTTP ${status}${statusText ? ` ${statusText}` : ""}`);
        this.name = "HttpStatusError";
    }
}

/** No data arrived for the stall timeout. */
export class TransferStalledError extends Error {
    constructor(readonly stallMs: number) {
        super(`stalled: no data for ${stallMs >= 1000 ? `${Math.round(stallMs / 1000)} s` : `${stallMs} ms`}`);
        this.name = "TransferStalledError";
    }
}

export const PROGRESS_INTERVAL_MS = 100;

/**
 * Streams the body at `url` into `file` (created, or truncated unless `append`); returns the bytes
 * received. Throws CancelledError when `signal` aborts, TransferStalledError, HttpStatusError, or
 * what fetch or the file write threw (a network failure: see networkErrorText; a full disk: its
 * errno code). The request is over when this settles, whichever way.
 */
export async function transferToFile(url: string, file: string, options: TransferOptions): Promise<number> {
    const {signal, stallTimeoutMs} = options;
    const stall = new AbortController();
    const combined = signal ? AbortSignal.any([signal, stall.signal]) : stall.signal;
    let timer = setTimeout(() => stall.abort(), stallTimeoutMs);
    const rethrown = (error: unknown): unknown => {
        if (signal?.aborted) return new CancelledError();
        if (stall.signal.aborted) return new TransferStalledError(stallTimeoutMs);
        return error;
    };
    try {
        let response: Response;
        try {
            response = await fetch(url, {signal: combined, headers: {"accept-encoding": "identity", ...options.headers}});
        } catch (error) {
            throw rethrown(error);
        }
        if (!response.ok || !response.body) {
            await response.body?.cancel().catch(() => {});
            throw new HttpStatusError(response.status, response.statusText);
        }
        const length = Number(response.headers.get("content-length") ?? NaN);
        const announcedBytes = Number.isSafeInteger(length) && length >= 0 ? length : null;
        let bytes = 0;
        let lastEmit = -Infinity;
        const emit = () => options.onProgress?.({downloadedBytes: bytes, totalBytes: announcedBytes});
        const counted = async function* (body: AsyncIterable<Uint8Array>) {
            for await (const chunk of body) {
                clearTimeout(timer);
                timer = setTimeout(() => stall.abort(), stallTimeoutMs);
                bytes += chunk.length;
                const now = performance.now();
                if (now - lastEmit >= PROGRESS_INTERVAL_MS) {
                    lastEmit = now;
                    emit();
                }
                yield chunk;
            }
        };
        try {
            await pipeline(response.body as unknown as AsyncIterable<Uint8Array>, counted, createWriteStream(file, {flags: options.append ? "a" : "w"}), {signal: combined});
        } catch (error) {
            throw rethrown(error);
        }
        emit();
        return bytes;
    } finally {
        clearTimeout(timer);
    }
}

/** A fetch failure's errno-style code, which fetch hides in `cause` (or its AggregateError). */
export function errnoCode(error: unknown): string | undefined {
    for (let current: unknown = error, depth = 0; current && depth < 4; depth++) {
        const code = (current as {code?: unknown}).code;
        if (typeof code === "string") return code;
        const errors = (current as {errors?: unknown}).errors;
        if (Array.isArray(errors)) {
            for (const inner of errors) {
                const innerCode = (inner as {code?: unknown}).code;
                if (typeof innerCode === "string") return innerCode;
            }
        }
        current = (current as {cause?: unknown}).cause;
    }
    return undefined;
}

/** A fetch failure in a few words, for a one-line message (not redacted: the caller does that). */
export function networkErrorText(error: unknown): string {
    const code = errnoCode(error);
    const host = (error as {cause?: {address?: string; port?: number; hostname?: string}}).cause;
    const where = host?.address ? ` (${host.address}${host.port ? `:${host.port}` : ""})` : host?.hostname ? ` (${host.hostname})` : "";
    switch (code) {
        case "ECONNREFUSED":
            return `connection refused${where}`;
        case "ENOTFOUND":
        case "EAI_AGAIN":
            return `host not found${where}: check the URL and the network`;
        case "ETIMEDOUT":
        case "UND_ERR_CONNECT_TIMEOUT":
            return `connection timed out${where}`;
        case "ECONNRESET":
            return `connection reset by the server${where}`;
        case "UND_ERR_SOCKET":
            return `the server closed the connection${where}`;
        case "ENETUNREACH":
        case "EHOSTUNREACH":
            return `network unreachable${where}`;
        default: {
            if (code && /CERT|SSL|TLS/i.test(code)) return `TLS certificate error (${code})`;
            const cause = (error as {cause?: unknown}).cause ?? error;
            return (cause instanceof Error ? cause.message : String(cause)).split("\n")[0]!.trim() || "unknown error";
        }
    }
}
