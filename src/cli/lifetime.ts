/**
 * How a command-line run ends: complete, with everything it wrote taken by the OS; or stopped
 * early, by a signal or by output that cannot be written, and then it says why in one line on
 * stderr and exits with a code that tells which.
 */
import {constants} from "node:os";

export type StopSignal = "SIGINT" | "SIGTERM";

/** Ctrl-C or SIGTERM: the run frees what it holds and exits with 128 + the signal's number. */
export class InterruptedError extends Error {
    override name = "InterruptedError";
    readonly exitCode: number;

    constructor(readonly signal: StopSignal) {
        super(signal === "SIGINT" ? "interrupted" : `interrupted (${signal})`);
        this.exitCode = 128 + constants.signals[signal];
    }
}

/** stdout cannot take the output (a full disk, a reader that went away): what was written is incomplete. */
export class OutputError extends Error {
    override name = "OutputError";
}

const stop = new AbortController();

/** Aborted when the run must end early; its reason is an InterruptedError or an OutputError. */
export const stopSignal: AbortSignal = stop.signal;

let stderrFailed = false;
let reported = false;

/**
 * Watches for what ends a run early: SIGINT and SIGTERM (a second one exits at once) and write
 * errors on stdout (which stop the run: its output can no longer be complete) and stderr.
 */
export function watchRun(): void {
    for (const signal of ["SIGINT", "SIGTERM"] as const) {
        // A listener that stays, not process.once: node-llama-cpp loads signal-exit (through
        // proper-lockfile), which re-raises a signal when no other listener is left, and so
        // killed the process before its cleanup ran.
        process.on(signal, () => {
            const interrupted = new InterruptedError(signal);
            if (!stopSignal.aborted) {
                stop.abort(interrupted);
                return;
            }
            reportEnd(interrupted.message);
            process.exit(interrupted.exitCode);
        });
    }
    process.stdout.on("error", (error) => stopWith(outputError(error)));
    process.stderr.on("error", () => { stderrFailed = true; });
}

/** Resolves once stdout has handed everything written to it to the OS; rejects with the stop reason if the run stops first. */
export async function stdoutWritten(): Promise<void> {
    if (process.stdout.writableLength > 0) debugLine(`waiting for stdout to take ${process.stdout.writableLength} more bytes`);
    await Promise.race([drained(process.stdout), new Promise<void>((resolve) => {
        if (stopSignal.aborted) resolve();
        else stopSignal.addEventListener("abort", () => resolve(), {once: true});
    })]);
    stopSignal.throwIfAborted();
}

/** Resolves once stderr has taken everything written to it, or has failed. */
export function stderrWritten(): Promise<void> {
    return drained(process.stderr);
}

/** Whether anything written to stderr was lost. */
export function stderrLost(): boolean {
    return stderrFailed;
}

/** The one line that says how the run ended ("power-sampling: ..."), written at most once. */
export function reportEnd(message: string): void {
    if (reported) return;
    reported = true;
    process.stderr.write(`power-sampling: ${message}\n`);
}

/** A line on stderr for each stage of a run when POWER_SAMPLING_DEBUG is set. */
export function debugLine(stage: string): void {
    if (process.env.POWER_SAMPLING_DEBUG) process.stderr.write(`power-sampling: debug: ${stage}\n`);
}

/** Resolves once `stream` has handed all it was given to the OS or failed, and its error listeners have run. */
function drained(stream: NodeJS.WriteStream): Promise<void> {
    return new Promise((resolve) => {
        // A failed write reports its error a tick or two later: wait for it before judging.
        const settle = () => setImmediate(resolve);
        if (stream.writableLength === 0) settle();
        // Writes complete in order: this empty one's callback runs once all before it are out.
        else stream.write("", settle);
    });
}

function stopWith(reason: Error): void {
    if (!stopSignal.aborted) stop.abort(reason);
}

function outputError(error: Error): OutputError {
    const code = (error as NodeJS.ErrnoException).code;
    const why = code === "EPIPE" ? "the reader closed the pipe (EPIPE)"
        : code === "ENOSPC" ? "no space left on the device (ENOSPC)"
        : error.message;
    return new OutputError(`cannot write output to stdout: ${why}`);
}
