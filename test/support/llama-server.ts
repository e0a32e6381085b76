/**
 * llama-server and ggml-rpc-server processes on 127.0.0.1 for the remote-engine tests, from the
 * build `npm run build:llama-server` makes. Without that build the tests fail at once and say
 * how to make it: they never skip.
 */
import {type ChildProcess, execFileSync, spawn} from "node:child_process";
import {mkdtemp, rm} from "node:fs/promises";
import net from "node:net";
import {tmpdir} from "node:os";
import path from "node:path";
import {type MarkovSpec, writeMarkovModel} from "../../src/testmodels/markov.js";
import {REPO_ROOT} from "./cli.js";

let binaries: string | undefined;

/** The folder holding llama-server and ggml-rpc-server; throws, saying how to build them, when they are not built. */
export function llamaServerBinaries(): string {
    if (binaries) return binaries;
    try {
        binaries = execFileSync("bash", [path.join(REPO_ROOT, "scripts", "build-llama-server.sh"), "--check"], {encoding: "utf8", stdio: ["ignore", "pipe", "pipe"]}).trim();
    } catch (error) {
        const stderr = String((error as {stderr?: unknown}).stderr ?? "").trim();
        throw new Error(stderr || "llama-server is not built: run npm run build:llama-server (about 15 minutes)");
    }
    return binaries;
}

/** A port nothing listens on now. */
export async function freePort(): Promise<number> {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const {port} = server.address() as net.AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

export interface LlamaServerOptions {
    readonly model: string;
    /** -np: parallel slots (default 4). */
    readonly slots?: number;
    /** -c: tokens for all slots together (default 256); each slot holds contextSize / slots. */
    readonly contextSize?: number;
    readonly apiKey?: string;
    /** ggml-rpc-server workers (host:port) to split the model between. */
    readonly rpc?: readonly string[];
    /** Keep this port (a restart). */
    readonly port?: number;
}

/** A child process whose output is kept for failure messages. */
class Logged {
    output = "";
    readonly exited: Promise<void>;

    constructor(readonly child: ChildProcess) {
        child.stdout!.on("data", (chunk: Buffer) => this.record(chunk));
        child.stderr!.on("data", (chunk: Buffer) => this.record(chunk));
        this.exited = new Promise((resolve) => child.once("exit", () => resolve()));
    }

    get running(): boolean {
        return this.child.exitCode === null && this.child.signalCode === null;
    }

    async kill(): Promise<void> {
        if (this.running) this.child.kill("SIGKILL");
        await this.exited;
    }

    private record(chunk: Buffer): void {
        this.output = (this.output + chunk.toString("utf8")).slice(-20_000);
    }
}

export class LlamaServerProcess {
    private process?: Logged;

    private constructor(readonly options: LlamaServerOptions, readonly port: number) {}

    static async start(options: LlamaServerOptions): Promise<LlamaServerProcess> {
        const server = new LlamaServerProcess(options, options.port ?? await freePort());
        await server.launch();
        return server;
    }

    get url(): string {
        return `http://127.0.0.1:${this.port}`;
    }

    get output(): string {
        return this.process?.output ?? "";
    }

    /** Kills the process (as a crash would) and starts a new one on the same port: its caches are gone. */
    async restart(delayMs = 0): Promise<void> {
        await this.stop();
        if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
        await this.launch();
    }

    async stop(): Promise<void> {
        await this.process?.kill();
    }

    private async launch(): Promise<void> {
        const {options} = this;
        const args = ["-m", options.model, "--host", "127.0.0.1", "--port", String(this.port), "-np", String(options.slots ?? 4),
            "-c", String(options.contextSize ?? 256), "-t", "1", "--no-webui"];
        if (options.apiKey) args.push("--api-key", options.apiKey);
        if (options.rpc) args.push("--rpc", options.rpc.join(","), "-ngl", "99");
        const logged = new Logged(spawn(path.join(llamaServerBinaries(), "llama-server"), args, {stdio: ["ignore", "pipe", "pipe"]}));
        this.process = logged;
        const deadline = performance.now() + 60_000;
        for (;;) {
            if (!logged.running) throw new Error(`llama-server exited while starting:\n${logged.output}`);
            if (performance.now() > deadline) {
                await logged.kill();
                throw new Error(`llama-server did not become ready in 60 s:\n${logged.output}`);
            }
            try {
                const response = await fetch(`${this.url}/health`);
                if (response.ok) return;
            } catch {
                // Not listening yet.
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
    }
}

/** A ggml-rpc-server worker on 127.0.0.1: a machine's share of a split model. */
export class RpcServerProcess {
    private constructor(private readonly process: Logged, readonly port: number) {}

    static async start(): Promise<RpcServerProcess> {
        const port = await freePort();
        const logged = new Logged(spawn(path.join(llamaServerBinaries(), "ggml-rpc-server"), ["-H", "127.0.0.1", "-p", String(port), "-t", "1"],
            {stdio: ["ignore", "pipe", "pipe"]}));
        const deadline = performance.now() + 30_000;
        while (!await accepts(port)) {
            if (!logged.running || performance.now() > deadline) {
                await logged.kill();
                throw new Error(`ggml-rpc-server did not start:\n${logged.output}`);
            }
            await new Promise((resolve) => setTimeout(resolve, 100));
        }
        return new RpcServerProcess(logged, port);
    }

    get address(): string {
        return `127.0.0.1:${this.port}`;
    }

    get output(): string {
        return this.process.output;
    }

    stop(): Promise<void> {
        return this.process.kill();
    }
}

function accepts(port: number): Promise<boolean> {
    return new Promise((resolve) => {
        const socket = net.connect(port, "127.0.0.1");
        socket.once("connect", () => {
            socket.destroy();
            resolve(true);
        });
        socket.once("error", () => resolve(false));
    });
}

/** Servers and workers for one test file, with Markov models written into a temp folder; all stopped on close. */
export class RemoteFixture {
    private folder?: string;
    private readonly processes: {stop(): Promise<void>}[] = [];

    /** Fails at once, saying how to build them, when the binaries are not built. */
    async open(): Promise<void> {
        llamaServerBinaries();
        this.folder = await mkdtemp(path.join(tmpdir(), "power-sampling-remote-"));
    }

    async close(): Promise<void> {
        await Promise.all(this.processes.map((process) => process.stop()));
        if (this.folder) await rm(this.folder, {recursive: true, force: true});
    }

    file(name: string): string {
        return path.join(this.folder!, name);
    }

    async markovModel(name: string, spec: MarkovSpec): Promise<string> {
        const file = this.file(`${name}.gguf`);
        await writeMarkovModel(spec, file);
        return file;
    }

    async server(options: LlamaServerOptions): Promise<LlamaServerProcess> {
        const server = await LlamaServerProcess.start(options);
        this.processes.push(server);
        return server;
    }

    async rpcWorker(): Promise<RpcServerProcess> {
        const worker = await RpcServerProcess.start();
        this.processes.push(worker);
        return worker;
    }
}
