/** The backend as the extension meets it: a real process over stdio, real models. */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {CancellationTokenSource, ResponseError} from "vscode-jsonrpc/node";
import {
    ERROR_CODES, LOAD_MODEL_REQUEST, SOLVE_REQUEST, STATUS, type BackendStatus, type LoadModelResult, type SolveParams, type SolveResult
} from "../../src/backend/protocol.js";
import {PIVOTAL_CHAIN, writeMarkovModel} from "../../src/testmodels/markov.js";
import {Backend} from "../support/backend.js";
import {buildCli} from "../support/cli.js";
import {MODEL_PATH, ModelServer} from "../support/model-server.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");

async function rejection(promise: Promise<unknown>): Promise<ResponseError<unknown>> {
    try {
        await promise;
    } catch (error) {
        assert.ok(error instanceof ResponseError, `expected a ResponseError, got ${String(error)}`);
        return error;
    }
    assert.fail("expected the request to fail");
}

describe("backend process (power-sampling serve --stdio)", function () {
    this.timeout(120_000);
    let folder: string;
    let pivotal: string;
    let backend: Backend;
    const solve = (params: Partial<SolveParams>, source?: CancellationTokenSource): Promise<SolveResult> => {
        const full = {prompt: "", model: pivotal, ...params};
        // An explicit undefined token would make vscode-jsonrpc send the params by position.
        return source ? backend.connection.sendRequest(SOLVE_REQUEST, full, source.token) : backend.connection.sendRequest(SOLVE_REQUEST, full);
    };

    before(async () => {
        await buildCli();
        folder = await mkdtemp(join(tmpdir(), "power-sampling-backend-"));
        pivotal = join(folder, "pivotal.gguf");
        await writeMarkovModel(PIVOTAL_CHAIN, pivotal);
        backend = await Backend.start({cacheDir: join(folder, "cache"), queueLimit: 1, progressIntervalMs: 0});
    });
    after(async () => {
        await backend?.stop();
        await rm(folder, {recursive: true, force: true});
    });

    it("solves on a Markov-chain GGUF with k alternatives grouped by final answer", async () => {
        const result = await solve({method: "power", alternatives: 6, mcmcSteps: 100, blockSize: 8, maxTokens: 8, seed: 3});
        assert.equal(result.alternatives.length, 6);
        assert.equal(result.groups.reduce((sum, g) => sum + g.count, 0), 6);
        assert.ok(result.groups.every((g) => Math.abs(g.share - g.count / 6) < 1e-12));
        assert.deepEqual(result.answer, result.alternatives[result.answerIndex]);
        assert.ok(result.alternatives.every((a) => /^(Ba|Bb|Aa\d)$/.test(a.text) && a.finishReason === "eos" && a.tokenCount === 2));
        assert.ok(result.alternatives.every((a) => a.finalAnswer === a.text));
        assert.equal(result.answer.text, "Bb", "p^4 puts 99.5 % on B b");
        assert.ok(result.stats.mcmcSteps === 600 && result.stats.acceptanceRate !== null);
        assert.equal(result.params.alternatives, 6);
    });

    it("keeps one model loaded across jobs and solves on stories260K in raw mode", async () => {
        const first = await solve({model: STORIES, prompt: "Once upon a time", method: "standard", maxTokens: 24, seed: 1});
        const second = await solve({model: STORIES, prompt: "Once upon a time", method: "standard", maxTokens: 24, seed: 1});
        assert.ok(first.stats.loadMs > 0, "first job loads");
        assert.equal(second.stats.loadMs, 0, "second job reuses the loaded model");
        assert.equal(first.answer.text, second.answer.text);
        assert.match(first.answer.text, /^[ ,]+[a-z]/i, "continues the prompt, leading space kept");
        const status = await backend.connection.sendRequest(STATUS) as BackendStatus;
        assert.equal(status.model, STORIES);
        assert.equal(status.state, "idle");
        assert.equal(status.gpu, "cpu");
        assert.equal(status.threads, 1);
        assert.ok(status.contextSize! > 0);
    });

    it("streams progress before the result, in order, with chain texts", async () => {
        backend.progress.length = 0;
        const jobId = "progress-job";
        const result = await solve({model: STORIES, prompt: "Once upon a time", method: "power", alternatives: 2, blockSize: 16, maxTokens: 32, mcmcSteps: 3, seed: 4, jobId});
        const progress = backend.progress.filter((p) => p.jobId === jobId);
        assert.ok(progress.length > 5, `${progress.length} progress notifications`);
        assert.ok(progress.every((p, i) => i === 0 || p.proposedTokens >= progress[i - 1]!.proposedTokens));
        assert.ok(progress.every((p) => p.chains.length === 2 && p.blocks === 2 && p.mcmcStepsPerBlock === 3));
        assert.ok(progress.at(-1)!.proposedTokens <= result.stats.proposedTokens);
        assert.equal(result.jobId, jobId);
    });

    it("cancels a running job within 250 ms, answers RequestCancelled, then takes the next job", async () => {
        backend.progress.length = 0;
        const source = new CancellationTokenSource();
        const running = solve({model: STORIES, prompt: "Once upon a time", method: "power", blockSize: 64, maxTokens: 512, mcmcSteps: 200, seed: 5, jobId: "to-cancel"}, source);
        while (!backend.progress.some((p) => p.jobId === "to-cancel" && p.proposedTokens > 10)) await new Promise((r) => setTimeout(r, 5));
        const cancelledAt = performance.now();
        source.cancel();
        const error = await rejection(running);
        const latencyMs = performance.now() - cancelledAt;
        assert.equal(error.code, ERROR_CODES.cancelled);
        assert.ok(latencyMs < 250, `cancel answered after ${latencyMs.toFixed(0)} ms`);
        console.log(`      cancellation answered in ${latencyMs.toFixed(1)} ms`);
        const next = await solve({method: "greedy", maxTokens: 8});
        assert.equal(next.answer.text, "Aa0");
        assert.ok(next.stats.queuedMs < 250, `the cancelled job held the queue ${next.stats.queuedMs.toFixed(0)} ms`);
    });

    it("answers bad input with specific errors and keeps serving", async () => {
        const notGguf = join(folder, "notes.txt");
        await writeFile(notGguf, "not a model");
        const cases: [Partial<SolveParams> | Record<string, unknown>, number, RegExp][] = [
            [{model: join(folder, "missing.gguf")}, ERROR_CODES.modelUnavailable, /not found.*missing\.gguf/],
            [{model: notGguf}, ERROR_CODES.modelUnavailable, /not a GGUF/],
            [{alpha: 0.5}, ERROR_CODES.invalidParams, /alpha must be a number >= 1/],
            [{blockSize: 0}, ERROR_CODES.invalidParams, /blockSize must be an integer >= 1/],
            [{alternatives: 0}, ERROR_CODES.invalidParams, /alternatives must be an integer >= 1/],
            [{mode: "poetry"}, ERROR_CODES.invalidParams, /mode must be one of raw, chat, math, code/],
            [{method: "beam"}, ERROR_CODES.invalidParams, /method must be one of/],
            [{prompt: 42}, ERROR_CODES.invalidParams, /prompt must be a string/],
            [{model: ""}, ERROR_CODES.invalidParams, /model must name/],
            [{model: STORIES, prompt: "the little dog ran ".repeat(700)}, ERROR_CODES.invalidParams, /context/],
            [{model: STORIES, prompt: "hi", maxTokens: 5000}, ERROR_CODES.invalidParams, /context/]
        ];
        for (const [params, code, message] of cases) {
            const error = await rejection(solve(params as Partial<SolveParams>));
            assert.equal(error.code, code, `${JSON.stringify(params).slice(0, 80)}: ${error.message}`);
            assert.match(error.message, message);
            assert.ok(!error.message.includes("\n"), "one line");
        }
        const unknown = await rejection(backend.connection.sendRequest("powerSampling/unknown", {}));
        assert.equal(unknown.code, -32601);
        const ok = await solve({method: "greedy", maxTokens: 8});
        assert.equal(ok.answer.text, "Aa0");
    });

    it("survives malformed JSON-RPC on its stdin", async () => {
        const garbage = "{this is not json";
        backend.process.stdin!.write(`Content-Length: ${garbage.length}\r\n\r\n${garbage}`);
        const ok = await solve({method: "greedy", maxTokens: 8});
        assert.equal(ok.answer.text, "Aa0");
        assert.equal(backend.process.exitCode, null);
    });

    it("answers Busy when more jobs arrive than the queue holds, then serves again", async () => {
        const sources = [new CancellationTokenSource(), new CancellationTokenSource()];
        const long = {model: STORIES, prompt: "Once upon a time", method: "power", blockSize: 64, maxTokens: 512, mcmcSteps: 200} as const;
        const running = rejection(solve({...long, seed: 1}, sources[0]));
        const waiting = rejection(solve({...long, seed: 2}, sources[1]));
        const busy = await rejection(solve({method: "greedy", maxTokens: 8}));
        assert.equal(busy.code, ERROR_CODES.busy);
        assert.match(busy.message, /busy/);
        sources.forEach((s) => s.cancel());
        assert.equal((await waiting).code, ERROR_CODES.cancelled);
        assert.equal((await running).code, ERROR_CODES.cancelled);
        assert.equal((await solve({method: "greedy", maxTokens: 8})).answer.text, "Aa0");
    });

    it("notifies status changes: loading, running, idle, with the queue length", async () => {
        backend.statuses.length = 0;
        await solve({model: STORIES, prompt: "Once", method: "greedy", maxTokens: 8});
        const states = backend.statuses.map((s) => s.state);
        assert.ok(states.includes("loading") && states.includes("running") && states.at(-1) === "idle", states.join(","));
        assert.ok(backend.statuses.every((s) => s.queueLength >= 0));
    });

    it("loads a model ahead of a solve with powerSampling/loadModel", async () => {
        const loaded = await backend.connection.sendRequest(LOAD_MODEL_REQUEST, {model: pivotal}) as LoadModelResult;
        assert.equal(loaded.model, pivotal);
        assert.ok(loaded.contextSize > 0);
        const status = await backend.connection.sendRequest(STATUS) as BackendStatus;
        assert.equal(status.model, pivotal);
        const missing = await rejection(backend.connection.sendRequest(LOAD_MODEL_REQUEST, {model: join(folder, "nope.gguf")}));
        assert.equal(missing.code, ERROR_CODES.modelUnavailable);
        assert.match(missing.message, /not found/);
    });

    it("builds math and chat prompts around the selection", async () => {
        const params = {model: STORIES, prompt: "What is 2 + 2?", method: "greedy", maxTokens: 4} as const;
        const raw = await solve({...params, mode: "raw"});
        const math = await solve({...params, mode: "math"});
        const chat = await solve({...params, mode: "chat"});
        assert.equal(math.params.mode, "math");
        assert.ok(math.stats.promptTokens > raw.stats.promptTokens + 10, "the paper's instructions surround the problem");
        assert.ok(chat.stats.promptTokens > raw.stats.promptTokens, "the chat template wraps the message");
    });

    it("shuts down and exits with code 0", async () => {
        const other = await Backend.start();
        assert.equal(await other.stop(), 0);
    });

    describe("downloading a model from a local HTTP server (127.0.0.1)", () => {
        let server: ModelServer;
        before(async () => {
            server = new ModelServer(await readFile(STORIES));
            await server.start();
        });
        after(() => server.stop());

        it("reports download progress, cancels midway, then resolves offline from the cache", async () => {
            const cacheDir = join(folder, "download-cache");
            const url = server.url(MODEL_PATH);
            const downloader = await Backend.start({cacheDir, progressIntervalMs: 0});
            try {
                server.slow = {chunkBytes: 64 * 1024, intervalMs: 20};
                const source = new CancellationTokenSource();
                const first = rejection(downloader.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, maxTokens: 4}, source.token));
                while (!downloader.statuses.some((s) => s.state === "downloading" && (s.progress ?? 0) > 0)) await new Promise((r) => setTimeout(r, 5));
                source.cancel();
                assert.equal((await first).code, ERROR_CODES.cancelled);

                server.slow = null;
                downloader.statuses.length = 0;
                const result = await downloader.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, method: "greedy", maxTokens: 4}) as SolveResult;
                assert.ok(result.answer.tokenCount > 0);
                const progress = downloader.statuses.filter((s) => s.state === "downloading").map((s) => s.progress ?? 0);
                assert.ok(progress.length > 0 && progress.every((p, i) => i === 0 || p >= progress[i - 1]!), progress.join(","));
            } finally {
                await downloader.stop();
            }
            await server.stop();
            const offline = await Backend.start({cacheDir});
            try {
                const result = await offline.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, method: "greedy", maxTokens: 4}) as SolveResult;
                assert.ok(result.answer.tokenCount > 0, "served from the cache with the server gone");
                assert.ok(!offline.statuses.some((s) => s.state === "downloading"), "no download the second time");
            } finally {
                await offline.stop();
            }
        });
    });
});
