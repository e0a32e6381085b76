/** results.jsonl: whole lines appended; on resume the complete (problem, method)s are kept and the rest dropped. */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {appendResults, loadResults, type SampleRecord} from "../../src/eval/records.js";
import {InvalidInputError} from "../../src/sampling/errors.js";

function record(problem: string, sample: number): SampleRecord {
    return {problem, method: "power", sample, seed: 1, text: "x", answer: null, correct: false, tokens: 1, finishReason: "eos", logProb: -1,
        drawnTokens: 2, wallMs: 3};
}

describe("evaluation result lines", () => {
    let folder: string;
    let file: string;
    beforeEach(async () => {
        folder = await mkdtemp(path.join(tmpdir(), "eval-records-"));
        file = path.join(folder, "results.jsonl");
    });
    afterEach(() => rm(folder, {recursive: true, force: true}));

    it("a missing file is a run with nothing done", async () => {
        assert.deepEqual(await loadResults(file, 2), []);
    });

    it("reads back what was appended, one line per sample", async () => {
        await appendResults(file, [record("a", 0), record("a", 1)]);
        await appendResults(file, [record("b", 0), record("b", 1)]);
        assert.deepEqual(await loadResults(file, 2), [record("a", 0), record("a", 1), record("b", 0), record("b", 1)]);
        assert.equal((await readFile(file, "utf8")).split("\n").length, 5);
    });

    it("drops a cut last line and unfinished problems, and rewrites the file so appends start on a fresh line", async () => {
        await appendResults(file, [record("a", 0), record("a", 1), record("b", 0)]);
        const whole = await readFile(file, "utf8");
        await writeFile(file, `${whole}${JSON.stringify(record("b", 1)).slice(0, 20)}`);
        assert.deepEqual(await loadResults(file, 2), [record("a", 0), record("a", 1)]);
        await appendResults(file, [record("b", 0), record("b", 1)]);
        assert.deepEqual(await loadResults(file, 2), [record("a", 0), record("a", 1), record("b", 0), record("b", 1)]);
    });

    it("refuses a damaged line before the last, naming it", async () => {
        await writeFile(file, `${JSON.stringify(record("a", 0))}\nnot json\n${JSON.stringify(record("a", 1))}\n`);
        await assert.rejects(loadResults(file, 2), (error: Error) => error instanceof InvalidInputError && error.message.startsWith(`${file}:2: not a result line`));
        await writeFile(file, `${JSON.stringify({problem: "a", method: "beam", sample: 0})}\n`);
        await assert.rejects(loadResults(file, 2), /:1: not a result line \(needs problem, method, sample/);
    });
});
