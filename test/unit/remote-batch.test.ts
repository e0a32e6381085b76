/**
 * The remote engine against an in-memory server with an exact next-token distribution, which can
 * leave out probabilities (as llama-server does for a token inside a UTF-8 character), be flat,
 * fail, or restart.
 */
import {strict as assert} from "node:assert";
import {resolveParams} from "../../src/protocol/params.js";
import {HttpClient, RemoteServerError} from "../../src/remote/http.js";
import {RemoteLanguageModel} from "../../src/remote/model.js";
import {ServerPool} from "../../src/remote/pool.js";
import type {DrawOutcome, DrawParams, InferenceServer, ProbeParams, ProbeResult, ServerInfo} from "../../src/remote/server.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {type NextTokenDistribution, temper} from "../../src/sampling/exact.js";
import {Random} from "../../src/sampling/random.js";
import {sample} from "../../src/sampling/run.js";

const EOS = 0;

/** A server holding a model whose next-token distribution is `next` (after the prompt token). */
class FakeServer implements InferenceServer {
    readonly http = new HttpClient("http://127.0.0.1:1", {name: "fake server"});
    draws = 0;
    probes = 0;
    /** Tokens whose probabilities a draw leaves out. */
    silent = new Set<number>();
    /** Called before each draw: throw to fail it. */
    beforeDraw: (params: DrawParams) => Promise<void> | void = () => {};
    fingerprint = "model-a";

    constructor(private readonly next: NextTokenDistribution, readonly vocabularySize: number, readonly slots = 4) {}

    async describe(): Promise<ServerInfo> {
        return {url: this.http.url, engine: "fake", model: this.fingerprint, instruct: false, fingerprint: this.fingerprint, vocabularySize: this.vocabularySize,
            sizeBytes: 1024, slots: this.slots, contextSize: 64};
    }

    async tokenize(text: string): Promise<number[]> {
        return text === "" ? [1] : [...text].map((c) => c.charCodeAt(0) % this.vocabularySize);
    }

    async chatPrompt(text: string): Promise<string> {
        return text;
    }

    async draw(params: DrawParams): Promise<DrawOutcome> {
        this.draws++;
        await this.beforeDraw(params);
        const random = new Random(params.seed);
        const generated = params.context.slice(1);
        const tokens: DrawOutcome["tokens"] = [];
        while (tokens.length < params.maxTokens) {
            const p = Array.from(this.next(generated));
            const q = temper(p, params.temperature);
            let u = random.float();
            let token = q.findIndex((x) => (u -= x) < 0);
            if (token === -1) token = q.length - 1;
            const silent = this.silent.has(token);
            tokens.push({token, bytes: silent ? null : bytesOf(token), probabilities: silent ? null : {logP: Math.log(p[token]!), topLogP: topLogP(p, params.topK)}});
            generated.push(token);
            if (token === EOS) break;
        }
        return {tokens, ended: tokens.at(-1)!.token === EOS, serverMs: 0};
    }

    async probe(params: ProbeParams): Promise<ProbeResult> {
        this.probes++;
        const p = Array.from(this.next(params.context.slice(1)));
        const top = topLogP(p, params.topK);
        const inTop = Math.log(p[params.token]!) >= top.at(-1)!;
        return {topLogP: top, logP: inTop ? Math.log(p[params.token]!) : null, bytes: inTop ? bytesOf(params.token) : null};
    }
}

function topLogP(p: readonly number[], k: number): number[] {
    return p.map((x) => Math.log(x)).sort((a, b) => b - a).slice(0, k);
}

function bytesOf(token: number): number[] {
    return [...Buffer.from(token === EOS ? "" : `t${token} `)];
}

/** Peaked: EOS 0.2, then token 1 0.5, the rest sharing 0.3 with a long tail. */
function peaked(size: number): NextTokenDistribution {
    const weights = Array.from({length: size}, (_, token) => (token === 0 ? 0.2 : token === 1 ? 0.5 : 0.3 * 2 ** -token));
    const total = weights.reduce((a, b) => a + b, 0);
    const p = weights.map((w) => w / total);
    return () => p;
}

/** Nearly flat over `size` tokens, EOS among them. */
function flat(size: number): NextTokenDistribution {
    const random = new Random(4);
    const weights = Array.from({length: size}, () => 1 + 0.5 * random.float());
    const total = weights.reduce((a, b) => a + b, 0);
    const p = weights.map((w) => w / total);
    return () => p;
}

async function modelOn(servers: FakeServer[], settings: Parameters<typeof RemoteLanguageModel.on>[1] = {}, recoveryMs = 1000): Promise<RemoteLanguageModel> {
    return RemoteLanguageModel.on(await ServerPool.connect(servers, {recoveryMs}), settings);
}

describe("remote engines: the sequence batch", () => {
    it("draws with log p exact and log q exact within the bound it reports; reads text from the drawn tokens' bytes", async () => {
        const server = new FakeServer(peaked(40), 40);
        const model = await modelOn([server]);
        const run = model.forRun();
        const batch = await run.openBatch([1], 2, 8);
        const [a, b] = await batch.continue([0, 1].map((sequence) => ({sequence, prefix: [], maxTokens: 8, random: new Random(1, sequence)})), {temperature: 1 / 4});
        const p = Array.from(peaked(40)([]));
        const q = temper(p, 1 / 4);
        const {logQErrorBound} = run.exactness();
        for (const continuation of [a!, b!]) {
            continuation.tokens.forEach((token, i) => {
                assert.equal(continuation.logP[i], Math.log(p[token]!));
                assert.ok(Math.abs(continuation.logQ[i]! - Math.log(q[token]!)) <= logQErrorBound + 1e-12);
            });
            const ended = continuation.tokens.at(-1) === EOS;
            assert.equal(model.detokenize(continuation.tokens), continuation.tokens.slice(0, ended ? -1 : undefined).map((t) => `t${t} `).join(""));
        }
        assert.ok(logQErrorBound <= 1e-5, `bound ${logQErrorBound}`);
        assert.ok(model.isEnd(EOS) || ![...a!.tokens, ...b!.tokens].includes(EOS));
    });

    it("probes the tokens the server reported no probabilities for, and gets their log p and text", async () => {
        const server = new FakeServer(peaked(40), 40);
        server.silent.add(1);
        const model = await modelOn([server]);
        const batch = await model.openBatch([1], 1, 12);
        const [drawn] = await batch.continue([{sequence: 0, prefix: [], maxTokens: 12, random: new Random(2)}], {temperature: 1 / 4});
        const ones = drawn!.tokens.filter((token) => token === 1).length;
        assert.ok(ones > 0, "token 1 was drawn");
        assert.equal(server.probes, ones);
        const p = peaked(40)([]);
        drawn!.tokens.forEach((token, i) => assert.equal(drawn!.logP[i], Math.log(p[token]!)));
        assert.ok(model.detokenize(drawn!.tokens).includes("t1 "));
    });

    it("asks for more probabilities where the tail bound is above the tolerance (a flat distribution), until it is within", async () => {
        const server = new FakeServer(flat(3000), 3000);
        const model = await modelOn([server]);
        const run = model.forRun();
        const batch = await run.openBatch([1], 1, 3);
        const [drawn] = await batch.continue([{sequence: 0, prefix: [], maxTokens: 3, random: new Random(3)}], {temperature: 1 / 4});
        const q = temper(flat(3000)([]), 1 / 4);
        drawn!.tokens.forEach((token, i) => assert.ok(Math.abs(drawn!.logQ[i]! - Math.log(q[token]!)) <= 1e-5, `token ${i}`));
        assert.ok(run.accounting.probes >= drawn!.tokens.length, `probes ${run.accounting.probes}`);
        assert.ok(run.exactness().logQErrorBound <= 1e-5);
        assert.deepEqual(run.exactness().warnings, []);
    });

    it("says so in the run when the most it may ask for leaves the bound above the tolerance", async () => {
        const model = await modelOn([new FakeServer(flat(3000), 3000)], {maxTopK: 64});
        const run = model.forRun();
        const batch = await run.openBatch([1], 1, 3);
        await batch.continue([{sequence: 0, prefix: [], maxTokens: 3, random: new Random(3)}], {temperature: 1 / 4});
        const {logQErrorBound, warnings} = run.exactness();
        assert.ok(logQErrorBound > 1e-5);
        assert.equal(warnings.length, 1);
        assert.match(warnings[0]!, /log q of \d+ drawn tokens? may be off by up to .*more than the tolerance 1e-5.*at most 64 probabilities/);
    });

    it("draws a long continuation in requests of chunkTokens, each with its own seed: the same for a seed", async () => {
        const server = new FakeServer(() => [0.001, ...Array.from({length: 9}, () => 0.111)], 10);
        const model = await modelOn([server], {chunkTokens: 5});
        const draw = async () => {
            const batch = await model.openBatch([1], 1, 17);
            const steps: number[] = [];
            const [drawn] = await batch.continue([{sequence: 0, prefix: [], maxTokens: 17, random: new Random(9)}], {temperature: 1, onStep: (n) => steps.push(n)});
            return {drawn: drawn!, steps};
        };
        const first = await draw();
        assert.deepEqual(first.steps, [5, 5, 5, 2]);
        assert.equal(server.draws, 4);
        assert.deepEqual((await draw()).drawn.tokens, first.drawn.tokens);
    });

    it("a failed request fails the batch's other requests at once, and its later calls", async () => {
        const server = new FakeServer(peaked(40), 40);
        let hanging = 0;
        server.beforeDraw = (params) => {
            if (params.slot === 0) throw new RemoteServerError("fake server failed /completion (HTTP 500)");
            hanging++;
            return new Promise((_, reject) => params.signal.addEventListener("abort", () => reject(new CancelledError())));
        };
        const model = await modelOn([server]);
        const batch = await model.openBatch([1], 2, 4);
        const requests = [0, 1].map((sequence) => ({sequence, prefix: [], maxTokens: 4, random: new Random(1, sequence)}));
        await assert.rejects(Promise.all([batch.continue([requests[1]!], {temperature: 1}), batch.continue([requests[0]!], {temperature: 1})]), /HTTP 500/);
        assert.equal(hanging, 1);
        await assert.rejects(batch.continue([requests[1]!], {temperature: 1}), /HTTP 500/);
    });

    it("a cancelled run rejects with CancelledError", async () => {
        const server = new FakeServer(peaked(40), 40);
        server.beforeDraw = (params) => new Promise((_, reject) => params.signal.addEventListener("abort", () => reject(new CancelledError())));
        const model = await modelOn([server]);
        const cancel = new AbortController();
        const result = sample(model, [1], resolveParams({method: "standard", maxTokens: 4, samples: 2, seed: 1}), {signal: cancel.signal});
        setTimeout(() => cancel.abort(), 10);
        await assert.rejects(result, CancelledError);
    });

    it("waits for a server that stopped to come back, then draws what it would have drawn", async () => {
        const server = new FakeServer(peaked(40), 40);
        const model = await modelOn([server]);
        const params = resolveParams({method: "power", alpha: 4, blockSize: 4, maxTokens: 8, mcmcSteps: 3, samples: 3, seed: 5});
        const undisturbed = await sample(model, [1], params);
        let failures = 3;
        server.beforeDraw = () => {
            if (failures-- > 0) throw new RemoteServerError("fake server refused the connection", true);
        };
        const recovered = await sample(model, [1], params);
        assert.deepEqual(recovered.samples.map((s) => s.tokens), undisturbed.samples.map((s) => s.tokens));
    });

    it("fails after the recovery time, or at once when the server came back with another model", async () => {
        const server = new FakeServer(peaked(40), 40);
        const model = await modelOn([server], {}, 600);
        const params = resolveParams({method: "standard", maxTokens: 4, samples: 1, seed: 5});
        server.beforeDraw = () => { throw new RemoteServerError("fake server refused the connection", true); };
        await assert.rejects(sample(model, [1], params), /refused the connection \(waited 1 s for it to come back\)/);
        let failed = false;
        server.beforeDraw = () => {
            if (!failed) {
                failed = true;
                server.fingerprint = "model-b";
                throw new RemoteServerError("fake server closed the connection", true);
            }
        };
        await assert.rejects(sample(model, [1], params), /came back holding model-b instead of model-a/);
    });

    it("spreads sequences over every server's slots, and refuses servers with different models", async () => {
        const [a, b] = [new FakeServer(peaked(40), 40, 4), new FakeServer(peaked(40), 40, 2)];
        const model = await modelOn([a, b]);
        assert.deepEqual(model.pool.slots.slice(0, 5), [{server: 0, slot: 0}, {server: 1, slot: 0}, {server: 0, slot: 1}, {server: 1, slot: 1}, {server: 0, slot: 2}]);
        assert.equal(model.batchCapacity(4, 8, 1), 6);
        assert.equal(model.batchCapacity(4, 8, 4), 4);
        assert.equal(model.batchCapacity(4, 8, 16), 16);
        assert.throws(() => model.batchCapacity(60, 8, 1), /prompt \(60 tokens\) \+ max tokens \(8\) exceed the 64 tokens the servers' smallest slot holds/);
        b.fingerprint = "model-b";
        await assert.rejects(modelOn([a, b]), /holds model-a but fake server holds model-b: servers that share a run must hold the same model/);
    });
});
