/**
 * A backend left running all day: hundreds of jobs, model switches and cancels, with its memory
 * (and its engine's) level, and a cancel that lands while a large batch is being allocated.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {CancellationTokenSource, ResponseError} from "vscode-jsonrpc/node";
import {ERROR_CODES, SOLVE_REQUEST, type SolveResponse} from "../../src/protocol/backend.js";
import {PIVOTAL_CHAIN, writeMarkovModel} from "../../src/testmodels/markov.js";
import {Backend} from "../support/backend.js";
import {buildCli} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

/** Resident memory of a process, from /proc (Linux). */
async function rssMb(pid: number): Promise<number> {
    const status = await readFile(`/proc/${pid}/status`, "utf8");
    return Number(/VmRSS:\s+(\d+) kB/.exec(status)![1]) / 1024;
}

async function childPids(pid: number): Promise<number[]> {
    const children = await readFile(`/proc/${pid}/task/${pid}/children`, "utf8");
    return children.trim().split(/\s+/).filter(Boolean).map(Number);
}

describe("backend endurance", function () {
    this.timeout(600_000);
    let folder: string;
    let pivotal: string;
    let backend: Backend;
    const solve = (model: string, params: Record<string, unknown>, token?: CancellationTokenSource) => {
        const request = {prompt: "", model, params};
        return (token ? backend.connection.sendRequest(SOLVE_REQUEST, request, token.token) : backend.connection.sendRequest(SOLVE_REQUEST, request)) as Promise<SolveResponse>;
    };

    before(async () => {
        await buildCli();
        folder = await mkdtemp(join(tmpdir(), "power-sampling-endurance-"));
        pivotal = join(folder, "pivotal.gguf");
        await writeMarkovModel(PIVOTAL_CHAIN, pivotal);
        backend = await Backend.start({cacheDir: join(folder, "cache")});
    });
    after(async () => {
        await backend?.stop();
        await rm(folder, {recursive: true, force: true});
    });

    it("300 sequential jobs leave the backend's and the engine's memory level", async () => {
        const run = async (jobs: number) => {
            for (let i = 0; i < jobs; i++) {
                const result = await solve(pivotal, {method: i % 3 === 0 ? "power" : i % 3 === 1 ? "smc" : "standard", maxTokens: 8, blockSize: 8, mcmcSteps: 5,
                    particles: 8, samples: 2, seed: i});
                assert.equal(result.samples.length, 2);
            }
        };
        await run(30); // warm-up: the allocators settle (llama.cpp's contexts are allocated and freed per job)
        const [engine] = await childPids(backend.process.pid!);
        const measure = async () => ({backend: await rssMb(backend.process.pid!), engine: await rssMb(engine!)});
        const start = await measure();
        await run(150);
        const middle = await measure();
        await run(150);
        const end = await measure();
        console.log(`      RSS after 30 / 180 / 330 jobs: backend ${start.backend.toFixed(1)} / ${middle.backend.toFixed(1)} / ${end.backend.toFixed(1)} MB, `
            + `engine ${start.engine.toFixed(1)} / ${middle.engine.toFixed(1)} / ${end.engine.toFixed(1)} MB`);
        assert.ok(end.backend - start.backend < 15, `backend grew ${(end.backend - start.backend).toFixed(1)} MB`);
        // A leak grows alike in both halves; the allocator's settling does not.
        assert.ok(end.engine - middle.engine < 10, `engine grew ${(end.engine - middle.engine).toFixed(1)} MB in the last 150 jobs`);
    });

    it("switching models back and forth does not grow the backend; the engine is replaced now and then", async () => {
        const stories = sharedModel("stories260K.gguf");
        const switchOnce = async (i: number) => {
            await solve(i % 2 === 0 ? stories : pivotal, {method: "greedy", maxTokens: 4});
        };
        for (let i = 0; i < 4; i++) await switchOnce(i);
        const before = await rssMb(backend.process.pid!);
        const engines = new Set<number>();
        for (let i = 0; i < 40; i++) {
            await switchOnce(i);
            for (const pid of await childPids(backend.process.pid!)) engines.add(pid);
        }
        const after = await rssMb(backend.process.pid!);
        console.log(`      backend RSS before / after 40 model switches: ${before.toFixed(1)} / ${after.toFixed(1)} MB; ${engines.size} engine processes served them`);
        assert.ok(after - before < 15, `backend grew ${(after - before).toFixed(1)} MB`);
        assert.ok(engines.size >= 2, "a fresh engine took over after its share of models");
    });

    it("a cancel during a large batch's allocation is answered, and the allocation stops", async () => {
        const source = new CancellationTokenSource();
        // 4,096 runs of 256 particles: far more contexts than one wave's memory; the first wave alone takes seconds to open.
        const job = solve(sharedModel("stories260K.gguf"), {method: "smc", samples: 4096, particles: 256, maxTokens: 64}, source);
        while (!backend.statuses.some((s) => s.state === "running" && s.compute !== null)) await new Promise((r) => setTimeout(r, 5));
        await new Promise((r) => setTimeout(r, 300));
        const [engine] = await childPids(backend.process.pid!);
        const cancelledAt = performance.now();
        source.cancel();
        const error = await job.then(() => assert.fail("the job was not cancelled"), (e: unknown) => e as ResponseError<unknown>);
        assert.equal(error.code, ERROR_CODES.cancelled);
        // The engine winds the job down before the next starts: it must not go on allocating.
        const next = await solve(pivotal, {method: "greedy", maxTokens: 8});
        const settledMs = performance.now() - cancelledAt;
        console.log(`      the next job finished ${settledMs.toFixed(0)} ms after the cancel; engine RSS then ${(await rssMb(engine!)).toFixed(0)} MB`);
        assert.equal(next.samples[next.answerIndex]!.text, "Aa0");
        assert.ok(settledMs < 10_000, `the cancelled job held the engine for ${settledMs.toFixed(0)} ms`);
    });
});
