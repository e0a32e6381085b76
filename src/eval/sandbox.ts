/**
 * Runs generated Python in a separate process, isolated as far as the OS allows without root
 * (sandbox-runner.ts says how), with a wall-time limit that kills its whole process group.
 *
 * Node running as root would hand root to the code, and RLIMIT_NPROC does not bind root: so as
 * root each run gets a fresh unprivileged uid (and its folder is chowned to it), which also means
 * the interpreter must be one that user can run (a pyenv python under /root is not; the system's
 * is). PythonSandbox.create finds such an interpreter and reports the isolation it gets.
 */
import {spawn} from "node:child_process";
import {randomBytes, randomInt} from "node:crypto";
import {access, chown, constants, mkdtemp, realpath, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {CancelledError, InvalidInputError, throwIfCancelled} from "../sampling/errors.js";
import {SANDBOX_RUNNER} from "./sandbox-runner.js";

export interface SandboxLimits {
    /** Wall time from start to result; then every process of the run is killed. */
    readonly timeoutMs: number;
    /** Address space of each process (RLIMIT_AS). */
    readonly memoryBytes: number;
    /** The largest file it may write (RLIMIT_FSIZE). */
    readonly fileSizeBytes: number;
    /** Its folder's capacity, where the folder is a private tmpfs. */
    readonly workDirBytes: number;
    /** Processes and threads at once, the first included (RLIMIT_NPROC). */
    readonly processes: number;
}

/**
 * Generous for HumanEval: a correct solution never comes near them (the slowest canonical one
 * takes well under a second), and a laptop busy sampling is slower than a benchmark machine.
 */
export const DEFAULT_SANDBOX_LIMITS: SandboxLimits = {
    timeoutMs: 10_000,
    memoryBytes: 1024 ** 3,
    fileSizeBytes: 16 * 1024 ** 2,
    workDirBytes: 64 * 1024 ** 2,
    processes: 32,
};

export interface SandboxIsolation {
    /** Not root: Node as root runs each program as a fresh unprivileged uid. */
    readonly unprivilegedUser: boolean;
    readonly userNamespace: boolean;
    /** Its own PID namespace: it sees and signals only its processes, and they all die with it. */
    readonly pidNamespace: boolean;
    /** Its own network namespace, with no interface up: no network at all. */
    readonly networkNamespace: boolean;
    readonly mountNamespace: boolean;
    /** Every mount read-only: it can write nowhere but its folder. */
    readonly readOnlyFilesystem: boolean;
    /** /tmp, /var/tmp, /run and /dev/shm are empty folders of its own: no other program's files or sockets. */
    readonly privateSharedFolders: boolean;
    /** Its folder is a size-limited tmpfs of its own, gone when it ends. */
    readonly privateWorkDir: boolean;
    /** A /proc of its PID namespace, not the host's. */
    readonly privateProc: boolean;
    /** No capability left over its namespaces' mounts, so the above cannot be undone. */
    readonly privilegesDropped: boolean;
    /** Set-user-ID programs (sudo, su) gain nothing. */
    readonly noNewPrivileges: boolean;
    readonly limits: {
        readonly memory: boolean;
        readonly fileSize: boolean;
        /** "approximate" where the limit counts all processes of the user (no user namespace). */
        readonly processes: "exact" | "approximate" | "none";
        readonly cpu: boolean;
    };
    /** What is missing and why, one line each. */
    readonly notes: readonly string[];
}

/**
 * passed: the program ran to its end. failed: it raised (a failed assert, a syntax error, ...) or
 * exited early. timeout: the wall-time or CPU limit. memory, file-size, process-limit: it hit that
 * limit and did not recover. crashed: a signal killed it (a segfault, say).
 */
export type SandboxOutcome = "passed" | "failed" | "timeout" | "memory" | "file-size" | "process-limit" | "crashed";

export interface SandboxResult {
    readonly outcome: SandboxOutcome;
    /** Why it did not pass, in a line; "" when it passed. */
    readonly detail: string;
    /** The end of what it printed on stdout and stderr together, at most OUTPUT_TAIL characters. */
    readonly output: string;
    readonly wallMs: number;
}

export interface SandboxRunOptions {
    readonly limits?: Partial<SandboxLimits>;
    readonly signal?: AbortSignal;
}

const OUTPUT_TAIL = 4096;
const REPORT_LIMIT = 65536;
/** Fresh uids for runs started as root: far above system, user and usual subordinate-uid ranges. */
const UID_RANGE = [1 << 24, 1 << 30] as const;
const ROOT_FALLBACK_PYTHONS = ["/usr/bin/python3", "/usr/local/bin/python3"];

export interface SandboxOptions {
    /** A python3 path, or a name looked up on PATH; default every python3 on PATH, first that runs. */
    readonly python?: string;
    /**
     * false: no Linux namespaces, resource limits only (what macOS and Linux without unprivileged
     * user namespaces get anyway), for systems where namespaces misbehave. Default true.
     */
    readonly namespaces?: boolean;
}

export class PythonSandbox {
    private constructor(readonly python: string, private readonly namespaces: boolean, readonly isolation: SandboxIsolation) {}

    /** Finds a python3 that can run in the sandbox and measures the isolation it gets by running an empty program. */
    static async create(options: SandboxOptions = {}): Promise<PythonSandbox> {
        const namespaces = options.namespaces ?? true;
        const failures: string[] = [];
        for (const python of await interpreterCandidates(options.python)) {
            try {
                const {result, isolation} = await execute(python, namespaces, "", DEFAULT_SANDBOX_LIMITS, undefined);
                if (isolation !== null) return new PythonSandbox(python, namespaces, isolation);
                const said = result.output.trim().split("\n").at(-1);
                failures.push(`${python} did not run (${result.detail}${said ? `: ${said}` : ""})`);
            } catch (error) {
                if (error instanceof CancelledError) throw error;
                failures.push(`${python}: ${(error as Error).message}`);
            }
        }
        const who = isRoot() ? " as an unprivileged user" : "";
        throw new InvalidInputError(`HumanEval runs the tests with python3, and none could run${who}: ${failures.join("; ") || `no ${options.python ?? "python3"} on PATH`}`);
    }

    /** Runs the program in a fresh folder and sandbox; rejects only when the sandbox itself cannot start. */
    async run(program: string, options: SandboxRunOptions = {}): Promise<SandboxResult> {
        const limits = {...DEFAULT_SANDBOX_LIMITS, ...options.limits};
        for (const [name, value] of Object.entries(limits)) {
            // 0 would mean no limit to some of them (a tmpfs of size 0 is unbounded).
            if (!Number.isSafeInteger(value) || value < 1) throw new RangeError(`sandbox limit ${name} must be a positive integer, got ${value}`);
        }
        const {result} = await execute(this.python, this.namespaces, program, limits, options.signal);
        return result;
    }
}

function isRoot(): boolean {
    return process.getuid?.() === 0;
}

/** Absolute paths of `python` (or every python3 on PATH), and as root the system's as a fallback. */
async function interpreterCandidates(python: string | undefined): Promise<string[]> {
    const name = python ?? "python3";
    const found = name.includes("/") ? [path.resolve(name)] : [];
    if (!name.includes("/")) {
        for (const directory of (process.env.PATH ?? "").split(path.delimiter).filter((entry) => entry !== "")) {
            const candidate = path.join(directory, name);
            if (await access(candidate, constants.X_OK).then(() => true, () => false)) found.push(candidate);
        }
        if (python === undefined && isRoot()) found.push(...ROOT_FALLBACK_PYTHONS);
    }
    const unique = new Map<string, string>();
    for (const candidate of found) {
        const real = await realpath(candidate).catch(() => candidate); // a missing one fails to start, with the reason
        if (!unique.has(real)) unique.set(real, candidate);
    }
    return [...unique.values()];
}

interface Execution {
    readonly result: SandboxResult;
    /** From the program's report; null when it never reported (killed, crashed, exited early). */
    readonly isolation: SandboxIsolation | null;
}

interface Report {
    readonly nonce: string;
    readonly outcome?: SandboxOutcome;
    readonly detail?: string;
    readonly error?: string;
    readonly isolation?: Omit<SandboxIsolation, "unprivilegedUser">;
}

async function execute(python: string, namespaces: boolean, program: string, limits: SandboxLimits, signal: AbortSignal | undefined): Promise<Execution> {
    throwIfCancelled(signal);
    const workDir = await mkdtemp(path.join(tmpdir(), "power-sampling-sandbox-"));
    try {
        const uid = isRoot() ? randomInt(UID_RANGE[0], UID_RANGE[1]) : undefined;
        if (uid !== undefined) await chown(workDir, uid, uid);
        return await spawnRunner(python, {nonce: randomBytes(16).toString("hex"), program, workDir, namespaces, limits}, signal, uid);
    } finally {
        // Best effort: in the fallback without a private folder, code may have left files it made unremovable.
        await rm(workDir, {recursive: true, force: true}).catch(() => undefined);
    }
}

interface RunnerConfig {
    /** Proves a report comes from the runner: the program never sees it. */
    readonly nonce: string;
    readonly program: string;
    readonly workDir: string;
    readonly namespaces: boolean;
    readonly limits: SandboxLimits;
}

function spawnRunner(python: string, config: RunnerConfig, signal: AbortSignal | undefined, uid: number | undefined): Promise<Execution> {
    const {nonce, workDir, limits} = config;
    const started = performance.now();
    const child = spawn(python, ["-I", "-c", SANDBOX_RUNNER], {
        cwd: workDir,
        // Its own process group, so that a kill reaches everything it started (setsid escapees die with the PID namespace).
        detached: true,
        stdio: ["pipe", "pipe", "pipe", "pipe"],
        env: {PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: workDir, TMPDIR: workDir, LANG: "C.UTF-8", PYTHONDONTWRITEBYTECODE: "1", OMP_NUM_THREADS: "1"},
        uid,
        gid: uid,
    });
    let output = "";
    let report = "";
    let timedOut = false;
    const killGroup = () => {
        try {
            if (child.pid !== undefined) process.kill(-child.pid, "SIGKILL");
        } catch {
            // The group is gone already.
        }
    };
    const keepTail = (chunk: Buffer) => {
        output = (output + chunk.toString("utf8")).slice(-OUTPUT_TAIL);
    };
    child.stdout!.on("data", keepTail);
    child.stderr!.on("data", keepTail);
    const reportStream = child.stdio[3] as NodeJS.ReadableStream;
    reportStream.on("data", (chunk: Buffer) => {
        if (report.length < REPORT_LIMIT) report += chunk.toString("utf8");
    });
    child.stdin!.on("error", () => undefined); // it may exit before reading everything
    child.stdin!.end(JSON.stringify({...config, limits: {...limits, cpuSeconds: Math.ceil(limits.timeoutMs / 1000) + 1}}));
    const timer = setTimeout(() => {
        timedOut = true;
        killGroup();
    }, limits.timeoutMs);
    const onAbort = () => killGroup();
    signal?.addEventListener("abort", onAbort, {once: true});
    // When its first process ends, whatever it left running (outside a PID namespace) goes too.
    child.on("exit", killGroup);
    return new Promise<Execution>((resolve, reject) => {
        child.on("error", (error) => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            reject(error);
        });
        child.on("close", (code, killedBy) => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", onAbort);
            if (signal?.aborted) return reject(new CancelledError());
            const wallMs = performance.now() - started;
            const parsed = parseReport(report, nonce);
            if (parsed?.error !== undefined) return reject(new Error(`the sandbox could not start: ${parsed.error}`));
            const isolation = parsed?.isolation ? {...parsed.isolation, unprivilegedUser: uid !== undefined || !isRoot()} : null;
            const ended = (outcome: SandboxOutcome, detail: string): Execution => ({result: {outcome, detail, output, wallMs}, isolation});
            if (parsed?.outcome !== undefined) return resolve(ended(parsed.outcome, parsed.detail ?? ""));
            if (timedOut) return resolve(ended("timeout", `no result after ${limits.timeoutMs} ms: all its processes were killed`));
            if (killedBy === "SIGXCPU") return resolve(ended("timeout", "the CPU-time limit killed it"));
            if (killedBy === "SIGXFSZ") return resolve(ended("file-size", "a file reached the size limit"));
            if (killedBy !== null) return resolve(ended("crashed", `killed by ${killedBy}`));
            resolve(ended("failed", `exited with code ${code} before the tests finished`));
        });
    });
}

function parseReport(text: string, nonce: string): Report | null {
    try {
        const report = JSON.parse(text) as Report;
        return report.nonce === nonce ? report : null;
    } catch {
        return null;
    }
}

/** What generated code can and cannot do here, for the warning a user sees before it runs. */
export function describeIsolation(isolation: SandboxIsolation, limits: SandboxLimits = DEFAULT_SANDBOX_LIMITS): string {
    const mib = (bytes: number) => `${Math.round(bytes / 1024 ** 2)} MiB`;
    const contained = [
        isolation.unprivilegedUser && "runs as an unprivileged user",
        isolation.networkNamespace && "has no network",
        isolation.pidNamespace && "sees only its own processes, which all end with it",
        isolation.readOnlyFilesystem && "can write only its own folder",
        isolation.privateSharedFolders && "sees no other program's temporary files or sockets",
        isolation.privateWorkDir && `keeps its files in a private ${mib(limits.workDirBytes)} folder that is gone when it ends`,
        isolation.privilegesDropped && "cannot undo any of this",
        `is killed after ${limits.timeoutMs / 1000} s`,
        isolation.limits.memory && `has ${mib(limits.memoryBytes)} of memory per process`,
        isolation.limits.fileSize && `writes files of at most ${mib(limits.fileSizeBytes)}`,
        isolation.limits.processes !== "none" && `runs at most ${limits.processes} processes${isolation.limits.processes === "approximate" ? " (approximately)" : ""}`,
    ].filter((part): part is string => typeof part === "string");
    const missing = isolation.notes.length > 0 ? ` Not isolated: ${isolation.notes.join("; ")}.` : "";
    return `Generated code runs on this machine with python3. It ${contained.join(", ")}; it can read what every user of this machine may read.${missing}`;
}
