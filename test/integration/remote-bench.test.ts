/**
 * `bench --only remote --server URL`: the same power run locally and on a llama-server holding
 * the benchmark's model. What the figures are is not tested (speed is the benchmark's to print);
 * that they are all there, and that a server holding another model is refused, is.
 */
import {strict as assert} from "node:assert";
import {mkdir} from "node:fs/promises";
import {writeShapeModel} from "../../src/testmodels/shapes.js";
import {PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {assertBadInput, buildCli, runCli} from "../support/cli.js";
import {type LlamaServerProcess, RemoteFixture} from "../support/llama-server.js";

interface RemoteBenchJson {
    remote: {
        server: {model: string; slots: number};
        local: {proposedTokens: number; overheadVsIdeal: number; tokensPerSecondInStep: number};
        remote: {proposedTokens: number; overheadVsIdeal: number; tokensPerSecondInStep: number; requests: number; logQErrorBound: number};
        httpOverheadMsPerToken: number;
        httpOverheadMsPerRequest: number;
    };
}

describe("bench --only remote", function () {
    this.timeout(300_000);
    const fixture = new RemoteFixture();
    let cacheDir: string;
    let server: LlamaServerProcess;

    before(async () => {
        await fixture.open();
        await buildCli();
        // The cache folder bench reads its model from, with the model already in it.
        cacheDir = fixture.file("cache");
        await mkdir(cacheDir);
        await writeShapeModel("smollm2-135m", fixture.file("cache/smollm2-135m-q8_0-seed1.gguf"), {seed: 1});
        server = await fixture.server({model: fixture.file("cache/smollm2-135m-q8_0-seed1.gguf"), slots: 4, contextSize: 1024});
    });
    after(() => fixture.close());

    it("--quick --json: the power run locally and on the server, each against its own decode rate, and the HTTP overhead", async () => {
        const result = await runCli(["bench", "--quick", "--json", "--threads", "1", "--only", "remote", "--server", server.url, "--cache-dir", cacheDir], {timeoutMs: 280_000});
        assert.equal(result.code, 0, result.stderr);
        const {remote} = JSON.parse(result.stdout) as RemoteBenchJson;
        const positive = (value: number, what: string) => assert.ok(Number.isFinite(value) && value > 0, `${what} = ${value}`);
        assert.deepEqual([remote.server.model, remote.server.slots], ["smollm2-135m-q8_0-seed1.gguf", 4]);
        for (const side of ["local", "remote"] as const) {
            positive(remote[side].proposedTokens, `${side} proposed tokens`);
            positive(remote[side].overheadVsIdeal, `${side} wall / ideal`);
            positive(remote[side].tokensPerSecondInStep, `${side} decode rate`);
        }
        positive(remote.remote.requests, "requests");
        positive(remote.remote.logQErrorBound, "log q bound (random weights are flat)");
        positive(remote.httpOverheadMsPerRequest, "HTTP overhead per request");
    });

    it("--only remote needs one --server", async () => {
        assertBadInput(await runCli(["bench", "--only", "remote"]), "--only remote needs --server URL: a llama-server holding the benchmark's model");
        assertBadInput(await runCli(["bench", "--server", server.url, "--server", "http://127.0.0.1:1"]), "bench takes one --server: it compares one server with the local engine");
    });

    it("refuses a server that holds another model, naming what to start", async () => {
        const other = await fixture.server({model: await fixture.markovModel("pivotal", PIVOTAL_CHAIN)});
        assertBadInput(await runCli(["bench", "--quick", "--only", "remote", "--server", other.url, "--cache-dir", cacheDir], {timeoutMs: 120_000}),
            `${other.url} holds pivotal.gguf, not the benchmark's model: start it with llama-server -m ${cacheDir}/smollm2-135m-q8_0-seed1.gguf -np 4`);
    });
});
