/** The backend as the extension meets it: a real process over stdio, real models. */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {CancellationTokenSource} from "vscode-jsonrpc/node";
import {
    ERROR_CODES, LOAD_MODEL_REQUEST, SOLVE_REQUEST, STATUS, type BackendStatus, type LoadModelResult, type SolveResponse
} from "../../src/protocol/backend.js";
import type {SolvedSample} from "../../src/protocol/results.js";
import {PIVOTAL_CHAIN, writeMarkovModel} from "../../src/testmodels/markov.js";
import {Backend, rejection} from "../support/backend.js";
import {buildCli} from "../support/cli.js";
import {MODEL_PATH, ModelServer} from "../support/model-server.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");

/** The pids of `pid`'s child processes (Linux). */
async function childPids(pid: number): Promise<number[]> {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return children.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe("backend process (power-sampling serve --stdio)", function () {
    this.timeout(120_000);
    let folder: string;
    let pivotal: string;
    let backend: Backend;
    /** A solve request from flat fields: prompt, model, mode and jobId at the top, the rest as sampling parameters. */
    const solve = (fields: Record<string, unknown>, source?: CancellationTokenSource): Promise<SolveResponse> => {
        const {prompt = "", model = pivotal, mode, jobId, ...params} = fields;
        const request = {prompt, model, mode, jobId, params};
        // An explicit undefined token would make vscode-jsonrpc send the params by position.
        return source ? backend.connection.sendRequest(SOLVE_REQUEST, request, source.token) : backend.connection.sendRequest(SOLVE_REQUEST, request);
    };
    const answer = (result: SolveResponse): SolvedSample => result.samples[result.answerIndex]!;

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
        const result = await solve({method: "power", samples: 6, mcmcSteps: 100, blockSize: 8, maxTokens: 8, seed: 3});
        assert.equal(result.samples.length, 6);
        assert.equal(result.groups.reduce((sum, g) => sum + g.count, 0), 6);
        assert.ok(result.groups.every((g) => Math.abs(g.share - g.count / 6) < 1e-12));
        assert.ok(result.samples.every((a) => /^(Ba|Bb|Aa\d)$/.test(a.text) && a.finishReason === "eos" && a.tokenCount === 2));
        assert.ok(result.samples.every((a) => a.finalAnswer === a.text && a.tokens.join("") === a.text));
        assert.equal(answer(result).text, "Bb", "p^4 puts 99.5 % on B b");
        assert.ok(result.stats.mcmcSteps === 600 && result.stats.acceptanceRate !== null);
        assert.equal(result.params.samples, 6);
    });

    it("solves with Power-SMC: one draw per run, the particles with their weights", async () => {
        const result = await solve({method: "smc", samples: 3, particles: 32, resampleInterval: 1, maxTokens: 8, seed: 3});
        assert.equal(result.samples.length, 3);
        assert.equal(result.smc!.length, 3);
        for (const run of result.smc!) {
            assert.ok(Math.abs(run.particles.reduce((sum, p) => sum + p.weight, 0) - 1) < 1e-9);
            assert.equal(run.particles.reduce((sum, p) => sum + p.copies, 0), 32);
            assert.ok(run.ess.length > 0);
        }
        assert.ok(result.samples.every((s) => s.text === "Bb"), "p^4 puts 99.5 % on B b");
    });

    it("keeps one model loaded across jobs and solves on stories260K in raw mode", async () => {
        const first = await solve({model: STORIES, prompt: "Once upon a time", method: "standard", maxTokens: 24, seed: 1});
        const second = await solve({model: STORIES, prompt: "Once upon a time", method: "standard", maxTokens: 24, seed: 1});
        assert.ok(first.stats.loadMs > 0, "first job loads");
        assert.equal(second.stats.loadMs, 0, "second job reuses the loaded model");
        assert.equal(answer(first).text, answer(second).text);
        assert.match(answer(first).text, /^[ ,]+[a-z]/i, "continues the prompt, leading space kept");
        const status = await backend.connection.sendRequest(STATUS) as BackendStatus;
        assert.equal(status.model, STORIES);
        assert.equal(status.state, "idle");
        assert.equal(status.compute!.backend, "cpu");
        assert.equal(status.compute!.threads, 1);
        assert.ok(status.contextSize! > 0);
    });

    it("streams progress before the result, in order, with chain texts", async () => {
        backend.progress.length = 0;
        const jobId = "progress-job";
        const result = await solve({model: STORIES, prompt: "Once upon a time", method: "power", samples: 2, blockSize: 16, maxTokens: 32, mcmcSteps: 3, seed: 4, jobId});
        const progress = backend.progress.filter((p) => p.jobId === jobId);
        assert.ok(progress.length > 5, `${progress.length} progress notifications`);
        assert.ok(progress.every((p, i) => i === 0 || (p.proposedTokens >= progress[i - 1]!.proposedTokens && p.fraction >= progress[i - 1]!.fraction)));
        assert.ok(progress.every((p) => p.texts.length === 2 && p.power!.blocks === 2 && p.power!.mcmcSteps === 3 && p.fraction <= 1));
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
        assert.equal(answer(next).text, "Aa0");
        assert.ok(next.stats.queuedMs < 250, `the cancelled job held the queue ${next.stats.queuedMs.toFixed(0)} ms`);
    });

    it("a cancel that arrives before its request is dispatched (one write) cancels it", async () => {
        const request = {jsonrpc: "2.0", id: "early", method: SOLVE_REQUEST, params: {prompt: "", model: pivotal, params: {method: "power", maxTokens: 8, mcmcSteps: 5000}}};
        const cancel = {jsonrpc: "2.0", method: "$/cancelRequest", params: {id: "early"}};
        const answered = new Promise<{error?: {code: number}}>((resolve) => {
            let buffer = "";
            const onData = (chunk: Buffer) => {
                buffer += chunk.toString("utf8");
                const match = /\{"jsonrpc":"2\.0","id":"early"[^\n]*?\}(?=Content-Length|$)/.exec(buffer);
                if (match) {
                    backend.process.stdout!.off("data", onData);
                    resolve(JSON.parse(match[0]) as {error?: {code: number}});
                }
            };
            backend.process.stdout!.on("data", onData);
        });
        const frame = (message: unknown) => {
            const body = Buffer.from(JSON.stringify(message), "utf8");
            return Buffer.concat([Buffer.from(`Content-Length: ${body.length}\r\n\r\n`, "ascii"), body]);
        };
        const start = performance.now();
        backend.process.stdin!.write(Buffer.concat([frame(request), frame(cancel)]));
        const reply = await answered;
        assert.equal(reply.error?.code, ERROR_CODES.cancelled, JSON.stringify(reply));
        assert.ok(performance.now() - start < 5000, "answered without running the 5,000-step job");
    });

    it("answers bad input with specific errors and keeps serving", async () => {
        const notGguf = join(folder, "notes.txt");
        await writeFile(notGguf, "not a model");
        const cases: [Record<string, unknown>, number, RegExp][] = [
            [{model: join(folder, "missing.gguf")}, ERROR_CODES.modelUnavailable, /not found.*missing\.gguf/],
            [{model: notGguf}, ERROR_CODES.modelUnavailable, /not a GGUF/],
            [{alpha: 0.5}, ERROR_CODES.invalidParams, /alpha must be a number in 1\.\.64, got 0\.5/],
            [{blockSize: 0}, ERROR_CODES.invalidParams, /blockSize must be an integer in 1\.\./],
            [{samples: 0}, ERROR_CODES.invalidParams, /samples must be an integer in 1\.\.4096/],
            [{samples: 100000}, ERROR_CODES.invalidParams, /samples must be an integer in 1\.\.4096, got 100000/],
            [{particles: 1000}, ERROR_CODES.invalidParams, /particles must be an integer in 1\.\.256/],
            [{alternatives: 3}, ERROR_CODES.invalidParams, /unknown sampling parameter "alternatives"/],
            [{prompt: "x".repeat(2 * 1024 * 1024)}, ERROR_CODES.invalidParams, /the prompt is over 1,048,576 bytes/],
            [{prompt: "ab".repeat(10 * 1024 * 1024)}, ERROR_CODES.invalidParams, /the prompt is over 1,048,576 bytes/],
            [{mode: "poetry"}, ERROR_CODES.invalidParams, /mode must be one of auto, raw, chat, math, code, got "poetry"/],
            [{method: "beam"}, ERROR_CODES.invalidParams, /method must be one of/],
            [{prompt: 42}, ERROR_CODES.invalidParams, /prompt must be a string/],
            [{model: ""}, ERROR_CODES.invalidParams, /model must name/],
            [{model: STORIES, prompt: "the little dog ran ".repeat(700)}, ERROR_CODES.invalidParams, /context/],
            [{model: STORIES, prompt: "hi", maxTokens: 5000}, ERROR_CODES.invalidParams, /context/]
        ];
        for (const [params, code, message] of cases) {
            const error = await rejection(solve(params));
            assert.equal(error.code, code, `${JSON.stringify(params).slice(0, 80)}: ${error.message}`);
            assert.match(error.message, message);
            assert.ok(!error.message.includes("\n"), "one line");
        }
        const unknown = await rejection(backend.connection.sendRequest("powerSampling/unknown", {}));
        assert.equal(unknown.code, -32601);
        const positional = await rejection(backend.connection.sendRequest(SOLVE_REQUEST, "a prompt", pivotal));
        assert.equal(positional.code, ERROR_CODES.invalidParams, positional.message);
        const ok = await solve({method: "greedy", maxTokens: 8});
        assert.equal(answer(ok).text, "Aa0");
    });

    it("masks credentials in a model reference: in the error and in the status", async () => {
        backend.statuses.length = 0;
        const error = await rejection(solve({model: "https://user:hunter2@127.0.0.1:9/model.gguf?token=s3cret&x=1"}));
        assert.equal(error.code, ERROR_CODES.modelUnavailable);
        const seen = [error.message, ...backend.statuses.map((s) => JSON.stringify(s))].join("\n");
        assert.ok(!seen.includes("hunter2") && !seen.includes("s3cret"), seen);
        assert.match(error.message, /127\.0\.0\.1:9/, "the rest of the reference is still named");
    });

    it("refuses what would not fit in memory, saying what it needs, before allocating it", async () => {
        const small = await Backend.start({cacheDir: join(folder, "cache")}, {POWER_SAMPLING_MEMORY_MB: "100"});
        try {
            const request = {prompt: "", model: pivotal, params: {method: "smc", particles: 256, maxTokens: 2000}};
            const error = await rejection(small.connection.sendRequest(SOLVE_REQUEST, request));
            assert.equal(error.code, ERROR_CODES.invalidParams);
            assert.match(error.message, /one group of 256 sequences of 2,00\d tokens needs about [\d.]+ (MB|GB) of memory; 100 MB is free for it/);
            const fits = await small.connection.sendRequest(SOLVE_REQUEST, {prompt: "", model: pivotal, params: {method: "smc", particles: 16, samples: 8, maxTokens: 8}}) as SolveResponse;
            assert.equal(fits.samples.length, 8, "smaller requests still run, in waves if need be");
        } finally {
            await small.stop();
        }
    });

    it("survives malformed JSON-RPC on its stdin", async () => {
        const garbage = "{this is not json";
        backend.process.stdin!.write(`Content-Length: ${garbage.length}\r\n\r\n${garbage}`);
        const ok = await solve({method: "greedy", maxTokens: 8});
        assert.equal(answer(ok).text, "Aa0");
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
        assert.equal(answer(await solve({method: "greedy", maxTokens: 8})).text, "Aa0");
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

    it("at shutdown cancels the running job, then refuses new requests", async () => {
        const other = await Backend.start({cacheDir: join(folder, "cache")});
        try {
            const running = rejection(other.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once upon a time", model: STORIES, params: {method: "power", blockSize: 64, maxTokens: 512, mcmcSteps: 200}}));
            while (!other.statuses.some((s) => s.state === "running" && s.compute !== null)) await new Promise((r) => setTimeout(r, 5));
            await other.connection.sendRequest("shutdown");
            assert.equal((await running).code, ERROR_CODES.cancelled);
            const after = await rejection(other.connection.sendRequest(SOLVE_REQUEST, {prompt: "", model: pivotal}));
            assert.equal(after.code, ERROR_CODES.invalidRequest);
            assert.match(after.message, /shutting down/);
        } finally {
            await other.stop();
        }
    });

    it("rejects bad initialization options by name", async () => {
        for (const [options, message] of [[{queueLimit: 0}, /queueLimit must be an integer in 1\.\.1000, got 0/], [{cacheDir: 42}, /cacheDir must be a folder path, got 42/],
            [{gpu: "tpu"}, /gpu must be one of auto, cpu, cuda, vulkan, metal/], [{colour: "blue"}, /unknown initialization option "colour"/]] as const) {
            const error = await rejection(Backend.start(options as Record<string, unknown>));
            assert.match(error.message, message);
        }
    });

    it("a model that crashes llama.cpp takes down its engine process only: the backend answers and serves on", async () => {
        // Loading is a native call: a kill stands in for any native abort.
        const other = await Backend.start({cacheDir: join(folder, "cache")});
        try {
            const job = rejection(other.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once upon a time", model: STORIES, params: {method: "power", blockSize: 64, maxTokens: 512, mcmcSteps: 200}}));
            while (!other.statuses.some((s) => s.state === "running" && s.compute !== null)) await new Promise((r) => setTimeout(r, 5));
            const engines = await childPids(other.process.pid!);
            assert.equal(engines.length, 1, "one engine process");
            process.kill(engines[0]!, "SIGABRT");
            const error = await job;
            assert.equal(error.code, ERROR_CODES.modelUnavailable);
            assert.match(error.message, /the model process stopped \(SIGABRT\) while sampling/);
            const again = await other.connection.sendRequest(SOLVE_REQUEST, {prompt: "", model: pivotal, params: {method: "greedy", maxTokens: 8}}) as SolveResponse;
            assert.equal(answer(again).text, "Aa0", "a fresh engine serves the next job");
            assert.equal(other.process.exitCode, null);
        } finally {
            await other.stop();
        }
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
                const first = rejection(downloader.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, params: {maxTokens: 4}}, source.token));
                while (!downloader.statuses.some((s) => s.state === "downloading" && (s.progress ?? 0) > 0)) await new Promise((r) => setTimeout(r, 5));
                source.cancel();
                assert.equal((await first).code, ERROR_CODES.cancelled);

                server.slow = null;
                downloader.statuses.length = 0;
                const result = await downloader.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, params: {method: "greedy", maxTokens: 4}}) as SolveResponse;
                assert.ok(answer(result).tokenCount > 0);
                const progress = downloader.statuses.filter((s) => s.state === "downloading").map((s) => s.progress ?? 0);
                assert.ok(progress.length > 0 && progress.every((p, i) => i === 0 || p >= progress[i - 1]!), progress.join(","));
            } finally {
                await downloader.stop();
            }
            await server.stop();
            const offline = await Backend.start({cacheDir});
            try {
                const result = await offline.connection.sendRequest(SOLVE_REQUEST, {prompt: "Once", model: url, params: {method: "greedy", maxTokens: 4}}) as SolveResponse;
                assert.ok(answer(result).tokenCount > 0, "served from the cache with the server gone");
                assert.ok(!offline.statuses.some((s) => s.state === "downloading"), "no download the second time");
            } finally {
                await offline.stop();
            }
        });
    });
});
