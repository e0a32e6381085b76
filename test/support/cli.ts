/** Runs the built command line (node dist/cli.js) as a user would, and builds it once per test run. */
import {execFile, spawn} from "node:child_process";
import {fileURLToPath} from "node:url";
import path from "node:path";
import {promisify} from "node:util";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const CLI_PATH = path.join(REPO_ROOT, "dist", "cli.js");

export interface CliResult {
    /** Exit code; null when the process was killed by a signal (see `signal`). */
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    /** Wall time of the whole process, start to exit. */
    readonly ms: number;
    /** True when the helper killed the process for running past `timeoutMs`. */
    readonly timedOut: boolean;
}

export interface RunCliOptions {
    /** Written to the process's stdin, which is then closed; without it stdin is closed at once. */
    readonly stdin?: string;
    /** Kill the process (SIGKILL) after this long; default 60 s. */
    readonly timeoutMs?: number;
    /** Extra environment variables. */
    readonly env?: Record<string, string>;
}

let building: Promise<void> | undefined;

/** `npm run build` once per process (dist/cli.js is what users run, so tests run it too). */
export function buildCli(): Promise<void> {
    building ??= promisify(execFile)("npm", ["run", "build"], {cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024}).then(() => undefined);
    return building;
}

/** Spawns `node dist/cli.js ...args` and collects its exit code and output. Never rejects on a non-zero exit. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
    const timeoutMs = options.timeoutMs ?? 60_000;
    return new Promise((resolve, reject) => {
        const start = performance.now();
        const child = spawn(process.execPath, [CLI_PATH, ...args], {
            cwd: REPO_ROOT,
            env: {...process.env, ...options.env},
            stdio: ["pipe", "pipe", "pipe"]
        });
        const stdout: Buffer[] = [];
        const stderr: Buffer[] = [];
        let timedOut = false;
        const timer = setTimeout(() => {
            timedOut = true;
            child.kill("SIGKILL");
        }, timeoutMs);
        child.stdout.on("data", (chunk: Buffer) => stdout.push(chunk));
        child.stderr.on("data", (chunk: Buffer) => stderr.push(chunk));
        // The CLI may exit before reading stdin (bad input); a broken pipe is not a test failure.
        child.stdin.on("error", () => {});
        child.stdin.end(options.stdin ?? "");
        child.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            resolve({
                code,
                signal,
                stdout: Buffer.concat(stdout).toString("utf8"),
                stderr: Buffer.concat(stderr).toString("utf8"),
                ms: performance.now() - start,
                timedOut
            });
        });
    });
}

/** A one-line description of a run, for assertion messages. */
export function describeRun(result: CliResult): string {
    return `exit ${result.code}${result.signal ? ` (${result.signal})` : ""}${result.timedOut ? " (timed out)" : ""} after ${Math.round(result.ms)} ms\n`
        + `--- stdout ---\n${result.stdout.slice(0, 2000)}\n--- stderr ---\n${result.stderr.slice(0, 2000)}`;
}
