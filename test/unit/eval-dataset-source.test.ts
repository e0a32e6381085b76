/** --dataset: a name is a file in the cache's datasets folder (and says how to get it when missing); a path is read as is. */
import {strict as assert} from "node:assert";
import {mkdir, mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {createHash} from "node:crypto";
import {NAMED_DATASETS, openDataset, resolveDatasetFile} from "../../src/eval/dataset-source.js";
import {InvalidInputError} from "../../src/sampling/errors.js";

describe("evaluation dataset names", () => {
    let folder: string;
    before(async () => {
        folder = await mkdtemp(path.join(tmpdir(), "eval-datasets-"));
        await mkdir(path.join(folder, "datasets"));
        await writeFile(path.join(folder, "datasets", "MATH500.json"), "[]");
    });
    after(() => rm(folder, {recursive: true, force: true}));

    it("a name is its file in the datasets folder", async () => {
        assert.equal(await resolveDatasetFile("math500", path.join(folder, "datasets")), path.join(folder, "datasets", "MATH500.json"));
    });

    it("a missing named dataset says where it goes and the command that gets it", async () => {
        const target = path.join(folder, "datasets", "HumanEval.jsonl.gz");
        await assert.rejects(resolveDatasetFile("humaneval", path.join(folder, "datasets")), (error: Error) => error instanceof InvalidInputError
            && error.message.includes(`curl -L --create-dirs -o ${target} ${NAMED_DATASETS.humaneval.url}`) && error.message.includes("--dataset FILE"));
    });

    it("a path is read as is, even one that is not there (loading it says so)", async () => {
        assert.equal(await resolveDatasetFile("../shared/datasets/gsm8k-test.jsonl", folder), "../shared/datasets/gsm8k-test.jsonl");
        assert.equal(await resolveDatasetFile("/nowhere/x.jsonl", folder), "/nowhere/x.jsonl");
    });

    it("a word that is neither a name nor a file is refused with the names", async () => {
        await assert.rejects(resolveDatasetFile("math5000", folder), /unknown dataset "math5000": use math500, gsm8k, humaneval or a file's path/);
        await assert.rejects(resolveDatasetFile("", folder), /--dataset is empty/);
    });

    it("opens a dataset with its name as given, its file and the file's SHA-256", async () => {
        const text = `${JSON.stringify({id: "q", prompt: "What is 1 + 1?", answer: "2"})}\n`;
        await writeFile(path.join(folder, "datasets", "HumanEval.jsonl.gz"), text);
        const dataset = await openDataset("humaneval", path.join(folder, "datasets"));
        assert.equal(dataset.name, "humaneval");
        assert.equal(dataset.file, path.join(folder, "datasets", "HumanEval.jsonl.gz"));
        assert.equal(dataset.sha256, createHash("sha256").update(text).digest("hex"));
        assert.equal(dataset.format, "jsonl", "the format comes from the content");
        assert.equal(dataset.problems[0]!.id, "q");
        await rm(path.join(folder, "datasets", "HumanEval.jsonl.gz"));
    });
});
