/** A local HTTP server (127.0.0.1 only) serving a GGUF for download tests. */
import http from "node:http";
import type {AddressInfo} from "node:net";

export const MODEL_PATH = "/models/stories260K.gguf";
/** Sends the first 64 KB of the model, then stalls. */
export const STALL_PATH = "/stalls/stories260K.gguf";
export const JUNK = Buffer.from("<!doctype html><html><body>Sign in to download this model</body></html>\n");

/** Serves the model with Content-Length and Range support, optionally slowly; counts requests. */
export class ModelServer {
    readonly requests = new Map<string, number>();
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

    get total(): number {
        let sum = 0;
        for (const count of this.requests.values()) sum += count;
        return sum;
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

    private body(urlPath: string, count: number): Buffer | null {
        if (urlPath === MODEL_PATH || urlPath === STALL_PATH) return this.model;
        if (urlPath === "/junk.gguf") return JUNK;
        // The file changes on the server after the first request (which sees a GGUF header).
        if (urlPath === "/replaced.gguf") return count === 1 ? this.model : Buffer.concat([JUNK, Buffer.alloc(4096, 0x20)]);
        return null;
    }

    private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
        const urlPath = new URL(request.url ?? "/", "http://127.0.0.1").pathname;
        const count = (this.requests.get(urlPath) ?? 0) + 1;
        this.requests.set(urlPath, count);
        const body = this.body(urlPath, count);
        if (!body) {
            response.writeHead(404, {"content-type": "text/plain", "content-length": 10});
            response.end("not found\n");
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

