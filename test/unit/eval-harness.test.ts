/**
 * The evaluation harness against a scripted engine: the result lines, seeds derived per problem and
 * method, calls that batch problems, resuming a killed run to exactly the uninterrupted run's lines,
 * and refusing to resume with settings that would draw otherwise.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import type {Method, ResolvedPromptMode, SamplingParams} from "../../src/protocol/params.js";
import {resolveParams} from "../../src/protocol/params.js";
import type {SolveResult} from "../../src/protocol/results.js";
import {CancelledError, InvalidInputError} from "../../src/sampling/errors.js";
import {Random} from "../../src/sampling/random.js";
import type {SolveJob} from "../../src/llama/solve.js";
import type {EngineSolveOptions, EvalEngine, NamedPrompt} from "../../src/eval/engine.js";
import {openDataset} from "../../src/eval/dataset-source.js";
import {type EvalOptions, type EvalProgress, runEvaluation} from "../../src/eval/harness.js";
import {loadResults} from "../../src/eval/records.js";
import {unitSeed} from "../../src/eval/seeds.js";

/**
 * Answers "\boxed{k}" with k drawn from Random(seed, sample): a problem's samples depend on its
 * seed alone. smc adds two particles per run. `failAfter` calls, it throws as a killed run would stop.
 */
class ScriptedEngine implements EvalEngine {
    readonly model = "/models/scripted.gguf";
    readonly calls: {method: Method; prompts: string[]; mode: ResolvedPromptMode}[] = [];

    constructor(readonly hasChatTemplate = false, private readonly failAfter = Infinity) {}

    async checkPrompts(prompts: readonly NamedPrompt[]): Promise<void> {
        const long = prompts.find((p) => p.prompt.includes("TOO LONG"));
        if (long) throw new InvalidInputError(`problem ${long.id}: the prompt is too long`);
    }

    async solveEach(jobs: readonly SolveJob[], mode: ResolvedPromptMode, params: Omit<SamplingParams, "seed">, options: EngineSolveOptions = {}): Promise<SolveResult[]> {
        if (this.calls.length >= this.failAfter) throw new CancelledError();
        this.calls.push({method: params.method, prompts: jobs.map((job) => job.prompt), mode});
        options.onProgress?.({method: params.method, texts: [], proposedTokens: 0, fraction: 0.5});
        return jobs.map((job) => {
            const samples = Array.from({length: params.samples}, (_, i) => {
                const answer = new Random(job.seed, i).int(3);
                const text = `The answer is \\boxed{${answer}}.`;
                return {text, tokens: [], finishReason: "eos" as const, logProb: -answer, tokenCount: 5 + answer, finalAnswer: String(answer), changedOffsets: []};
            });
            const smc = params.method === "smc" ? samples.map((s) => ({
                particles: [{origin: 0, copies: 3, weight: 0.75, text: s.text, tokenCount: s.tokenCount, finishReason: "eos" as const, logProb: s.logProb, finalAnswer: s.finalAnswer,
                    answerWeight: s.finalAnswer === "2" ? 1 : 0.75},
                    {origin: 1, copies: 1, weight: 0.25, text: "\\boxed{2}", tokenCount: 3, finishReason: "eos" as const, logProb: -9, finalAnswer: "2",
                    answerWeight: s.finalAnswer === "2" ? 1 : 0.25}],
                drawn: 0, ess: [], logNormaliser: 0
            })) : undefined;
            return {
                method: params.method, params: {...params, seed: job.seed, mode}, samples, answerIndex: 0, groups: [], smc,
                stats: {proposedTokens: 10 * params.samples, mcmcSteps: 0, acceptedSteps: 0, acceptanceRate: null, resamplings: 0, wallMs: 1, loadMs: 0, queuedMs: 0, promptTokens: 3}
            };
        });
    }
}

const PROBLEMS = Array.from({length: 7}, (_, i) => ({id: `p${i}`, prompt: `Problem ${i}`, answer: String(i % 3)}));

describe("evaluation harness", () => {
    let folder: string;
    let datasetFile: string;
    beforeEach(async () => {
        folder = await mkdtemp(path.join(tmpdir(), "eval-harness-"));
        datasetFile = path.join(folder, "problems.jsonl");
        await writeFile(datasetFile, PROBLEMS.map((p) => JSON.stringify(p)).join("\n"));
    });
    afterEach(() => rm(folder, {recursive: true, force: true}));

    const options = async (overrides: Partial<EvalOptions> = {}): Promise<EvalOptions> => {
        const {method: _, seed: __, ...params} = resolveParams({samples: 3, particles: 2});
        return {dataset: await openDataset(datasetFile, folder), methods: ["standard", "power", "smc"], params, seed: 42, mode: "raw", parallel: 6,
            outDir: path.join(folder, "out"), ...overrides};
    };
    /** The result lines without their timing, in a canonical order. */
    const lines = async (outDir: string) => (await loadResults(path.join(outDir, "results.jsonl"), 3))
        .map(({wallMs: _, ...rest}) => JSON.stringify(rest)).sort();

    it("writes K lines per problem and method, drawn with seeds derived from the run's seed", async () => {
        const engine = new ScriptedEngine();
        const {summary, drawn, resumed} = await runEvaluation(engine, await options());
        assert.equal(drawn, 21);
        assert.equal(resumed, 0);
        const records = await loadResults(path.join(folder, "out", "results.jsonl"), 3);
        assert.equal(records.length, 7 * 3 * 3);
        for (const record of records) {
            assert.equal(record.seed, unitSeed(42, record.problem, record.method));
            const answer = String(new Random(record.seed, record.sample).int(3));
            assert.equal(record.answer, answer);
            assert.equal(record.correct, answer === PROBLEMS.find((p) => p.id === record.problem)!.answer);
            assert.equal(record.drawnTokens, 10, "the problem's drawn tokens shared by its samples");
        }
        const standard = records.filter((r) => r.method === "standard");
        assert.ok(Math.abs(summary.methods.standard!.accuracy - standard.filter((r) => r.correct).length / standard.length) < 1e-12);
        assert.equal(summary.methods.standard!.tokensPerProblem, 30);
        assert.deepEqual(summary.methods.power!.costVsStandard?.tokens, 1);
        assert.deepEqual(records.find((r) => r.method === "smc")!.particles!.map((p) => p.weight), [0.75, 0.25]);
        assert.ok(summary.methods.smc!.weightVoteAccuracy !== undefined);
        const written = JSON.parse(await readFile(path.join(folder, "out", "summary.json"), "utf8"));
        assert.deepEqual(written, JSON.parse(JSON.stringify(summary)));
        assert.match(await readFile(path.join(folder, "out", "report.html"), "utf8"), /<svg/);
    });

    it("fills calls up to --parallel sequences, methods in turn over chunks of problems", async () => {
        const engine = new ScriptedEngine();
        await runEvaluation(engine, await options());
        // 3 samples: 2 problems per call (6 sequences); smc's 2 particles: 1 problem per call.
        assert.deepEqual(engine.calls.slice(0, 4).map((call) => [call.method, call.prompts]), [
            ["standard", ["Problem 0", "Problem 1"]], ["power", ["Problem 0", "Problem 1"]], ["smc", ["Problem 0"]], ["smc", ["Problem 1"]]
        ]);
        assert.equal(engine.calls.filter((call) => call.method === "standard").length, 4);
    });

    it("a killed run resumes to exactly the uninterrupted run's lines, drawing only what was missing", async () => {
        await runEvaluation(new ScriptedEngine(), await options({outDir: path.join(folder, "whole")}));
        const killed = new ScriptedEngine(false, 5);
        await assert.rejects(runEvaluation(killed, await options()), CancelledError);
        const partial = await loadResults(path.join(folder, "out", "results.jsonl"), 3);
        assert.equal(new Set(partial.map((r) => `${r.problem} ${r.method}`)).size, 2 + 2 + 1 + 1 + 2, "five calls' problems");
        const resumed = new ScriptedEngine();
        const outcome = await runEvaluation(resumed, await options({seed: undefined}));
        assert.equal(outcome.resumed, 8);
        assert.equal(outcome.summary.seed, 42, "the seed comes from the folder's run");
        assert.equal(resumed.calls.reduce((sum, call) => sum + call.prompts.length, 0), 21 - 8);
        assert.deepEqual(await lines(path.join(folder, "out")), await lines(path.join(folder, "whole")));
    });

    it("drops a line cut by a kill and an unfinished problem, and draws them again", async () => {
        await runEvaluation(new ScriptedEngine(), await options({outDir: path.join(folder, "whole")}));
        const file = path.join(folder, "out", "results.jsonl");
        await runEvaluation(new ScriptedEngine(), await options());
        const text = await readFile(file, "utf8");
        const all = text.trimEnd().split("\n");
        // The last unit loses a line and the one before is cut in the middle.
        await writeFile(file, `${all.slice(0, -2).join("\n")}\n${all.at(-2)!.slice(0, 30)}`);
        const engine = new ScriptedEngine();
        const outcome = await runEvaluation(engine, await options());
        assert.equal(outcome.drawn, 1);
        assert.deepEqual(await lines(path.join(folder, "out")), await lines(path.join(folder, "whole")));
        assert.ok((await readFile(file, "utf8")).endsWith("\n"));
    });

    it("refuses to resume with settings that draw otherwise, and says which", async () => {
        await runEvaluation(new ScriptedEngine(), await options({limit: 2}));
        const {method: _, seed: __, ...other} = resolveParams({samples: 3, particles: 2, alpha: 2});
        await assert.rejects(runEvaluation(new ScriptedEngine(), await options({params: other})),
            (error: Error) => error instanceof InvalidInputError && /the sampling options alpha 4, not alpha 2/.test(error.message));
        await assert.rejects(runEvaluation(new ScriptedEngine(), await options({seed: 7})),
            (error: Error) => error instanceof InvalidInputError && /--seed 42, not 7/.test(error.message));
        await writeFile(datasetFile, PROBLEMS.slice(1).map((p) => JSON.stringify(p)).join("\n"));
        await assert.rejects(runEvaluation(new ScriptedEngine(), await options()), /the dataset file's content/);
    });

    it("more problems or methods on a finished run draw only what is new", async () => {
        await runEvaluation(new ScriptedEngine(), await options({limit: 2, methods: ["standard"]}));
        const engine = new ScriptedEngine();
        const outcome = await runEvaluation(engine, await options({limit: 3, methods: ["standard", "power"]}));
        assert.equal(outcome.resumed, 2);
        assert.deepEqual(engine.calls.map((call) => [call.method, call.prompts]),
            [["power", ["Problem 0", "Problem 1"]], ["standard", ["Problem 2"]], ["power", ["Problem 2"]]]);
        assert.deepEqual(Object.keys(outcome.summary.methods), ["standard", "power"]);
        assert.equal(outcome.summary.problems, 3);
    });

    it("checks every prompt before it writes anything", async () => {
        await writeFile(datasetFile, [...PROBLEMS, {id: "long", prompt: "TOO LONG", answer: "1"}].map((p) => JSON.stringify(p)).join("\n"));
        await assert.rejects(runEvaluation(new ScriptedEngine(), await options()), /problem long: the prompt is too long/);
        await assert.rejects(readFile(path.join(folder, "out", "run.json")), {code: "ENOENT"});
    });

    it("uses the chat template only when the model has one", async () => {
        await assert.rejects(runEvaluation(new ScriptedEngine(false), await options({mode: "chat"})), /no chat template/);
        const engine = new ScriptedEngine(true);
        await runEvaluation(engine, await options({mode: "chat", limit: 1}));
        assert.ok(engine.calls.every((call) => call.mode === "chat"));
    });

    it("reports progress that ends at 1, labelled with the method and problems", async () => {
        const reports: EvalProgress[] = [];
        await runEvaluation(new ScriptedEngine(), await options({onProgress: (progress) => reports.push(progress)}));
        assert.equal(reports[0]!.label, "standard · problem 1-2 of 7");
        assert.ok(reports.some((report) => report.call !== null && report.call.fraction === 0.5));
        assert.ok(reports.every((report) => report.fraction >= 0 && report.fraction <= 1));
        assert.ok(reports.at(-1)!.fraction > 0.85, `last report at ${reports.at(-1)!.fraction}`);
    });
});

