/** summary.json's figures from result lines, checked against hand counts. */
import {strict as assert} from "node:assert";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import type {EvalProblem} from "../../src/eval/datasets.js";
import type {SampleRecord} from "../../src/eval/records.js";
import type {RunConfig} from "../../src/eval/run-config.js";
import {readSummary, summarise} from "../../src/eval/summary.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import type {Method} from "../../src/protocol/params.js";

const CONFIG: RunConfig = {
    dataset: "toy", datasetFile: "/data/toy.jsonl", datasetSha256: "0", format: "jsonl", model: "/m.gguf", mode: "raw", samples: 2, seed: 1,
    params: {alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 64, particles: 2, resampleInterval: 16, essThreshold: 0.5, alphaRampTokens: 0}
};
const PROBLEMS: EvalProblem[] = [
    {id: "a", prompt: "A?", grader: "math", reference: "1"},
    {id: "b", prompt: "B?", grader: "math", reference: "2"}
];

function record(problem: string, method: Method, sample: number, answer: string | null, correct: boolean, extra: Partial<SampleRecord> = {}): SampleRecord {
    return {problem, method, sample, seed: 0, text: `\\boxed{${answer}}`, answer, correct, tokens: 10, finishReason: "eos", logProb: -sample,
        drawnTokens: 10, wallMs: 100, ...extra};
}

describe("evaluation summary", () => {
    const records: SampleRecord[] = [
        // standard: a 1 of 2, b 0 of 2.
        record("a", "standard", 0, "1", true), record("a", "standard", 1, "3", false),
        record("b", "standard", 0, null, false, {finishReason: "length"}), record("b", "standard", 1, "5", false),
        // smc: a 2 of 2; b 1 of 2, the weights favour the right answer.
        ...[0, 1].map((sample) => record("a", "smc", sample, "1", true, {drawnTokens: 40, wallMs: 150, particles: [
            {answer: "1", correct: true, weight: 1, copies: 2, tokens: 5, logProb: -1}]})),
        record("b", "smc", 0, "7", false, {drawnTokens: 40, wallMs: 150, particles: [
            {answer: "7", correct: false, weight: 0.3, copies: 1, tokens: 5, logProb: -1}, {answer: "2", correct: true, weight: 0.7, copies: 1, tokens: 5, logProb: -2}]}),
        record("b", "smc", 1, "2", true, {drawnTokens: 40, wallMs: 150, particles: [
            {answer: "2", correct: true, weight: 0.6, copies: 1, tokens: 5, logProb: -2}, {answer: "7", correct: false, weight: 0.4, copies: 1, tokens: 5, logProb: -1}]})
    ];
    const summary = summarise(CONFIG, PROBLEMS, ["standard", "smc"], records);

    it("accuracy is the mean over problems and samples; pass@k by the unbiased estimator", () => {
        const standard = summary.methods.standard!;
        assert.equal(standard.accuracy, 0.25);
        assert.deepEqual(standard.passAtK, {1: 0.25, 2: 0.5});
        assert.ok(standard.accuracyInterval.low < 0.25 && standard.accuracyInterval.high > 0.25);
        assert.equal(summary.methods.smc!.accuracy, 0.75);
        assert.deepEqual(summary.methods.smc!.passAtK, {1: 0.75, 2: 1});
    });

    it("majority vote per problem; for smc also the weight vote over all runs' particles", () => {
        // standard a: "1" and "3" tie, the likelier (sample 0, log p 0) wins: right; b: "5" beats no answer: wrong.
        assert.equal(summary.methods.standard!.majorityAccuracy, 0.5);
        // smc a: right; b: "7" and "2" tie in count, "7" is likelier (log p 0 vs -1): wrong; by weight "2" has 1.3 of 2: right.
        assert.equal(summary.methods.smc!.majorityAccuracy, 0.5);
        assert.equal(summary.methods.smc!.weightVoteAccuracy, 1);
        assert.equal(summary.methods.standard!.weightVoteAccuracy, undefined);
    });

    it("cost per problem, and against standard decoding counted the same way", () => {
        assert.equal(summary.methods.standard!.tokensPerProblem, 20);
        assert.equal(summary.methods.standard!.wallMsPerProblem, 200);
        assert.deepEqual(summary.methods.smc!.costVsStandard, {tokens: 4, wallTime: 1.5});
        assert.deepEqual(summary.methods.standard!.costVsStandard, {tokens: 1, wallTime: 1});
        assert.equal(summary.methods.standard!.noAnswerRate, 0.25);
        assert.equal(summary.methods.standard!.cutRate, 0.25);
        assert.equal(summarise(CONFIG, PROBLEMS, ["smc"], records).methods.smc!.costVsStandard, undefined, "no standard run, no ratio");
    });

    it("names the run and keeps the methods in the order asked", () => {
        assert.deepEqual(Object.keys(summary.methods), ["standard", "smc"]);
        assert.equal(summary.problems, 2);
        assert.equal(summary.samples, 2);
        assert.equal(summary.dataset, "toy");
    });

    it("refuses a problem whose samples are not all there", () => {
        assert.throws(() => summarise(CONFIG, PROBLEMS, ["standard"], records.slice(1)), /1 of 2 samples of a/);
    });

    it("reads a folder's summary back for its report, and says what is wrong with a folder without one", async () => {
        const folder = await mkdtemp(path.join(tmpdir(), "eval-summary-"));
        try {
            await assert.rejects(readSummary(folder), (error: Error) => error instanceof InvalidInputError
                && error.message === `no evaluation in ${folder}: summary.json is written when power-sampling eval --out ${folder} completes`);
            await writeFile(path.join(folder, "summary.json"), JSON.stringify(summary));
            assert.deepEqual(await readSummary(folder), JSON.parse(JSON.stringify(summary)));
            await writeFile(path.join(folder, "summary.json"), JSON.stringify({methods: {power: {accuracy: "high"}}}));
            await assert.rejects(readSummary(folder), /summary\.json is not an evaluation summary/);
        } finally {
            await rm(folder, {recursive: true, force: true});
        }
    });
});
