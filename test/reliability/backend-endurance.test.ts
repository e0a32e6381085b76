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

/** The least-squares slope of y over x. */
function slope(x: number[], y: number[]): number {
    const mean = (v: number[]) => v.reduce((a, b) => a + b, 0) / v.length;
    const mx = mean(x);
    const my = mean(y);
    let covariance = 0;
    let variance = 0;
    for (let i = 0; i < x.length; i++) {
        covariance += (x[i]! - mx) * (y[i]! - my);
        variance += (x[i]! - mx) ** 2;
    }
    return covariance / variance;
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

    it("900 sequential jobs leave the backend's and the engine's memory level", async () => {
        let jobs = 0;
        const run = async (count: number) => {
            for (const end = jobs + count; jobs < end; jobs++) {
                const result = await solve(pivotal, {method: jobs % 3 === 0 ? "power" : jobs % 3 === 1 ? "smc" : "standard", maxTokens: 8, blockSize: 8,
                    mcmcSteps: 5, particles: 8, samples: 2, seed: jobs});
                assert.equal(result.samples.length, 2);
            }
        };
        await run(300); // warm-up: the allocators settle (llama.cpp's contexts are allocated and freed per job)
        const [engine] = await childPids(backend.process.pid!);
        const points: {jobs: number; backend: number; engine: number}[] = [];
        const measure = async () => points.push({jobs, backend: await rssMb(backend.process.pid!), engine: await rssMb(engine!)});
        await measure();
        for (let i = 0; i < 12; i++) {
            await run(50);
            await measure();
        }
        // RSS moves up and down by 10-20 MB between readings as the allocators reuse memory, so a
        // leak is told by the trend over many readings: the least-squares slope. One leaked
        // context of this model is about 1 MB and every job opens at least one, so a leak of a
        // job's contexts is ten times the engine's bound; settling alone measured under 40 KB a job.
        const kbPerJob = (of: "backend" | "engine") => slope(points.map((p) => p.jobs), points.map((p) => p[of])) * 1024;
        const first = points[0]!;
        const last = points[points.length - 1]!;
        console.log(`      RSS after ${first.jobs} / ${last.jobs} jobs: backend ${first.backend.toFixed(1)} / ${last.backend.toFixed(1)} MB, `
            + `engine ${first.engine.toFixed(1)} / ${last.engine.toFixed(1)} MB; trend ${kbPerJob("backend").toFixed(1)} / ${kbPerJob("engine").toFixed(1)} KB a job`);
        assert.ok(kbPerJob("backend") < 50, `the backend grows ${kbPerJob("backend").toFixed(1)} KB a job`);
        assert.ok(kbPerJob("engine") < 100, `the engine grows ${kbPerJob("engine").toFixed(1)} KB a job`);
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
