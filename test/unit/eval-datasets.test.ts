import {strict as assert} from "node:assert";
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {gzipSync} from "node:zlib";
import {mathPrompt} from "../../src/llama/prompts.js";
import {loadDataset, parseDataset, type CodeProblem} from "../../src/eval/datasets.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import {SHARED_DIR} from "../support/shared.js";

const dataset = (file: string) => path.join(SHARED_DIR, "datasets", file);

describe("loadDataset on the published files", () => {
    it("reads MATH500 with the paper's prompt", async () => {
        const {format, problems} = await loadDataset(dataset("MATH500.json"));
        assert.equal(format, "math500");
        assert.equal(problems.length, 500);
        const first = problems[0];
        assert.deepEqual({id: first.id, grader: first.grader, reference: first.reference},
            {id: "test/precalculus/807.json", grader: "math", reference: "\\left( 3, \\frac{\\pi}{2} \\right)"});
        assert.equal(first.prompt, mathPrompt("Convert the point $(0,3)$ in rectangular coordinates to polar coordinates.  Enter your answer in the form $(r,\\theta),$ where $r > 0$ and $0 \\le \\theta < 2 \\pi.$"));
        assert.ok(first.prompt.startsWith("Can you solve the following math problem? Convert"));
        assert.ok(first.prompt.endsWith(" Please reason step by step, and put your final answer within \\boxed{}."));
    });

    it("reads GSM8K's test split with the final answers after ####", async () => {
        const {format, problems} = await loadDataset(dataset("gsm8k-test.jsonl"));
        assert.equal(format, "gsm8k");
        assert.equal(problems.length, 1319);
        assert.deepEqual(problems.slice(0, 2).map((p) => [p.id, p.grader, p.reference]), [["gsm8k/0", "gsm8k", "18"], ["gsm8k/1", "gsm8k", "3"]]);
        assert.ok(problems[0].prompt.startsWith("Can you solve the following math problem? Janet"));
        for (const problem of problems) assert.match(problem.reference, /^-?\d{1,3}(?:,?\d{3})*$/, problem.id);
    });

    it("reads HumanEval, gzipped, with the raw stub as the prompt", async () => {
        const {format, problems} = await loadDataset(dataset("HumanEval.jsonl.gz"));
        assert.equal(format, "humaneval");
        assert.equal(problems.length, 164);
        const first = problems[0] as CodeProblem;
        assert.equal(first.grader, "humaneval");
        assert.equal(first.id, "HumanEval/0");
        assert.equal(first.entryPoint, "has_close_elements");
        assert.ok(first.prompt.startsWith("from typing import List\n\n\ndef has_close_elements("));
        assert.ok(first.reference.startsWith("    for idx, elem in enumerate(numbers):"));
        assert.match(first.test, /def check\(candidate\):/);
    });
});

describe("loadDataset on files of your own", () => {
    let dir: string;
    before(async () => {
        dir = await mkdtemp(path.join(tmpdir(), "eval-datasets-"));
    });
    after(() => rm(dir, {recursive: true, force: true}));

    it("reads {id, prompt, answer} lines, the prompt as is, numbers as written", async () => {
        const file = path.join(dir, "mine.jsonl");
        await writeFile(file, '{"id": "a", "prompt": "What is 1+1?", "answer": "2"}\n\n{"id": 7, "prompt": "Half of 1?", "answer": 0.5}\n');
        const {format, problems} = await loadDataset(file);
        assert.equal(format, "jsonl");
        assert.deepEqual(problems, [
            {id: "a", prompt: "What is 1+1?", grader: "math", reference: "2"},
            {id: "7", prompt: "Half of 1?", grader: "math", reference: "0.5"},
        ]);
    });

    it("reads an uncompressed HumanEval file and a gzipped one alike", async () => {
        const line = JSON.stringify({task_id: "T/0", prompt: "def f():\n", entry_point: "f", canonical_solution: "    return 1\n", test: "def check(c):\n    assert c() == 1\n"});
        await writeFile(path.join(dir, "he.jsonl"), line + "\n");
        await writeFile(path.join(dir, "he.jsonl.gz"), gzipSync(line + "\n"));
        const plain = await loadDataset(path.join(dir, "he.jsonl"));
        const zipped = await loadDataset(path.join(dir, "he.jsonl.gz"));
        assert.deepEqual(plain, zipped);
        assert.equal(plain.format, "humaneval");
    });

    it("takes the format it is given over the guess", async () => {
        const file = path.join(dir, "gsm.jsonl");
        await writeFile(file, '{"id": "q", "prompt": "p", "answer": "#### 5"}\n');
        await assert.rejects(loadDataset(file, "gsm8k"), /gsm\.jsonl:1: "question" must be a non-empty string, got nothing/);
    });

    it("names a missing file", async () => {
        await assert.rejects(loadDataset(path.join(dir, "nope.json")), (error: Error) =>
            error instanceof InvalidInputError && error.message === `dataset file not found: ${path.join(dir, "nope.json")}`);
    });

    it("refuses a broken gzip file", async () => {
        const file = path.join(dir, "broken.jsonl.gz");
        await writeFile(file, Buffer.from([0x1f, 0x8b, 1, 2, 3]));
        await assert.rejects(loadDataset(file), /broken\.jsonl\.gz: not a readable gzip file/);
    });

    it("refuses records it cannot place", async () => {
        const file = path.join(dir, "odd.jsonl");
        await writeFile(file, '{"text": "x"}\n');
        await assert.rejects(loadDataset(file), /odd\.jsonl:1: unknown dataset record with fields \["text"\]/);
        await writeFile(file, "just text\n");
        await assert.rejects(loadDataset(file), /odd\.jsonl: neither a JSON array nor JSON lines/);
    });
});

describe("parseDataset errors name the line", () => {
    const cases: [string, string, "math500" | "gsm8k" | "humaneval" | "jsonl", RegExp][] = [
        ["a line that is not JSON", '{"id": "a", "prompt": "p", "answer": "1"}\n{"id": "b", "prompt": \n', "jsonl", /^f:2: not valid JSON \(/],
        ["a missing answer", '{"id": "a", "prompt": "p", "answer": "1"}\n\n{"id": "b", "prompt": "p"}\n', "jsonl", /^f:3: "answer" must be a non-empty string, got nothing$/],
        ["an empty prompt", '{"id": "a", "prompt": "  ", "answer": "1"}\n', "jsonl", /^f:1: "prompt" must be a non-empty string, got "  "$/],
        ["a record that is not an object", '[1, 2]\n', "jsonl", /^f:1: expected a JSON object, got \[1,2\]$/],
        ["a duplicate id", '{"id": "a", "prompt": "p", "answer": "1"}\n{"id": "a", "prompt": "q", "answer": "2"}\n', "jsonl", /^f:2: id "a" already used on line 1$/],
        ["a GSM8K solution without ####", '{"question": "q", "answer": "#### 1"}\n{"question": "q", "answer": "it is 2"}\n', "gsm8k", /^f:2: "answer" has no final answer after "####"$/],
        ["a HumanEval entry point that is not an identifier", '{"task_id": "T", "prompt": "p", "entry_point": "f(); import os", "canonical_solution": "s", "test": "t"}\n', "humaneval",
            /^f:1: "entry_point" must be a Python identifier, got "f\(\); import os"$/],
        ["a MATH500 element without an answer", '[\n  {"id": "a", "prompt": "p", "answer": "1"},\n  {"id": "b",\n   "prompt": "p"}\n]', "math500", /^f:3: "answer" must be a non-empty string, got nothing$/],
        ["a MATH500 file that is not an array", '{"id": "a"}', "math500", /^f: expected a JSON array of problems, got \{"id":"a"\}$/],
        ["no problems", "\n\n", "jsonl", /^f: no problems in the file$/],
    ];
    for (const [name, text, format, message] of cases) {
        it(name, () => assert.throws(() => parseDataset(text, format, "f"), (error: Error) => error instanceof InvalidInputError && message.test(error.message)));
    }

    it("a MATH500 syntax error, at the line of the position the runtime reports", () => {
        assert.throws(() => parseDataset('[\n  {"id": "a",\n   "prompt": "p" "answer": "1"}\n]', "math500", "f"),
            (error: Error) => error instanceof InvalidInputError && /^f:3: not valid JSON \(.*position 33/.test(error.message));
    });

    it("finds element lines past strings with brackets, braces and escaped quotes", () => {
        const text = '[{"id": "a", "prompt": "[{\\"}", "answer": "1"},\n\n {"id": "b", "prompt": "p"}]';
        assert.throws(() => parseDataset(text, "math500", "f"), (error: Error) => error instanceof InvalidInputError && /^f:3: "answer"/.test(error.message));
    });
});
