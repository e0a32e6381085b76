/** summary.json: the figures of an evaluation per method, from its result lines. */
import {readFile} from "node:fs/promises";
import path from "node:path";
import type {Method, PromptMode} from "../protocol/params.js";
import {InvalidInputError} from "../sampling/errors.js";
import type {DatasetFormat, EvalProblem} from "./datasets.js";
import {type SampleRecord, unitKey} from "./records.js";
import type {RunConfig, RunParams} from "./run-config.js";
import {accuracyInterval, majorityVoteAccuracy, passAtKCurve, weightVoteAccuracy} from "./stats.js";

export const SUMMARY_FILE = "summary.json";

export interface MethodSummary {
    /** pass@1: the mean over problems of each problem's share of correct samples. */
    readonly accuracy: number;
    /** 95 % interval of the accuracy (accuracyInterval: Wilson, counting problems as the unit that varies). */
    readonly accuracyInterval: {readonly low: number; readonly high: number};
    /** pass@k by the unbiased estimator, for k = 1..samples, keyed "1".."K". */
    readonly passAtK: Readonly<Record<string, number>>;
    /** Per problem the answer of the largest group of equal answers (as the extension shows it), graded; averaged. */
    readonly majorityAccuracy: number;
    /** smc: per problem the answer with the largest total particle weight over all runs, graded; averaged. */
    readonly weightVoteAccuracy?: number;
    /** Tokens drawn from the model per problem, all samples together (blocks, proposals, particles). */
    readonly tokensPerProblem: number;
    /** Sampling time per problem, all samples together (a call's time shared by its problems). */
    readonly wallMsPerProblem: number;
    /** Mean length of a completion, in tokens. */
    readonly tokensPerSample: number;
    /** Share of samples with no answer to grade (no \boxed{}, no number). */
    readonly noAnswerRate: number;
    /** Share of samples cut at max tokens. */
    readonly cutRate: number;
    /** This method's tokens and wall time per problem over standard decoding's in the same run; absent without standard. */
    readonly costVsStandard?: {readonly tokens: number; readonly wallTime: number};
}

export interface EvalSummary {
    /** The dataset as given: a name (math500, gsm8k, humaneval) or a file. */
    readonly dataset: string;
    readonly datasetFile: string;
    readonly format: DatasetFormat;
    /** Problems evaluated (the first --limit of the dataset). */
    readonly problems: number;
    /** Samples per problem and method (K). */
    readonly samples: number;
    readonly model: string;
    readonly mode: PromptMode;
    readonly seed: number;
    readonly params: RunParams;
    /** In the order the run was asked for. */
    readonly methods: Readonly<Partial<Record<Method, MethodSummary>>>;
}

/** The figures of `methods` over `problems`, each (problem, method) complete in `records`; pure. */
export function summarise(config: RunConfig, problems: readonly EvalProblem[], methods: readonly Method[], records: readonly SampleRecord[]): EvalSummary {
    const byUnit = new Map<string, SampleRecord[]>();
    for (const record of records) {
        const key = unitKey(record.problem, record.method);
        byUnit.set(key, [...byUnit.get(key) ?? [], record]);
    }
    const voteMode: PromptMode = config.format === "humaneval" ? "code" : "math";
    const summaries = new Map<Method, Omit<MethodSummary, "costVsStandard">>();
    for (const method of methods) {
        const perProblem = problems.map((problem) => {
            const samples = byUnit.get(unitKey(problem.id, method)) ?? [];
            if (samples.length !== config.samples) throw new Error(`${method} has ${samples.length} of ${config.samples} samples of ${problem.id}`);
            return samples.sort((a, b) => a.sample - b.sample);
        });
        summaries.set(method, methodSummary(method, perProblem, voteMode));
    }
    const standard = summaries.get("standard");
    const ratio = (value: number, base: number) => (base > 0 ? value / base : null);
    const withCost = methods.map((method): [Method, MethodSummary] => {
        const summary = summaries.get(method)!;
        const tokens = standard && ratio(summary.tokensPerProblem, standard.tokensPerProblem);
        const wallTime = standard && ratio(summary.wallMsPerProblem, standard.wallMsPerProblem);
        return [method, tokens != null && wallTime != null ? {...summary, costVsStandard: {tokens, wallTime}} : summary];
    });
    return {
        dataset: config.dataset, datasetFile: config.datasetFile, format: config.format, problems: problems.length, samples: config.samples,
        model: config.model, mode: config.mode, seed: config.seed, params: config.params, methods: Object.fromEntries(withCost)
    };
}

function methodSummary(method: Method, perProblem: readonly (readonly SampleRecord[])[], voteMode: PromptMode): Omit<MethodSummary, "costVsStandard"> {
    const all = perProblem.flat();
    const tallies = perProblem.map((samples) => ({samples: samples.length, correct: samples.filter((s) => s.correct).length}));
    const {accuracy, low, high} = accuracyInterval(tallies);
    const voting = perProblem.map((samples) => samples.map((s) => ({finalAnswer: s.answer, logProb: s.logProb, correct: s.correct})));
    const weighted = method === "smc"
        ? perProblem.map((samples) => samples.flatMap((s) => (s.particles ?? []).map((p) => ({finalAnswer: p.answer, weight: p.weight, correct: p.correct}))))
        : undefined;
    const problems = perProblem.length;
    return {
        accuracy,
        accuracyInterval: {low, high},
        passAtK: passAtKCurve(tallies),
        majorityAccuracy: majorityVoteAccuracy(voting, voteMode),
        ...(weighted ? {weightVoteAccuracy: weightVoteAccuracy(weighted, voteMode)} : {}),
        tokensPerProblem: sum(all.map((s) => s.drawnTokens)) / problems,
        wallMsPerProblem: sum(all.map((s) => s.wallMs)) / problems,
        tokensPerSample: sum(all.map((s) => s.tokens)) / all.length,
        noAnswerRate: all.filter((s) => s.answer === null).length / all.length,
        cutRate: all.filter((s) => s.finishReason === "length").length / all.length
    };
}

function sum(values: readonly number[]): number {
    return values.reduce((total, value) => total + value, 0);
}

/**
 * The summary of an output folder, for what shows its report again (renderReport), such as the
 * VS Code command that opens it.
 */
export async function readSummary(outDir: string): Promise<EvalSummary> {
    const file = path.join(outDir, SUMMARY_FILE);
    let text: string;
    try {
        text = await readFile(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT")
            throw new InvalidInputError(`no evaluation in ${outDir}: ${SUMMARY_FILE} is written when power-sampling eval --out ${outDir} completes`);
        throw new InvalidInputError(`cannot read ${file}: ${(error as Error).message}`);
    }
    let summary: EvalSummary;
    try {
        summary = JSON.parse(text) as EvalSummary;
    } catch (error) {
        throw new InvalidInputError(`${file} is not JSON (${(error as Error).message})`);
    }
    const valid = typeof summary === "object" && summary !== null && typeof summary.samples === "number" && typeof summary.methods === "object"
        && summary.methods !== null && Object.values(summary.methods).every((figures) => typeof figures?.accuracy === "number" && typeof figures.passAtK === "object");
    if (!valid) throw new InvalidInputError(`${file} is not an evaluation summary`);
    return summary;
}
