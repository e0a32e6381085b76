import {strict as assert} from "node:assert";
import {BusyError, JobQueue} from "../../src/backend/jobs.js";
import {CancelledError} from "../../src/sampling/errors.js";

/** A job that runs until released or aborted, recording what happened to it. */
function controllable(log: string[], name: string) {
    let release!: () => void;
    const done = new Promise<void>((resolve) => { release = resolve; });
    const job = async ({signal}: {signal: AbortSignal}) => {
        log.push(`start ${name}`);
        await Promise.race([done, new Promise((resolve) => signal.addEventListener("abort", resolve))]);
        log.push(signal.aborted ? `aborted ${name}` : `end ${name}`);
        return name;
    };
    return {job, release};
}

describe("job queue", () => {
    it("runs jobs one at a time in arrival order", async () => {
        const log: string[] = [];
        const queue = new JobQueue(4);
        const a = controllable(log, "a");
        const b = controllable(log, "b");
        const never = new AbortController().signal;
        const results = [queue.submit(a.job, never), queue.submit(b.job, never)];
        await new Promise((r) => setImmediate(r));
        assert.deepEqual(log, ["start a"]);
        assert.equal(queue.length, 1);
        a.release();
        b.release();
        assert.deepEqual(await Promise.all(results), ["a", "b"]);
        assert.deepEqual(log, ["start a", "end a", "start b", "end b"]);
    });

    it("rejects beyond its limit with a busy error", async () => {
        const queue = new JobQueue(1);
        const log: string[] = [];
        const a = controllable(log, "a");
        const b = controllable(log, "b");
        const never = new AbortController().signal;
        const first = queue.submit(a.job, never);
        await new Promise((r) => setImmediate(r));
        const second = queue.submit(b.job, never);
        await assert.rejects(queue.submit(async () => "c", never), (e: Error) => e instanceof BusyError && /busy: 1 jobs are waiting/.test(e.message));
        a.release();
        b.release();
        assert.deepEqual(await Promise.all([first, second]), ["a", "b"]);
    });

    it("answers a cancelled running job at once and starts the next only after it stopped", async () => {
        const log: string[] = [];
        const queue = new JobQueue(4);
        const a = controllable(log, "a");
        const b = controllable(log, "b");
        const cancelA = new AbortController();
        const first = queue.submit(a.job, cancelA.signal);
        const second = queue.submit(b.job, new AbortController().signal);
        await new Promise((r) => setImmediate(r));
        cancelA.abort();
        await assert.rejects(first, CancelledError);
        b.release();
        assert.equal(await second, "b");
        assert.deepEqual(log, ["start a", "aborted a", "start b", "end b"]);
    });

    it("drops a cancelled waiting job without running it", async () => {
        const log: string[] = [];
        const queue = new JobQueue(4);
        const a = controllable(log, "a");
        const b = controllable(log, "b");
        const cancelB = new AbortController();
        const first = queue.submit(a.job, new AbortController().signal);
        const second = queue.submit(b.job, cancelB.signal);
        cancelB.abort();
        await assert.rejects(second, CancelledError);
        assert.equal(queue.length, 0);
        a.release();
        assert.equal(await first, "a");
        assert.deepEqual(log, ["start a", "end a"]);
    });
});
