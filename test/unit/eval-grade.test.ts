import {strict as assert} from "node:assert";
import type {AnswerProblem, CodeProblem} from "../../src/eval/datasets.js";
import {gradeAnswer, gradeCompletion} from "../../src/eval/grade.js";
import {humanEvalProgram, truncateCompletion} from "../../src/eval/humaneval.js";

const math: AnswerProblem = {id: "m", prompt: "p", grader: "math", reference: "\\frac{14}{3}"};
const gsm8k: AnswerProblem = {id: "g", prompt: "p", grader: "gsm8k", reference: "1,080"};

describe("gradeAnswer", () => {
    it("grades MATH by the last box", () => {
        assert.deepEqual(gradeAnswer(math, "First \\boxed{3}, no: \\boxed{\\dfrac{14}{3}}."), {answer: "\\dfrac{14}{3}", correct: true});
        assert.deepEqual(gradeAnswer(math, "\\boxed{14/3} then \\boxed{3}"), {answer: "3", correct: false});
    });

    it("gives no MATH answer without a box, however right the text", () => {
        assert.deepEqual(gradeAnswer(math, "The answer is 14/3."), {answer: null, correct: false});
    });

    it("grades GSM8K by the last box, else the last number", () => {
        assert.deepEqual(gradeAnswer(gsm8k, "So \\boxed{\\$1,080} in all, from 3 shops."), {answer: "\\$1,080", correct: true});
        assert.deepEqual(gradeAnswer(gsm8k, "She pays 1080.00 dollars."), {answer: "1080.00", correct: true});
        assert.deepEqual(gradeAnswer(gsm8k, "She pays 1080 dollars for 3 items"), {answer: "3", correct: false});
        assert.deepEqual(gradeAnswer(gsm8k, "No idea."), {answer: null, correct: false});
    });
});

describe("gradeCompletion", () => {
    it("grades answer problems without a sandbox", async () => {
        assert.deepEqual(await gradeCompletion(math, "\\boxed{4\\frac{2}{3}}"), {answer: "4\\frac{2}{3}", correct: true});
    });

    it("needs a sandbox for HumanEval", async () => {
        const problem: CodeProblem = {id: "h", prompt: "def f():\n", grader: "humaneval", reference: "    return 1\n", test: "def check(c):\n    assert c() == 1\n", entryPoint: "f"};
        await assert.rejects(gradeCompletion(problem, "    return 1\n"), /grading HumanEval needs a PythonSandbox/);
    });
});

describe("truncateCompletion", () => {
    const cases: [string, string, string][] = [
        ["a body alone", "    return a + b\n", "    return a + b\n"],
        ["stops at a new top-level def", "    return helper(a)\n\ndef helper(x):\n    return x\n", "    return helper(a)\n"],
        ["stops at a class", "    return 1\nclass A:\n    pass\n", "    return 1"],
        ["stops at a top-level if", "    return 1\n\nif __name__ == \"__main__\":\n    main()\n", "    return 1\n"],
        ["stops at a print", "    return 1\nprint(f(2))\n", "    return 1"],
        ["stops at a top-level comment", "    return 1\n# Test\nassert f() == 1\n", "    return 1"],
        ["stops at the end of a code block", "    return 1\n```\n\nExplanation: ...", "    return 1"],
        ["an indented fence too", "    return 1\n    ```\n", "    return 1"],
        ["keeps nested defs, ifs and comments", "    def inner(x):\n        # twice\n        if x:\n            return 2 * x\n    return inner(a)\n", "    def inner(x):\n        # twice\n        if x:\n            return 2 * x\n    return inner(a)\n"],
        ["keeps other top-level code", "    return 1\nx = 2\n", "    return 1\nx = 2\n"],
        ["a word that only starts like a keyword", "    return 1\nifdef = 3\n", "    return 1\nifdef = 3\n"],
        ["a def on the first line is not cut", "def f():\n    return 1\n", "def f():\n    return 1\n"],
    ];
    for (const [name, completion, expected] of cases) it(name, () => assert.equal(truncateCompletion(completion), expected));
});

describe("humanEvalProgram", () => {
    it("is the stub, the completion, the tests and the call of check", () => {
        const problem: CodeProblem = {id: "h", prompt: "def f():\n", grader: "humaneval", reference: "", test: "def check(c):\n    assert c() == 1\n", entryPoint: "f"};
        assert.equal(humanEvalProgram(problem, "    return 1"), "def f():\n    return 1\ndef check(c):\n    assert c() == 1\n\ncheck(f)\n");
    });
});
