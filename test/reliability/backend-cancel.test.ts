/**
 * $/cancelRequest in the orders a client can produce: before its request, in the same write as
 * it, twice, for an id that never was, after the answer. A real backend process, real models.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ERROR_CODES, PROGRESS_NOTIFICATION, type ProgressNotification, SOLVE_REQUEST, type SolveRequest} from "../../src/protocol/backend.js";
import {PIVOTAL_CHAIN, writeMarkovModel} from "../../src/testmodels/markov.js";
import {frame, RawBackend} from "../support/backend.js";
import {buildCli} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");

const cancel = (id: number | string) => frame({jsonrpc: "2.0", method: "$/cancelRequest", params: {id}});

describe("backend: early and duplicate $/cancelRequest (serve --stdio)", function () {
    this.timeout(120_000);
    let folder: string;
    let pivotal: string;
    let backend: RawBackend;
    /** A short job on the pivotal chain: about a second, answered with a result unless cancelled. */
    const quickSolve = (id: number | string) => frame({jsonrpc: "2.0", id, method: SOLVE_REQUEST,
        params: {prompt: "", model: pivotal, params: {method: "power", mcmcSteps: 20, blockSize: 8, maxTokens: 8, samples: 2, seed: 1}} satisfies SolveRequest});
    /** A job that runs far longer than the test: only a cancel ends it. */
    const longSolve = (id: string) => frame({jsonrpc: "2.0", id, method: SOLVE_REQUEST,
        params: {prompt: "Once upon a time", model: STORIES, params: {method: "power", blockSize: 64, maxTokens: 512, mcmcSteps: 200, seed: 5}, jobId: id} satisfies SolveRequest});
    const progressOf = (jobId: string) => backend.until(() => backend.notifications.some((n) =>
        n.method === PROGRESS_NOTIFICATION && (n.params as ProgressNotification).jobId === jobId && (n.params as ProgressNotification).proposedTokens > 10));

    before(async function () {
        this.timeout(180_000);
        await buildCli();
        folder = await mkdtemp(join(tmpdir(), "power-sampling-cancel-"));
        pivotal = join(folder, "pivotal.gguf");
        await writeMarkovModel(PIVOTAL_CHAIN, pivotal);
        backend = await RawBackend.start();
        // Load the model once, so that each test's job is quick.
        backend.write(quickSolve("warm-up"));
        assert.ok((await backend.response("warm-up")).result, "the warm-up job is answered");
    });
    after(async () => {
        backend?.kill();
        await rm(folder, {recursive: true, force: true});
    });

    // The cancel is remembered and the handler's token starts out cancelled: the handler must look
    // at it, not only listen for a cancellation to come (issue 8, item 3).
    it("a cancel before its request, in the same write, cancels it (issue 8 item 3)", async () => {
        backend.write(Buffer.concat([cancel(101), quickSolve(101)]));
        const answer = await backend.response(101);
        assert.equal(answer.error?.code, ERROR_CODES.cancelled, `answered ${JSON.stringify(answer).slice(0, 200)}`);
    });

    // The same: the cancel arrives before the request is dispatched.
    it("a cancel right after its request, in the same write, cancels it (issue 8 item 3)", async () => {
        backend.write(Buffer.concat([quickSolve(102), cancel(102)]));
        const answer = await backend.response(102);
        assert.equal(answer.error?.code, ERROR_CODES.cancelled, `answered ${JSON.stringify(answer).slice(0, 200)}`);
    });

    it("two cancels for a running job: one answer, RequestCancelled, and the next job runs", async () => {
        backend.write(longSolve("twice"));
        await progressOf("twice");
        backend.write(Buffer.concat([cancel("twice"), cancel("twice")]));
        assert.equal((await backend.response("twice")).error?.code, ERROR_CODES.cancelled);
        backend.write(quickSolve(103));
        assert.ok((await backend.response(103)).result, "the next job is answered");
        assert.equal(backend.received.filter((message) => message.id === "twice").length, 1, "one answer for the cancelled job");
    });

    it("a cancel for an id that was never sent is ignored", async () => {
        backend.write(cancel("never-sent"));
        assert.ok(await backend.serves("after-unknown-cancel"));
        backend.write(quickSolve(104));
        assert.ok((await backend.response(104)).result);
    });

    it("a cancel after the answer changes nothing, and a later request with a new id runs", async () => {
        backend.write(quickSolve(105));
        assert.ok((await backend.response(105)).result);
        backend.write(Buffer.concat([cancel(105), cancel(105)]));
        backend.write(quickSolve(106));
        assert.ok((await backend.response(106)).result);
        assert.equal(backend.received.filter((message) => message.id === 105).length, 1, "still one answer for 105");
    });
});
