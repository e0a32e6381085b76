/**
 * Faults on the way to a server, through the command line, the backend and the remote model: each
 * ends in one clear line naming the server and what to do, nothing hangs, and the backend keeps
 * serving. A server restarted mid-job (its caches gone) costs nothing but time.
 */
import {strict as assert} from "node:assert";
import http from "node:http";
import type {AddressInfo} from "node:net";
import {CancellationTokenSource} from "vscode-jsonrpc/node";
import {ERROR_CODES, LOAD_MODEL_REQUEST, SOLVE_REQUEST, STATUS, type BackendStatus, type LoadModelResult, type SolveResponse} from "../../src/protocol/backend.js";
import {resolveParams} from "../../src/protocol/params.js";
import {RemoteServerError} from "../../src/remote/http.js";
import {RemoteLanguageModel} from "../../src/remote/model.js";
import {sample} from "../../src/sampling/run.js";
import {PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {Backend, rejection} from "../support/backend.js";
import {assertBadInput, buildCli, runCli} from "../support/cli.js";
import {freePort, type LlamaServerProcess, RemoteFixture} from "../support/llama-server.js";

/** A local HTTP server answering every request with `handler`. */
async function fakeServer(handler: http.RequestListener): Promise<{url: string; close(): Promise<void>}> {
    const server = http.createServer(handler);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    return {
        url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
        close: async () => {
            server.closeAllConnections();
            await new Promise<void>((resolve) => server.close(() => resolve()));
        }
    };
}

/** What llama-server says about itself, with `props` changed; /completion does what `completion` does. */
function fakeLlamaServer(props: Record<string, unknown>, completion: http.RequestListener): http.RequestListener {
    return (request, response) => {
        const json = (body: unknown) => response.writeHead(200, {"content-type": "application/json"}).end(JSON.stringify(body));
        if (request.url === "/props") return json({default_generation_settings: {n_ctx: 64}, total_slots: 2, model_path: "/models/fake.gguf", build_info: "b0-fake", eos_token: "</s>", ...props});
        if (request.url === "/v1/models") return json({data: [{meta: {n_vocab: 8, n_params: 1, size: 1, n_embd: 1, n_ctx_train: 64}}]});
        if (request.url === "/tokenize") return json({tokens: [2]});
        if (request.url === "/completion") return completion(request, response);
        response.writeHead(404).end();
    };
}

/** Waits for `condition`, failing with `what` after `ms`: a test that waits never hangs. */
async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 60_000): Promise<void> {
    const deadline = performance.now() + ms;
    while (!await condition()) {
        if (performance.now() > deadline) assert.fail(`waited ${ms / 1000} s for ${what}`);
        await new Promise((resolve) => setTimeout(resolve, 5));
    }
}

describe("remote engines: faults", function () {
    this.timeout(300_000);
    const fixture = new RemoteFixture();
    let pivotal: string;
    let server: LlamaServerProcess;
    const fakes: {close(): Promise<void>}[] = [];

    before(async () => {
        await fixture.open();
        await buildCli();
        pivotal = await fixture.markovModel("pivotal", PIVOTAL_CHAIN);
        server = await fixture.server({model: pivotal});
    });
    after(async () => {
        await Promise.all(fakes.map((fake) => fake.close()));
        await fixture.close();
    });
    const fake = async (handler: http.RequestListener) => {
        const started = await fakeServer(handler);
        fakes.push(started);
        return started.url;
    };

    describe("on the command line", () => {
        it("a server that is not running: one line naming it, at once", async () => {
            const url = `http://127.0.0.1:${await freePort()}`;
            assertBadInput(await runCli(["solve", "--server", url, "2+2"]), `llama-server at ${url} refused the connection: start it, or check the server URL`);
        });

        it("a URL that is not a llama-server, or one with a path too many", async () => {
            const notLlama = await fake((_, response) => response.writeHead(404).end("not found"));
            assertBadInput(await runCli(["solve", "--server", notLlama, "2+2"]), `llama-server at ${notLlama} has no /props (HTTP 404): check that the URL is a llama-server`);
            assertBadInput(await runCli(["solve", "--server", `${server.url}/v1`, "2+2"]), "has no /props (HTTP 404)");
        });

        it("a server without what power sampling needs", async () => {
            const noSettings = await fake(fakeLlamaServer({default_generation_settings: undefined}, (_, response) => response.writeHead(500).end()));
            assertBadInput(await runCli(["solve", "--server", noSettings, "x"]), /answered without "default_generation_settings", which power sampling needs/);
            const noProbabilities = await fake(fakeLlamaServer({}, (_, response) => response.writeHead(200, {"content-type": "application/json"})
                .end(JSON.stringify({tokens: [2], stop_type: "eos"}))));
            assertBadInput(await runCli(["solve", "--server", noProbabilities, "x"]), /answered without "completion_probabilities", which power sampling needs/);
        });

        it("an API key: refused without it or with a wrong one (never shown), taken from the variable --api-key-env names", async () => {
            const keyed = await fixture.server({model: pivotal, apiKey: "sesame-3141"});
            const refused = /refused the API key \(HTTP 401\): give the key it was started with \(llama-server --api-key\)/;
            assertBadInput(await runCli(["solve", "--server", keyed.url, ""]), refused);
            const wrong = await runCli(["solve", "--server", keyed.url, "--api-key-env", "PS_TEST_KEY", ""], {env: {PS_TEST_KEY: "wrong-2718"}});
            assertBadInput(wrong, refused);
            assert.ok(!wrong.stderr.includes("wrong-2718"));
            const right = await runCli(["solve", "--server", keyed.url, "--api-key-env", "PS_TEST_KEY", "--json", "--samples", "2", "--max-tokens", "4", "--seed", "1", ""],
                {env: {PS_TEST_KEY: "sesame-3141"}});
            assert.equal(right.code, 0, right.stderr);
            assert.equal((JSON.parse(right.stdout) as SolveResponse).samples.length, 2);
            assertBadInput(await runCli(["solve", "--server", keyed.url, "--api-key-env", "PS_UNSET_KEY", ""]), "--api-key-env PS_UNSET_KEY: the environment variable PS_UNSET_KEY is not set or empty");
        });

        it("plain http to another machine only with --allow-plain-http; --server excludes --model and --threads", async () => {
            assertBadInput(await runCli(["solve", "--server", "http://192.0.2.7:8080", "x"]), "refusing to send prompts over plain http to 192.0.2.7:8080, another machine: use https, or allow plain http explicitly with --allow-plain-http");
            assertBadInput(await runCli(["solve", "--server", server.url, "--model", pivotal, "x"]), "--model and --server: give one");
            assertBadInput(await runCli(["solve", "--server", server.url, "--threads", "2", "x"]), "--threads and --server");
            assertBadInput(await runCli(["solve", "--api-key-env", "X", "x"]), "--api-key-env and --allow-plain-http go with --server URL");
        });

        it("solves on two servers, with the stats saying how exact log q is", async () => {
            const other = await fixture.server({model: pivotal, slots: 2});
            const result = await runCli(["solve", "--server", server.url, "--server", other.url, "--json", "--samples", "6", "--max-tokens", "4", "--mcmc-steps", "20",
                "--block-size", "4", "--seed", "3", ""]);
            assert.equal(result.code, 0, result.stderr);
            const parsed = JSON.parse(result.stdout) as SolveResponse;
            assert.equal(parsed.samples.length, 6);
            assert.ok(parsed.stats.logQErrorBound !== undefined && parsed.stats.logQErrorBound < 1e-9);
            assert.ok(parsed.samples.every((s) => ["Bb", ...Array.from({length: 10}, (_, i) => `Aa${i}`)].includes(s.text)), JSON.stringify(parsed.samples.map((s) => s.text)));
        });
    });

    describe("in the remote model", () => {
        it("a server that sends nothing for longer than the timeout", async () => {
            const silent = await fake(fakeLlamaServer({}, (request) => { request.resume(); }));
            // The capability check at connect is a completion too: it hangs as well.
            await assert.rejects(RemoteLanguageModel.connect([silent], {timeoutMs: 400}), /llama-server at .* sent nothing for 400 ms on \/completion: it is overloaded or stuck/);
        });

        it("a server stopped mid-job and not restarted: the job fails after the recovery time, naming it", async () => {
            const doomed = await fixture.server({model: pivotal});
            const model = await RemoteLanguageModel.connect([doomed.url], {recoveryMs: 1500});
            const job = sample(model, await model.tokenize(""), resolveParams({method: "power", alpha: 4, blockSize: 4, maxTokens: 4, mcmcSteps: 2000, samples: 4, seed: 2}));
            await new Promise((resolve) => setTimeout(resolve, 300));
            const stopped = performance.now();
            await doomed.stop();
            await assert.rejects(job, (error: Error) => error instanceof RemoteServerError
                && error.message.includes(`llama-server at ${doomed.url}`) && /\(waited 2 s for it to come back\)/.test(error.message));
            assert.ok(performance.now() - stopped < 10_000);
        });
    });

    describe("in the backend", () => {
        let backend: Backend;
        let restartable: LlamaServerProcess;
        before(async () => {
            restartable = await fixture.server({model: pivotal});
            backend = await Backend.start({server: restartable.url});
        });
        after(() => backend.stop());
        // A token argument that is undefined would be sent as a second parameter.
        const solve = (params: Record<string, unknown>, jobId?: string, source?: CancellationTokenSource) => (source
            ? backend.connection.sendRequest(SOLVE_REQUEST, {prompt: "", params, jobId}, source.token)
            : backend.connection.sendRequest(SOLVE_REQUEST, {prompt: "", params, jobId})) as Promise<SolveResponse>;
        const status = () => backend.connection.sendRequest(STATUS) as Promise<BackendStatus>;

        it("names the server and its model in the status from the start, and solves without a model", async () => {
            await until("the status to say the server is ready", async () => (await status()).server?.ready === true);
            const {server: remote, model, compute} = await status();
            assert.equal(remote!.model, "pivotal.gguf");
            assert.equal(model, "pivotal.gguf");
            assert.match(remote!.summary, new RegExp(`^llama-server 127\\.0\\.0\\.1:${restartable.port} · pivotal\\.gguf · 4 slots$`));
            assert.equal(compute!.summary, remote!.summary);
            const result = await solve({method: "power", maxTokens: 4, blockSize: 4, mcmcSteps: 10, samples: 4, seed: 1});
            assert.equal(result.samples.length, 4);
            const loaded = await backend.connection.sendRequest(LOAD_MODEL_REQUEST, {}) as LoadModelResult;
            assert.equal(loaded.model, "pivotal.gguf");
        });

        it("a server restarted mid-job: the job waits for it and draws what it would have drawn", async () => {
            const params = {method: "power", maxTokens: 4, blockSize: 4, mcmcSteps: 600, samples: 6, seed: 8};
            const job = solve(params, "restarted");
            await until("the job to progress", () => backend.progress.some((p) => p.jobId === "restarted" && p.proposedTokens > 200));
            await restartable.restart(500);
            const disturbed = await job;
            const undisturbed = await solve(params);
            assert.deepEqual(disturbed.samples.map((s) => s.tokens), undisturbed.samples.map((s) => s.tokens));
        });

        it("a cancel mid-job answers at once and stops the server's work; the next job runs", async () => {
            const source = new CancellationTokenSource();
            const job = solve({method: "power", maxTokens: 4, blockSize: 4, mcmcSteps: 5000, samples: 4, seed: 3}, "cancelled", source);
            await until("the job to progress", () => backend.progress.some((p) => p.jobId === "cancelled" && p.proposedTokens > 50));
            const cancelled = performance.now();
            source.cancel();
            assert.equal((await rejection(job)).code, ERROR_CODES.cancelled);
            assert.ok(performance.now() - cancelled < 1000);
            const slots = async () => ((await (await fetch(`${restartable.url}/slots`)).json()) as {is_processing: boolean}[]).some((slot) => slot.is_processing);
            while (await slots()) assert.ok(performance.now() - cancelled < 2000, "the server still works for the cancelled job");
            assert.equal((await solve({method: "standard", maxTokens: 4, samples: 2, seed: 1})).samples.length, 2);
        });

        it("a server that is down: the job fails naming it, the backend serves on and uses it once it is back", async () => {
            await restartable.stop();
            const error = await rejection(solve({method: "standard", maxTokens: 4, seed: 1}));
            assert.equal(error.code, ERROR_CODES.modelUnavailable);
            assert.match(error.message, new RegExp(`^llama-server at http://127\\.0\\.0\\.1:${restartable.port} refused the connection: start it, or check the server URL$`));
            const down = await status();
            assert.equal(down.server!.ready, false);
            assert.match(down.server!.error!, /refused the connection/);
            await restartable.restart();
            assert.equal((await solve({method: "standard", maxTokens: 4, samples: 2, seed: 1})).samples.length, 2);
            assert.equal((await status()).server!.ready, true);
        });

        it("between jobs, the status follows the server: down, then back with its model; an unchanged check says nothing", async () => {
            const watching = await Backend.start({server: restartable.url, serverCheckIntervalMs: 200});
            try {
                await until("the first check", () => watching.statuses.at(-1)?.model === "pivotal.gguf" && watching.statuses.at(-1)!.state === "idle");
                // Once the first check's job has wound down (no notification for 0.5 s), five more checks say nothing.
                let seen = -1;
                for (let quiet = 0; seen !== watching.statuses.length; quiet++) {
                    assert.ok(quiet < 20, "status notifications kept coming for 10 s with nothing changing");
                    seen = watching.statuses.length;
                    await new Promise((resolve) => setTimeout(resolve, 500));
                }
                await new Promise((resolve) => setTimeout(resolve, 1000));
                assert.equal(watching.statuses.length, seen, "checks that found nothing new sent notifications");
                await restartable.stop();
                await until("the status to say the server is down, without a job", () => watching.statuses.at(-1)!.server?.ready === false);
                assert.match(watching.statuses.at(-1)!.server!.error!, new RegExp(`127\\.0\\.0\\.1:${restartable.port} refused the connection`));
                await restartable.restart();
                await until("the status to say the server is back", () => watching.statuses.at(-1)!.server?.ready === true);
                const back = watching.statuses.at(-1)!;
                assert.equal(back.model, "pivotal.gguf");
                assert.equal(back.server!.model, "pivotal.gguf");
                assert.ok(back.contextSize !== null && back.contextSize > 0);
                assert.equal(back.error, null);
            } finally {
                await watching.stop();
            }
        });
    });

    describe("the backend's options", () => {
        it("refuse plain http to another machine without allowPlainHttp, an API key that is not one line and a check interval out of bounds, failing initialize", async () => {
            await assert.rejects(Backend.start({server: "http://192.0.2.7:8080"}), /refusing to send prompts over plain http to 192\.0\.2\.7:8080.*the allowPlainHttp option/);
            await assert.rejects(Backend.start({server: server.url, apiKey: "a\nb"}), /initialization option apiKey must be a string of one line/);
            await assert.rejects(Backend.start({server: server.url, serverCheckIntervalMs: 10}), /initialization option serverCheckIntervalMs must be an integer in 100\.\.3600000, got 10/);
        });

        it("take the API key from the client, and a list of servers; without the key, the job fails saying so", async () => {
            const keyed = await fixture.server({model: pivotal, apiKey: "k-1618"});
            const withKey = await Backend.start({server: [keyed.url, server.url], apiKey: "k-1618"});
            const withoutKey = await Backend.start({server: keyed.url});
            try {
                const params = {prompt: "", params: {method: "standard", maxTokens: 4, samples: 4, seed: 1}};
                assert.equal((await withKey.connection.sendRequest(SOLVE_REQUEST, params) as SolveResponse).samples.length, 4);
                const error = await rejection(withoutKey.connection.sendRequest(SOLVE_REQUEST, params));
                assert.equal(error.code, ERROR_CODES.modelUnavailable);
                assert.match(error.message, /refused the API key \(HTTP 401\)/);
                assert.ok(!withKey.stderr.includes("k-1618") && !withoutKey.stderr.includes("k-1618"));
            } finally {
                await withKey.stop();
                await withoutKey.stop();
            }
        });
    });
});
