/** A local HTTP server (127.0.0.1 only) serving a GGUF for download tests. */
import http from "node:http";
import type {AddressInfo} from "node:net";

export const MODEL_PATH = "/models/stories260K.gguf";
/** Sends the first 64 KB of the model, then stalls. */
export const STALL_PATH = "/stalls/stories260K.gguf";
export const JUNK = Buffer.from("<!doctype html><html><body>Sign in to download this model</body></html>\n");

/** Paths that fail in one way each; where they send bytes, those are the model's. */
export const FAULTS = {
    /** HTTP 500 on every request. */
    serverError: "/faults/500/stories260K.gguf",
    /** The model without its last 64 KiB, sent as a whole file: Content-Length and the transfer agree. */
    truncated: "/faults/truncated/stories260K.gguf",
    /** The same without Content-Length or ranges (chunked): the server never says how large it is. */
    truncatedChunked: "/faults/truncated-chunked/stories260K.gguf",
    /** Announces the whole model (or range), sends what lies before the middle of the file, then closes the connection. */
    closesEarly: "/faults/closes-early/stories260K.gguf",
    /** The same, ending with a TCP reset instead of a close. */
    reset: "/faults/reset/stories260K.gguf",
    /**
     * Says the whole model's size to a request for its first 4 bytes (as a download's first
     * check asks), then sends the truncated model as a whole file to every other request.
     */
    inconsistentSize: "/faults/inconsistent-size/stories260K.gguf",
} as const;

/** Bytes cut from the end of the model by FAULTS.truncated and FAULTS.truncatedChunked. */
export const TRUNCATED_BYTES = 64 * 1024;

/** A request as the server saw it. */
export interface LoggedRequest {
    readonly path: string;
    readonly headers: http.IncomingHttpHeaders;
}

/** A fixed answer: a status, headers and a body (an API's JSON, a redirect). */
export interface CannedResponse {
    readonly status: number;
    readonly headers?: http.OutgoingHttpHeaders;
    readonly body?: string;
}

/** Serves the model with Content-Length and Range support, optionally slowly; counts requests. */
export class ModelServer {
    /** Every request, in order. */
    readonly log: LoggedRequest[] = [];
    /** Further files by URL path (see `serve`). */
    private readonly files = new Map<string, Buffer>();
    private readonly canned = new Map<string, CannedResponse>();
    /** When set, bodies go out `chunkBytes` every `intervalMs`. */
    slow: {chunkBytes: number; intervalMs: number} | null = null;
    private readonly server: http.Server;
    private readonly timers = new Set<NodeJS.Timeout>();
    private stopped = false;

    constructor(private readonly model: Buffer) {
        this.server = http.createServer((request, response) => this.handle(request, response));
    }

    get port(): number {
        return (this.server.address() as AddressInfo).port;
    }

    /** Requests so far, by URL path. */
    get requests(): Map<string, number> {
        const counts = new Map<string, number>();
        for (const {path} of this.log) counts.set(path, (counts.get(path) ?? 0) + 1);
        return counts;
    }

    get total(): number {
        return this.log.length;
    }

    url(urlPath: string): string {
        return `http://127.0.0.1:${this.port}${urlPath}`;
    }

    async start(): Promise<void> {
        await new Promise<void>((resolve, reject) => {
            this.server.once("error", reject);
            this.server.listen(0, "127.0.0.1", () => resolve());
        });
    }

    async stop(): Promise<void> {
        if (this.stopped) return;
        this.stopped = true;
        for (const timer of this.timers) clearInterval(timer);
        this.timers.clear();
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    /** Serves `body` at `urlPath` from now on (replacing what was there), like the model. */
    serve(urlPath: string, body: Buffer): void {
        this.files.set(urlPath, body);
    }

    /** Answers `urlPath` with `response` from now on, whatever the request. */
    respond(urlPath: string, response: CannedResponse): void {
        this.canned.set(urlPath, response);
    }

    private body(urlPath: string, count: number): Buffer | null {
        const file = this.files.get(urlPath);
        if (file) return file;
        if (urlPath === MODEL_PATH || urlPath === STALL_PATH || urlPath === FAULTS.closesEarly || urlPath === FAULTS.reset) return this.model;
        if (urlPath === FAULTS.truncated || urlPath === FAULTS.truncatedChunked || urlPath === FAULTS.inconsistentSize)
            return this.model.subarray(0, this.model.length - TRUNCATED_BYTES);
        if (urlPath === "/junk.gguf") return JUNK;
        // The file changes on the server after the first request (which sees a GGUF header).
        if (urlPath === "/replaced.gguf") return count === 1 ? this.model : Buffer.concat([JUNK, Buffer.alloc(4096, 0x20)]);
        return null;
    }

    private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
        const urlPath = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
        this.log.push({path: urlPath, headers: request.headers});
        const count = this.requests.get(urlPath)!;
        const canned = this.canned.get(urlPath);
        if (canned) {
            const body = canned.body ?? "";
            response.writeHead(canned.status, {"content-length": Buffer.byteLength(body), ...canned.headers});
            response.end(body);
            return;
        }
        if (urlPath === FAULTS.serverError) {
            response.writeHead(500, {"content-type": "text/plain", "content-length": 15});
            response.end("internal error\n");
            return;
        }
        const body = this.body(urlPath, count);
        if (!body) {
            response.writeHead(404, {"content-type": "text/plain", "content-length": 10});
            response.end("not found\n");
            return;
        }
        if (urlPath === FAULTS.inconsistentSize && request.headers.range === "bytes=0-3") {
            response.writeHead(206, {"content-type": "application/octet-stream", "content-length": 4, "content-range": `bytes 0-3/${this.model.length}`});
            response.end(this.model.subarray(0, 4));
            return;
        }
        if (urlPath === FAULTS.truncatedChunked) {
            response.writeHead(200, {"content-type": "application/octet-stream"});
            response.end(request.method === "HEAD" ? undefined : body);
            return;
        }
        let start = 0;
        let end = body.length - 1;
        const headers: http.OutgoingHttpHeaders = {"accept-ranges": "bytes", "content-type": "application/octet-stream"};
        const range = /^bytes=(\d*)-(\d*)$/.exec(request.headers.range ?? "");
        if (range) {
            if (range[1] === "") {
                start = Math.max(0, body.length - Number(range[2]));
            } else {
                start = Number(range[1]);
                if (range[2] !== "") end = Math.min(Number(range[2]), body.length - 1);
            }
            if (start > end || start >= body.length) {
                response.writeHead(416, {"content-range": `bytes */${body.length}`, "content-length": 0});
                response.end();
                return;
            }
            response.writeHead(206, {...headers, "content-length": end - start + 1, "content-range": `bytes ${start}-${end}/${body.length}`});
        } else {
            response.writeHead(200, {...headers, "content-length": body.length});
        }
        if (request.method === "HEAD") {
            response.end();
            return;
        }
        const slice = body.subarray(start, end + 1);
        if (urlPath === FAULTS.closesEarly || urlPath === FAULTS.reset) {
            const middle = Math.floor(body.length / 2);
            response.write(slice.subarray(0, Math.max(0, middle - start)), () => {
                if (urlPath === FAULTS.reset) request.socket.resetAndDestroy();
                else request.socket.end();
            });
            return;
        }
        if (urlPath === STALL_PATH && slice.length > 4) {
            response.write(slice.subarray(0, 64 * 1024)); // then nothing until the server stops
            return;
        }
        const slow = this.slow;
        if (!slow) {
            response.end(slice);
            return;
        }
        let position = 0;
        const timer = setInterval(() => {
            if (position >= slice.length) {
                clearInterval(timer);
                this.timers.delete(timer);
                response.end();
                return;
            }
            response.write(slice.subarray(position, position + slow.chunkBytes));
            position += slow.chunkBytes;
        }, slow.intervalMs);
        this.timers.add(timer);
        response.on("close", () => {
            clearInterval(timer);
            this.timers.delete(timer);
        });
    }
}

