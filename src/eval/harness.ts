/**
 * An evaluation: every method's samples of every problem, graded, written to results.jsonl as each
 * engine call ends, then summary.json and report.html. A run in a folder that holds an earlier run
 * of the same settings resumes it: what is done is kept, the rest is drawn with the seeds the
 * uninterrupted run would have used.
 */
import {mkdir} from "node:fs/promises";
import path from "node:path";
import {type Method, type ResolvedPromptMode, randomSeed, type SamplingParams} from "../protocol/params.js";
import type {SolveProgress, SolveResult} from "../protocol/results.js";
import {InvalidInputError} from "../sampling/errors.js";
import type {EvalDataset} from "./dataset-source.js";
import type {EvalProblem} from "./datasets.js";
import type {EvalEngine} from "./engine.js";
import {writeAtomically} from "../fs/files.js";
import {type Grade, gradeCompletion} from "./grade.js";
import {type EvalCall, planCalls} from "./plan.js";
import {appendResults, loadResults, RESULTS_FILE, type SampleRecord, unitKey} from "./records.js";
import {renderReport, REPORT_FILE} from "./report.js";
import {checkResumable, readRunConfig, type RunConfig, runParams, writeRunConfig} from "./run-config.js";
import type {PythonSandbox} from "./sandbox.js";
import {unitSeed} from "./seeds.js";
import {type EvalSummary, summarise, SUMMARY_FILE} from "./summary.js";

export interface EvalOptions {
    readonly dataset: EvalDataset;
    readonly methods: readonly Method[];
    /** Shared by every method (method and seed are not read); samples is K, samples per problem and method. */
    readonly params: Omit<SamplingParams, "method" | "seed">;
    /** The run's seed; default the resumed run's, or a fresh one. */
    readonly seed?: number;
    readonly mode: ResolvedPromptMode;
    /** The first `limit` problems; default all. */
    readonly limit?: number;
    /** Most sequences one engine call decodes in step, over several problems. */
    readonly parallel: number;
    readonly outDir: string;
    /** Opens the sandbox that runs HumanEval's tests; called once, for a HumanEval dataset only. */
    readonly openSandbox?: () => Promise<PythonSandbox>;
    readonly signal?: AbortSignal;
    readonly onProgress?: (progress: EvalProgress) => void;
    /** Least time between the engine's progress reports. */
    readonly progressIntervalMs?: number;
}

export interface EvalProgress {
    /** Share of this run's work done, 0..1, each call weighted by what its method has cost so far. */
    readonly fraction: number;
    /** What runs now: a method and its problems. */
    readonly label: string;
    /** The running call's own progress; null between calls. */
    readonly call: SolveProgress | null;
}

export interface EvalOutcome {
    readonly summary: EvalSummary;
    /** (problem, method)s that an earlier run had finished. */
    readonly resumed: number;
    /** (problem, method)s drawn by this run. */
    readonly drawn: number;
    readonly files: {readonly results: string; readonly summary: string; readonly report: string};
}

export async function runEvaluation(engine: EvalEngine, options: EvalOptions): Promise<EvalOutcome> {
    const {dataset} = options;
    const problems = dataset.problems.slice(0, options.limit);
    if (options.mode === "chat" && !engine.hasChatTemplate) throw new InvalidInputError("the model has no chat template: use --mode raw");
    const methodParams = (method: Method) => ({...options.params, method});
    for (const method of options.methods) await engine.checkPrompts(problems, options.mode, methodParams(method));

    await makeOutDir(options.outDir);
    const stored = await readRunConfig(options.outDir);
    const {samples} = options.params;
    const config: RunConfig = {
        dataset: dataset.name, datasetFile: dataset.file, datasetSha256: dataset.sha256, format: dataset.format,
        model: engine.model, mode: options.mode, samples, seed: options.seed ?? stored?.seed ?? randomSeed(), params: runParams(options.params)
    };
    if (stored) checkResumable(stored, config, options.outDir);
    else await writeRunConfig(options.outDir, config);
    const sandbox = dataset.format === "humaneval" ? await openSandbox(options) : undefined;

    const resultsFile = path.join(options.outDir, RESULTS_FILE);
    const records = await loadResults(resultsFile, samples);
    const done = new Set(records.map((record) => unitKey(record.problem, record.method)));
    const calls = planCalls(problems, {
        methods: options.methods, samples, particles: options.params.particles, parallel: options.parallel,
        done: (problem, method) => done.has(unitKey(problem.id, method))
    });
    const progress = new CallProgress(calls, samples);
    const position = new Map(problems.map((problem, index) => [problem.id, index + 1]));
    for (const call of calls) {
        const label = `${call.method} · problem ${problemRange(call, position)} of ${problems.length}`;
        const report = (callProgress: SolveProgress | null) => options.onProgress?.({fraction: progress.fraction(callProgress?.fraction ?? 0), label, call: callProgress});
        report(null);
        const start = performance.now();
        const seeds = call.problems.map((problem) => unitSeed(config.seed, problem.id, call.method));
        const results = await engine.solveEach(
            call.problems.map((problem, i) => ({prompt: problem.prompt, seed: seeds[i]!})),
            options.mode, methodParams(call.method),
            {signal: options.signal, progressIntervalMs: options.progressIntervalMs, onProgress: (callProgress) => report(callProgress)}
        );
        const wallMs = performance.now() - start;
        const lines: SampleRecord[] = [];
        for (const [i, problem] of call.problems.entries()) {
            lines.push(...await gradeResult(problem, call.method, seeds[i]!, results[i]!, wallMs / call.problems.length, sandbox, options.signal));
        }
        await appendResults(resultsFile, lines);
        records.push(...lines);
        progress.callDone(wallMs);
    }

    const summary = summarise(config, problems, options.methods, records);
    const files = {results: resultsFile, summary: path.join(options.outDir, SUMMARY_FILE), report: path.join(options.outDir, REPORT_FILE)};
    await writeAtomically(files.summary, `${JSON.stringify(summary, null, 2)}\n`);
    await writeAtomically(files.report, renderReport(summary));
    const drawn = calls.reduce((sum, call) => sum + call.problems.length, 0);
    return {summary, resumed: problems.length * options.methods.length - drawn, drawn, files};
}

/** The result lines of one problem's solve: each sample graded, its share of the cost, and for smc its particles graded. */
async function gradeResult(problem: EvalProblem, method: Method, seed: number, result: SolveResult, wallMs: number,
    sandbox: PythonSandbox | undefined, signal: AbortSignal | undefined): Promise<SampleRecord[]> {
    // Equal texts grade alike: an SMC run's drawn sample is one of its particles, and HumanEval's tests take a while.
    const grades = new Map<string, Grade>();
    const grade = async (text: string) => {
        let found = grades.get(text);
        if (found === undefined) grades.set(text, found = await gradeCompletion(problem, text, {sandbox, signal}));
        return found;
    };
    const count = result.samples.length;
    const lines: SampleRecord[] = [];
    for (const [i, sample] of result.samples.entries()) {
        const graded = await grade(sample.text);
        const run = result.smc?.[i];
        lines.push({
            problem: problem.id, method, sample: i, seed, text: sample.text, answer: graded.answer, correct: graded.correct,
            ...(graded.execution ? {outcome: graded.execution.outcome, detail: graded.execution.detail} : {}),
            tokens: sample.tokenCount, finishReason: sample.finishReason, logProb: sample.logProb,
            drawnTokens: result.stats.proposedTokens / count, wallMs: wallMs / count,
            ...(run ? {particles: await Promise.all(run.particles.map(async (particle) => {
                const {answer, correct} = await grade(particle.text);
                return {answer, correct, weight: particle.weight, copies: particle.copies, tokens: particle.tokenCount, logProb: particle.logProb};
            }))} : {})
        });
    }
    return lines;
}

/** "3" or "9-16": the call's problems by their place in the dataset. */
function problemRange(call: EvalCall, position: ReadonlyMap<string, number>): string {
    const first = position.get(call.problems[0]!.id)!;
    const last = position.get(call.problems.at(-1)!.id)!;
    return first === last ? `${first}` : `${first}-${last}`;
}

/**
 * The share of the work done: calls weighted by their samples times their method's measured time
 * per sample (a method not measured yet counts as the mean of those that are), so that the
 * estimate does not jump when a slow method's turn comes.
 */
export class CallProgress {
    private done = 0;
    private readonly spent = new Map<Method, {ms: number; samples: number}>();

    constructor(private readonly calls: readonly EvalCall[], private readonly samples: number) {}

    /** Calls done plus `current` of the next one, over all calls. */
    fraction(current: number): number {
        const weights = this.calls.map((call) => call.problems.length * this.samples * this.msPerSample(call.method));
        const total = weights.reduce((sum, weight) => sum + weight, 0);
        if (total === 0) return 1;
        const finished = weights.slice(0, this.done).reduce((sum, weight) => sum + weight, 0);
        return Math.min(1, (finished + current * (weights[this.done] ?? 0)) / total);
    }

    callDone(wallMs: number): void {
        const call = this.calls[this.done++]!;
        const spent = this.spent.get(call.method) ?? {ms: 0, samples: 0};
        this.spent.set(call.method, {ms: spent.ms + wallMs, samples: spent.samples + call.problems.length * this.samples});
    }

    private msPerSample(method: Method): number {
        const own = this.spent.get(method);
        if (own && own.samples > 0 && own.ms > 0) return own.ms / own.samples;
        const known = [...this.spent.values()].filter((spent) => spent.samples > 0 && spent.ms > 0);
        return known.length > 0 ? known.reduce((sum, spent) => sum + spent.ms / spent.samples, 0) / known.length : 1;
    }
}

function openSandbox(options: EvalOptions): Promise<PythonSandbox> {
    if (options.openSandbox === undefined) throw new Error("a HumanEval dataset needs EvalOptions.openSandbox");
    return options.openSandbox();
}

async function makeOutDir(outDir: string): Promise<void> {
    try {
        await mkdir(outDir, {recursive: true});
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new InvalidInputError(`cannot use --out ${outDir}: ${code === "EEXIST" || code === "ENOTDIR" ? "it, or a folder on its path, is a file" : (error as Error).message}`);
    }
}
