/** Runs the built command line (node dist/cli.js) as a user would, and builds it once per test run. */
import {type ChildProcess, execFile, execFileSync, spawn} from "node:child_process";
import {strict as assert} from "node:assert";
import {closeSync, constants, openSync} from "node:fs";
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
    /** Open file descriptors to give the process as stdout or stderr (e.g. /dev/full) instead of pipes. */
    readonly stdoutFd?: number;
    readonly stderrFd?: number;
    /** Leave stdin open (for `PROMPT -`): the test writes to or closes `child.stdin` itself. */
    readonly keepStdinOpen?: boolean;
}

/** A running CLI process: its output so far, and its result once it exits. */
export interface CliProcess {
    readonly child: ChildProcess;
    readonly result: Promise<CliResult>;
    /** Resolves with stderr so far once it matches `pattern`; rejects if the process exits first. */
    waitForStderr(pattern: RegExp): Promise<string>;
}

let building: Promise<void> | undefined;

/** `npm run build` once per process (dist/cli.js is what users run, so tests run it too). */
export function buildCli(): Promise<void> {
    building ??= promisify(execFile)("npm", ["run", "build"], {cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024}).then(() => undefined);
    return building;
}

/** Spawns `node dist/cli.js ...args` and collects its exit code and output. Never rejects on a non-zero exit. */
export function runCli(args: readonly string[], options: RunCliOptions = {}): Promise<CliResult> {
    return startCli(args, options).result;
}

/** Starts `node dist/cli.js ...args`; a test can watch its stderr and signal it while it runs. */
export function startCli(args: readonly string[], options: RunCliOptions = {}): CliProcess {
    const timeoutMs = options.timeoutMs ?? 60_000;
    const start = performance.now();
    const child = spawn(process.execPath, [CLI_PATH, ...args], {
        cwd: REPO_ROOT,
        env: {...process.env, ...options.env},
        stdio: ["pipe", options.stdoutFd ?? "pipe", options.stderrFd ?? "pipe"]
    });
    const stdout: Buffer[] = [];
    let stderr = "";
    const stderrWatchers = new Set<() => void>();
    let timedOut = false;
    const timer = setTimeout(() => {
        timedOut = true;
        child.kill("SIGKILL");
    }, timeoutMs);
    child.stdout?.on("data", (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on("data", (chunk: Buffer) => {
        stderr += chunk.toString("utf8");
        for (const watcher of stderrWatchers) watcher();
    });
    // The CLI may exit before reading stdin (bad input); a broken pipe is not a test failure.
    child.stdin!.on("error", () => {});
    if (!options.keepStdinOpen) child.stdin!.end(options.stdin ?? "");
    const result = new Promise<CliResult>((resolve, reject) => {
        child.on("error", (error) => {
            clearTimeout(timer);
            reject(error);
        });
        child.on("close", (code, signal) => {
            clearTimeout(timer);
            for (const watcher of stderrWatchers) watcher();
            resolve({
                code,
                signal,
                stdout: Buffer.concat(stdout).toString("utf8"),
                stderr,
                ms: performance.now() - start,
                timedOut
            });
        });
    });
    let exited = false;
    child.once("exit", () => { exited = true; });
    const waitForStderr = (pattern: RegExp) => new Promise<string>((resolve, reject) => {
        const check = () => {
            if (pattern.test(stderr)) {
                stderrWatchers.delete(check);
                resolve(stderr);
            } else if (exited || child.exitCode !== null || child.signalCode !== null) {
                stderrWatchers.delete(check);
                reject(new Error(`the process exited before stderr matched ${pattern}; stderr:\n${stderr}`));
            }
        };
        stderrWatchers.add(check);
        check();
    });
    return {child, result, waitForStderr};
}

/**
 * An OS pipe (a FIFO in `dir`): its write end can be a process's stdout. Node gives a child a
 * socket pair, whose buffers hold hundreds of kilobytes; a pipe holds 64 KiB at most, as in a shell.
 */
export function makePipe(dir: string, name = "pipe"): {readFd: number; writeFd: number; close(): void} {
    const fifo = path.join(dir, name);
    execFileSync("mkfifo", [fifo]);
    // Open the read end first without blocking, so that opening the write end does not block either.
    const readFd = openSync(fifo, constants.O_RDONLY | constants.O_NONBLOCK);
    const writeFd = openSync(fifo, "w");
    return {readFd, writeFd, close: () => { closeSync(readFd); closeSync(writeFd); }};
}

/** Bad input must be refused quickly: model loading takes about a second, sampling never starts. */
const BAD_INPUT_MAX_MS = 10_000;

/** Exit 2, one line "power-sampling: ..." on stderr matching every pattern, no stack, empty stdout, quick. */
export function assertBadInput(result: CliResult, ...patterns: (RegExp | string)[]): void {
    const context = describeRun(result);
    assert.ok(!result.timedOut, `hung: killed after ${Math.round(result.ms)} ms\n${context}`);
    assert.equal(result.code, 2, `expected exit 2\n${context}`);
    assert.equal(result.stdout, "", `stdout must be empty\n${context}`);
    assert.match(result.stderr, /^power-sampling: [^\n]+\n$/, `stderr must be exactly one "power-sampling: " line\n${context}`);
    assert.ok(!result.stderr.includes("    at "), `stack trace on stderr\n${context}`);
    assert.ok(!/internal error/.test(result.stderr), `bad input reported as an internal error\n${context}`);
    for (const pattern of patterns) {
        if (typeof pattern === "string") assert.ok(result.stderr.includes(pattern), `stderr should contain ${JSON.stringify(pattern)}\n${context}`);
        else assert.match(result.stderr, pattern, `stderr should match ${pattern}\n${context}`);
    }
    assert.ok(result.ms < BAD_INPUT_MAX_MS, `took ${Math.round(result.ms)} ms to refuse bad input`);
}

/** A one-line description of a run, for assertion messages. */
export function describeRun(result: CliResult): string {
    return `exit ${result.code}${result.signal ? ` (${result.signal})` : ""}${result.timedOut ? " (timed out)" : ""} after ${Math.round(result.ms)} ms\n`
        + `--- stdout ---\n${result.stdout.slice(0, 2000)}\n--- stderr ---\n${result.stderr.slice(0, 2000)}`;
}
