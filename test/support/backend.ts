/** A real backend process (`power-sampling serve --stdio`) and a JSON-RPC client for it. */
import {type ChildProcess, spawn} from "node:child_process";
import {createMessageConnection, StreamMessageReader, StreamMessageWriter, type MessageConnection} from "vscode-jsonrpc/node";
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
        const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
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
