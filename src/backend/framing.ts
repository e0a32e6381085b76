/**
 * Strict reading of the backend's stdin: `Content-Length: N` CRLF, optional other headers each
 * ending in CRLF, an empty line, then N bytes of UTF-8 JSON, and nothing else.
 *
 * A fault that leaves the stream in step (a body that is not JSON, JSON that is not a JSON-RPC
 * message) is answered and reading goes on. A fault after which the next message's start cannot
 * be found (a malformed header, a Content-Length that does not match its body, a size over the
 * limit, a message that stalls) stops the reader: guessing would leave the backend deaf.
 */
import type {Readable} from "node:stream";
import {
    AbstractMessageReader, type DataCallback, Disposable, type Message, type MessageReader, type ResponseMessage, StreamMessageWriter
} from "vscode-languageserver/node";

/**
 * Far above any request anyone means (a prompt is at most 1 MiB and one over it is answered with
 * an error, which needs the message read): a larger one ends the connection.
 */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
export const DEFAULT_STALL_TIMEOUT_MS = 10_000;
/** The protocol's two headers fit in far less; a longer header section is not a header section. */
const MAX_HEADER_BYTES = 8 * 1024;
/** The backend's exit code when its input cannot be read further (2: bad input, as on the command line). */
export const FRAMING_EXIT_CODE = 2;

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

export interface FramingOptions {
    /** Largest body accepted, in bytes; a larger Content-Length is refused before its body is read. */
    readonly maxMessageBytes?: number;
    /** How long a started message may go without a new byte before the stream is given up. */
    readonly stallTimeoutMs?: number;
}

/** The byte stream is out of step or cannot be read: no later message can be found in it. */
export class FramingError extends Error {
    override name = "FramingError";
}

/** One message, correctly framed, that is not a JSON-RPC message; the stream is still in step. */
export class InvalidMessageError extends Error {
    override name = "InvalidMessageError";

    constructor(message: string, readonly code: typeof PARSE_ERROR | typeof INVALID_REQUEST, readonly id: number | string | null = null) {
        super(message);
    }

    /** The JSON-RPC error response that answers it. */
    toResponse(): ResponseMessage {
        return {jsonrpc: "2.0", id: this.id, error: {code: this.code, message: this.message}};
    }
}

/**
 * A MessageReader for vscode-jsonrpc. onError reports an InvalidMessageError (reading goes on),
 * a FramingError (reading has stopped; onClose follows), or an error thrown by the callback.
 */
export class StrictMessageReader extends AbstractMessageReader implements MessageReader {
    private readonly maxMessageBytes: number;
    private readonly stallTimeoutMs: number;
    private readonly pending = new ByteQueue();
    /** Set once a header section is read: the length of the body still to come. */
    private bodyLength: number | undefined;
    private unsupportedCharset: string | undefined;
    private bytesReceived = 0;
    private stallTimer: NodeJS.Timeout | undefined;
    private stopped = false;
    private closed = false;
    private callback: DataCallback | undefined;
    private unlisten: (() => void) | undefined;
    private readonly earlyCancels = new EarlyCancels();

    constructor(private readonly readable: Readable, options: FramingOptions = {}) {
        super();
        this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
        this.stallTimeoutMs = options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS;
    }

    listen(callback: DataCallback): Disposable {
        this.callback = callback;
        const onData = (chunk: Buffer) => this.receive(chunk);
        const onError = (error: Error) => this.stop(new FramingError(`reading failed: ${error.message}`));
        const onEnd = () => this.close();
        this.readable.on("data", onData);
        this.readable.on("error", onError);
        this.readable.on("end", onEnd);
        this.readable.on("close", onEnd);
        this.unlisten = () => {
            this.readable.off("data", onData);
            this.readable.off("error", onError);
            this.readable.off("end", onEnd);
            this.readable.off("close", onEnd);
        };
        return Disposable.create(() => this.stop());
    }

    override dispose(): void {
        this.stop();
        super.dispose();
    }

    private receive(chunk: Buffer): void {
        if (this.stopped) return;
        this.bytesReceived += chunk.length;
        this.pending.push(chunk);
        try {
            while (this.next()) { /* one message per turn */ }
        } catch (error) {
            if (!(error instanceof FramingError)) throw error;
            this.stop(error);
            return;
        }
        this.watchForStall();
    }

    /** Reads one header section or one body if all of it is here; false when more bytes are needed. */
    private next(): boolean {
        if (this.bodyLength === undefined) return this.readHeaders();
        if (this.pending.length < this.bodyLength) return false;
        const body = this.pending.take(this.bodyLength);
        const charset = this.unsupportedCharset;
        this.bodyLength = undefined;
        this.unsupportedCharset = undefined;
        this.deliver(body, charset);
        return !this.stopped;
    }

    private readHeaders(): boolean {
        if (this.pending.length === 0) return false;
        const head = this.pending.peek(MAX_HEADER_BYTES);
        let contentLength: number | undefined;
        let lineStart = 0;
        for (let i = 0; i < head.length; i++) {
            const byte = head[i]!;
            if (byte === LF) throw new FramingError(`a header line ends in a bare LF, not CRLF (at byte ${i})`);
            if (byte === CR) {
                if (i + 1 === head.length) break;
                if (head[i + 1] !== LF) throw new FramingError(`a header line ends in a bare CR, not CRLF (at byte ${i})`);
                if (i === lineStart) {
                    // The empty line: the header section is complete.
                    if (contentLength === undefined) throw new FramingError("a header section without a Content-Length header");
                    this.pending.take(i + 2);
                    this.bodyLength = contentLength;
                    return true;
                }
                contentLength = this.readHeader(head.toString("latin1", lineStart, i), contentLength);
                lineStart = i + 2;
                i++;
            } else if ((byte < 0x20 && byte !== TAB) || byte > 0x7e) {
                throw new FramingError(`a header holds a byte that is not printable ASCII (0x${byte.toString(16).padStart(2, "0")} at byte ${i})`);
            }
        }
        if (head.length >= MAX_HEADER_BYTES) throw new FramingError(`no end of the header section in its first ${MAX_HEADER_BYTES} bytes`);
        return false;
    }

    /** One header line; returns the Content-Length read so far. */
    private readHeader(line: string, contentLength: number | undefined): number | undefined {
        const match = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+):[ \t]*(.*?)[ \t]*$/.exec(line);
        if (!match) throw new FramingError(`a header line is not "Name: value": ${quote(line)}`);
        const [, name, value] = match as unknown as [string, string, string];
        switch (name.toLowerCase()) {
            case "content-length": {
                if (!/^\d{1,15}$/.test(value)) throw new FramingError(`Content-Length must be a count of bytes, got ${quote(value)}`);
                const length = Number(value);
                if (contentLength !== undefined && contentLength !== length)
                    throw new FramingError(`two different Content-Length headers: ${contentLength} and ${length}`);
                if (length > this.maxMessageBytes)
                    throw new FramingError(`a message of ${length} bytes exceeds the limit of ${formatBytes(this.maxMessageBytes)}`);
                return length;
            }
            case "content-type": {
                const charset = /;\s*charset\s*=\s*"?([^";\s]+)"?/i.exec(value)?.[1];
                if (charset !== undefined && !/^utf-?8$/i.test(charset)) this.unsupportedCharset = charset;
                return contentLength;
            }
            default:
                // Headers the protocol does not define are allowed and mean nothing here.
                return contentLength;
        }
    }

    /** A complete body: to the callback if it is a JSON-RPC message, else answered with an error. */
    private deliver(body: Buffer, unsupportedCharset: string | undefined): void {
        let message: Message;
        try {
            if (unsupportedCharset !== undefined) throw new InvalidMessageError(`charset ${unsupportedCharset} is not supported: send UTF-8`, PARSE_ERROR);
            message = parseMessage(body);
        } catch (error) {
            if (!(error instanceof InvalidMessageError)) throw error;
            this.fireError(error);
            return;
        }
        try {
            for (const ready of this.earlyCancels.order(message)) this.callback!(ready);
        } catch (error) {
            this.fireError(error);
        }
    }

    /**
     * A started message must keep coming. The check runs a turn after the timer, so that bytes
     * waiting while the event loop was busy are read before a stall is declared.
     */
    private watchForStall(): void {
        const started = this.bodyLength !== undefined || this.pending.length > 0;
        if (!started || this.stopped) {
            clearTimeout(this.stallTimer);
            this.stallTimer = undefined;
            return;
        }
        if (this.stallTimer) return;
        const receivedAtStart = this.bytesReceived;
        this.stallTimer = setTimeout(() => setImmediate(() => {
            this.stallTimer = undefined;
            if (this.stopped) return;
            if (this.bytesReceived === receivedAtStart) {
                this.stop(new FramingError(`a message stalled: no byte of it for ${this.stallTimeoutMs / 1000} s (${this.pending.length} bytes pending)`));
            } else {
                this.watchForStall();
            }
        }), this.stallTimeoutMs).unref();
    }

    /** Stops reading; a FramingError is reported, then the reader closes. */
    private stop(error?: FramingError): void {
        if (this.stopped) return;
        this.stopped = true;
        clearTimeout(this.stallTimer);
        this.unlisten?.();
        this.pending.clear();
        if (error) this.fireError(error);
        this.close();
    }

    private close(): void {
        if (this.closed) return;
        this.closed = true;
        this.fireClose();
    }
}

/**
 * The backend's stdio transport. An invalid message gets its JSON-RPC error response; a stream
 * that cannot be read further ends the process with one line on stderr and FRAMING_EXIT_CODE, so
 * that the client sees the backend gone rather than a silent hang.
 */
export function createStdioTransport(options: FramingOptions = {}): {reader: StrictMessageReader; writer: StreamMessageWriter} {
    const reader = new StrictMessageReader(process.stdin, options);
    const writer = new StreamMessageWriter(process.stdout);
    reader.onError((error) => {
        if (error instanceof InvalidMessageError) {
            void writer.write(error.toResponse());
        } else if (error instanceof FramingError) {
            process.stderr.write(`power-sampling: framing error on stdin: ${error.message}; exiting\n`);
            process.exit(FRAMING_EXIT_CODE);
        } else {
            process.stderr.write(`power-sampling: a message could not be handled: ${error.message}\n`);
        }
    });
    return {reader, writer};
}

/**
 * A $/cancelRequest that comes before its request would be forgotten (vscode-jsonrpc drops a
 * cancel for an id it has not seen): it is held for a while, and passed on right after its
 * request, where it cancels the request before it starts.
 */
class EarlyCancels {
    /** Ids of requests seen, most recent last (bounded). */
    private readonly seen = new Set<string | number>();
    /** Cancels for ids not seen yet, with when they came. */
    private readonly held = new Map<string | number, {message: Message; at: number}>();

    order(message: Message): Message[] {
        const {id, method, params} = message as {id?: string | number; method?: string; params?: {id?: unknown}};
        if (method === "$/cancelRequest") {
            const target = params?.id;
            if ((typeof target === "string" || typeof target === "number") && !this.seen.has(target)) {
                this.forgetOld();
                this.held.set(target, {message, at: performance.now()});
                return [];
            }
            return [message];
        }
        if (method === undefined || id === undefined) return [message];
        this.seen.add(id);
        if (this.seen.size > EARLY_CANCEL_LIMIT) this.seen.delete(this.seen.values().next().value!);
        const cancel = this.held.get(id);
        if (!cancel) return [message];
        this.held.delete(id);
        return [message, cancel.message];
    }

    private forgetOld(): void {
        const now = performance.now();
        for (const [id, {at}] of this.held) if (now - at > EARLY_CANCEL_MS || this.held.size >= EARLY_CANCEL_LIMIT) this.held.delete(id);
    }
}

/** How long, and how many, cancels for requests not seen yet are held. */
const EARLY_CANCEL_MS = 10_000;
const EARLY_CANCEL_LIMIT = 1000;

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const utf8 = new TextDecoder("utf-8", {fatal: true});

/** A body's JSON-RPC message, or the InvalidMessageError that answers it. */
function parseMessage(body: Buffer): Message {
    let text: string;
    try {
        text = utf8.decode(body);
    } catch {
        throw new InvalidMessageError("the message body is not UTF-8", PARSE_ERROR);
    }
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        // A body that runs into a header was cut from the stream at the wrong length.
        if (/Content-Length\s*:/i.test(text))
            throw new FramingError(`a body does not match its Content-Length (${body.length}): it runs into the next message's header`);
        throw new InvalidMessageError(`the message body is not JSON: ${(error as Error).message}`, PARSE_ERROR);
    }
    const problem = messageProblem(value);
    if (problem !== undefined) {
        const id = (value as {id?: unknown} | null)?.id;
        throw new InvalidMessageError(`not a JSON-RPC message: ${problem}`, INVALID_REQUEST,
            typeof id === "string" || typeof id === "number" ? id : null);
    }
    return value as Message;
}

/** What makes a JSON value not a request, notification or response; undefined when it is one. */
function messageProblem(value: unknown): string | undefined {
    if (Array.isArray(value)) return "a batch (an array); send one message at a time";
    if (typeof value !== "object" || value === null) return `a ${value === null ? "null" : typeof value}, not an object`;
    const {id, method} = value as {id?: unknown; method?: unknown};
    if (id !== undefined && typeof id !== "string" && typeof id !== "number") return "its id is neither a string nor a number";
    if (method !== undefined) return typeof method === "string" ? undefined : "its method is not a string";
    if (id === undefined) return "neither a method nor an id";
    return "result" in value || "error" in value ? undefined : "a response without a result or an error";
}

function quote(text: string): string {
    return JSON.stringify(text.length > 60 ? `${text.slice(0, 60)}...` : text);
}

function formatBytes(bytes: number): string {
    return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${bytes} bytes`;
}

/** Received bytes not read yet, kept as chunks: a large body is copied once, when it is complete. */
class ByteQueue {
    private chunks: Buffer[] = [];
    length = 0;

    push(chunk: Buffer): void {
        this.chunks.push(chunk);
        this.length += chunk.length;
    }

    /** Up to `count` bytes from the front, left in place. */
    peek(count: number): Buffer {
        const parts: Buffer[] = [];
        let size = 0;
        for (const chunk of this.chunks) {
            if (size >= count) break;
            parts.push(chunk);
            size += chunk.length;
        }
        const joined = parts.length === 1 ? parts[0]! : Buffer.concat(parts);
        return joined.subarray(0, Math.min(count, joined.length));
    }

    /** The first `count` bytes, removed. */
    take(count: number): Buffer {
        const taken = this.peek(count);
        let left = count;
        while (left > 0) {
            const first = this.chunks[0]!;
            if (first.length <= left) {
                this.chunks.shift();
                left -= first.length;
            } else {
                this.chunks[0] = first.subarray(left);
                left = 0;
            }
        }
        this.length -= count;
        return taken;
    }

    clear(): void {
        this.chunks = [];
        this.length = 0;
    }
}
