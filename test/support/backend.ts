/** A real backend process (`power-sampling serve --stdio`) and a JSON-RPC client for it. */
import {strict as assert} from "node:assert";
import {type ChildProcess, spawn} from "node:child_process";
import {createMessageConnection, type MessageConnection, type NotificationMessage, ResponseError, StreamMessageReader, StreamMessageWriter} from "vscode-jsonrpc/node";
import type {BackendStatus, InitializationOptions, ProgressNotification} from "../../src/protocol/backend.js";
import {PROGRESS_NOTIFICATION, STATUS} from "../../src/protocol/backend.js";
import {CLI_PATH} from "./cli.js";

export class Backend {
    readonly progress: ProgressNotification[] = [];
    readonly statuses: BackendStatus[] = [];
    stderr = "";
    readonly exited: Promise<number | null>;

    private constructor(readonly process: ChildProcess, readonly connection: MessageConnection) {
        this.exited = new Promise((resolve) => process.once("exit", (code) => resolve(code)));
        process.stderr!.on("data", (chunk: Buffer) => { this.stderr += chunk.toString(); });
        connection.onNotification(PROGRESS_NOTIFICATION, (p: ProgressNotification) => { this.progress.push(p); });
        connection.onNotification(STATUS, (s: BackendStatus) => { this.statuses.push(s); });
        connection.listen();
    }

    /** Starts the process (with `env` added to this one's) and completes the LSP handshake. */
    static async start(initializationOptions: InitializationOptions = {}, env: Record<string, string> = {}): Promise<Backend> {
        const child = spawn(process.execPath, [CLI_PATH, "serve", "--stdio", "--threads", "1"], {stdio: ["pipe", "pipe", "pipe"], env: {...process.env, ...env}});
        const connection = createMessageConnection(readerOf(child), new StreamMessageWriter(child.stdin!));
        const backend = new Backend(child, connection);
        try {
            await connection.sendRequest("initialize", {processId: process.pid, rootUri: null, capabilities: {}, initializationOptions});
        } catch (error) {
            child.kill("SIGKILL");
            connection.dispose();
            throw error;
        }
        await connection.sendNotification("initialized", {});
        return backend;
    }

    /** shutdown + exit, as a client ends a session; resolves with the exit code. */
    async stop(): Promise<number | null> {
        if (this.process.exitCode === null) {
            await this.connection.sendRequest("shutdown");
            await this.connection.sendNotification("exit");
        }
        const code = await Promise.race([this.exited, new Promise<null>((resolve) => setTimeout(() => resolve(null), 5000))]);
        if (this.process.exitCode === null) this.process.kill("SIGKILL");
        this.connection.dispose();
        return code;
    }
}

/**
 * A reader of the backend's messages. Once a message is cut short (a backend killed between a
 * header and its body), vscode-jsonrpc's reader re-arms a 10 s partial-message timer for good,
 * even after dispose, and that timer alone kept a test run from exiting: the notice is off.
 */
function readerOf(child: ChildProcess): StreamMessageReader {
    const reader = new StreamMessageReader(child.stdout!);
    reader.partialMessageTimeout = 0;
    return reader;
}

/** One JSON-RPC message as it goes on the wire: a Content-Length header, CRLF CRLF, the UTF-8 body. */
export function frame(message: unknown): Buffer {
    const body = Buffer.from(JSON.stringify(message), "utf8");
    return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
}

interface RawResponse {
    readonly id: number | string | null;
    readonly result?: unknown;
    readonly error?: {code: number; message: string};
}

/**
 * A backend process spoken to in raw bytes, for what a well-behaved client never sends (framing
 * garbage, odd message orders); what it answers is read with vscode-jsonrpc's own reader.
 */
export class RawBackend {
    readonly received: RawResponse[] = [];
    readonly notifications: NotificationMessage[] = [];
    stderr = "";
    readonly exited: Promise<{code: number | null; signal: NodeJS.Signals | null}>;
    private readonly waiters = new Set<() => void>();
    private readonly reader: StreamMessageReader;

    private constructor(readonly process: ChildProcess) {
        this.exited = new Promise((resolve) => process.once("exit", (code, signal) => {
            resolve({code, signal});
            this.notify();
        }));
        process.stderr!.on("data", (chunk: Buffer) => { this.stderr += chunk.toString(); });
        // The backend may be gone before a test's last write: that is what some tests wait for.
        process.stdin!.on("error", () => {});
        this.reader = readerOf(process);
        this.reader.listen((message) => {
            if ("id" in message) this.received.push(message as RawResponse);
            else this.notifications.push(message as NotificationMessage);
            this.notify();
        });
    }

    /** Starts `power-sampling serve --stdio`; `initialize` makes it complete the LSP handshake first. */
    static async start(options: {initialize?: boolean} = {}): Promise<RawBackend> {
        const child = spawn(process.execPath, [CLI_PATH, "serve", "--stdio", "--threads", "1"], {stdio: ["pipe", "pipe", "pipe"]});
        const backend = new RawBackend(child);
        if (options.initialize ?? true) {
            backend.write(frame({jsonrpc: "2.0", id: "init", method: "initialize", params: {processId: null, rootUri: null, capabilities: {}}}));
            await backend.response("init");
            backend.write(frame({jsonrpc: "2.0", method: "initialized", params: {}}));
        }
        return backend;
    }

    write(bytes: Buffer | string): void {
        this.process.stdin!.write(bytes);
    }

    /** The response with this id (null: the answers to messages whose id could not be read, in order). */
    async response(id: number | string | null, nth = 0): Promise<RawResponse> {
        const find = () => this.received.filter((message) => message.id === id)[nth];
        await this.until(() => find() !== undefined || this.process.exitCode !== null || this.process.signalCode !== null);
        const found = find();
        if (!found) throw new Error(`the backend exited (${this.process.exitCode ?? this.process.signalCode}) before answering ${JSON.stringify(id)}; stderr:\n${this.stderr}`);
        return found;
    }

    /** Asks for the status: answered means the backend still reads and serves. */
    async serves(id: string): Promise<boolean> {
        this.write(frame({jsonrpc: "2.0", id, method: STATUS}));
        const response = await this.response(id);
        return response.result !== undefined;
    }

    kill(): void {
        if (this.process.exitCode === null && this.process.signalCode === null) this.process.kill("SIGKILL");
        this.reader.dispose();
    }

    /** Resolves once `done` holds, checked after each message from the backend and at its exit. */
    until(done: () => boolean): Promise<void> {
        return new Promise((resolve) => {
            const check = () => {
                if (!done()) return;
                this.waiters.delete(check);
                resolve();
            };
            this.waiters.add(check);
            check();
        });
    }

    private notify(): void {
        for (const waiter of [...this.waiters]) waiter();
    }
}

/** The error a request is answered with; fails the test when it succeeds or fails otherwise. */
export async function rejection(promise: Promise<unknown>): Promise<ResponseError<unknown>> {
    try {
        await promise;
    } catch (error) {
        assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
        return error;
    }
    assert.fail("expected the request to fail");
}
