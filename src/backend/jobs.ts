/**
 * Jobs run one at a time in arrival order, with a bounded wait list. A cancelled job's request
 * is answered at once; the job itself winds down through its AbortSignal, and the next job
 * starts only after it has (so its sequences are freed first).
 */
import {CancelledError} from "../sampling/errors.js";

export class BusyError extends Error {
    override name = "BusyError";
}

export interface JobHandle {
    readonly signal: AbortSignal;
    /** Milliseconds between submission and start. */
    readonly queuedMs: number;
}

export class JobQueue {
    private tail: Promise<void> = Promise.resolve();
    private waiting = 0;
    private runningJobs = 0;

    constructor(private readonly limit: number, private readonly onChange: () => void = () => {}) {}

    /** Jobs submitted but not started. */
    get length(): number {
        return this.waiting;
    }

    get busy(): boolean {
        return this.runningJobs > 0;
    }

    /** Resolves once every job submitted so far has finished (or been dropped). */
    idle(): Promise<void> {
        return this.tail;
    }

    /**
     * Runs `job` after the jobs before it. `cancel` aborts it (or drops it if still waiting);
     * the returned promise then rejects with CancelledError immediately.
     */
    submit<T>(job: (handle: JobHandle) => Promise<T>, cancel: AbortSignal): Promise<T> {
        if (this.waiting >= this.limit)
            return Promise.reject(new BusyError(`busy: ${this.waiting} jobs are waiting (the limit); try again when one finishes`));
        const controller = new AbortController();
        const submitted = performance.now();
        this.waiting++;
        this.onChange();
        let state: "waiting" | "started" | "dropped" = "waiting";
        const run = this.tail.then(async () => {
            if (state === "dropped") throw new CancelledError();
            this.waiting--;
            state = "started";
            this.runningJobs++;
            this.onChange();
            try {
                return await job({signal: controller.signal, queuedMs: performance.now() - submitted});
            } finally {
                this.runningJobs--;
                this.onChange();
            }
        });
        this.tail = run.then(() => undefined, () => undefined);
        const cancelled = new Promise<never>((_, reject) => {
            const onAbort = () => {
                controller.abort();
                if (state === "waiting") {
                    state = "dropped";
                    this.waiting--;
                    this.onChange();
                }
                reject(new CancelledError());
            };
            if (cancel.aborted) onAbort();
            else cancel.addEventListener("abort", onAbort, {once: true});
            void run.finally(() => cancel.removeEventListener("abort", onAbort)).catch(() => undefined);
        });
        return Promise.race([run, cancelled]);
    }
}
