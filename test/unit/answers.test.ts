import {strict as assert} from "node:assert";
import {
    answerKey,
    chooseAnswer,
    extractFinalAnswer,
    groupAlternatives,
    normaliseAnswer,
    normaliseCode,
} from "../../src/answers/answers.js";
import type {PromptMode} from "../../src/protocol/params.js";

describe("extractFinalAnswer", () => {
    const cases: [string, string, PromptMode, string | null][] = [
        ["a simple box", "so \\boxed{42}.", "math", "42"],
        ["nested braces", "\\boxed{\\frac{1}{2}}", "math", "\\frac{1}{2}"],
        ["deeper nesting", "x = \\boxed{x^{2}+\\sqrt{3}} done", "math", "x^{2}+\\sqrt{3}"],
        ["three levels", "\\boxed{\\frac{a^{2}}{b_{1}}}", "math", "\\frac{a^{2}}{b_{1}}"],
        ["escaped braces are literal", "\\boxed{\\{1, 2\\}}", "math", "\\{1, 2\\}"],
        ["several boxes: the last", "\\boxed{1} then \\boxed{2}\nfinally \\boxed{3}", "math", "3"],
        ["a box inside a box is its content", "\\boxed{\\boxed{7}+1}", "math", "\\boxed{7}+1"],
        ["\\fbox", "\\fbox{5}", "math", "5"],
        ["space before the brace", "\\boxed {5}", "math", "5"],
        ["content trimmed", "\\boxed{  5 }", "math", "5"],
        ["unterminated box ignored for the earlier one", "\\boxed{1} and \\boxed{\\frac{2}{3}", "math", "1"],
        ["unterminated box before a closed one", "\\boxed{1 and \\boxed{2}", "math", "2"],
        ["unterminated box alone: last line", "we get\n\\boxed{\\frac{2}{3}", "math", "\\boxed{\\frac{2}{3}"],
        ["empty box ignored", "\\boxed{4} \\boxed{}", "math", "4"],
        ["no box: last non-empty line", "step one\n  x = 4  \n\n   \n", "math", "x = 4"],
        ["CRLF lines", "a\r\nb\r\n", "chat", "b"],
        ["raw: last line", "The answer is 12.\n", "raw", "The answer is 12."],
        ["a box wins in chat mode", "\\boxed{9}\nthat is all", "chat", "9"],
        ["empty text", "", "math", null],
        ["whitespace text", " \n\t\n", "code", null],
        ["code: fenced block with a language tag", "Here:\n```python\ndef f():\n    return 1\n```\nDone.", "code", "def f():\n    return 1"],
        ["code: the final block", "```js\na()\n```\ntext\n```ts\nb()\n```", "code", "b()"],
        ["code: unterminated final fence runs to the end", "```js\na()\n```\n```py\nx = 1\ny = 2\n", "code", "x = 1\ny = 2"],
        ["code: blank block skipped", "```\nkeep()\n```\n```\n\n```", "code", "keep()"],
        ["code: longer fence closes only with as many backticks", "````md\n```\ninner\n```\n````", "code", "```\ninner\n```"],
        ["code: indentation kept", "```\n\n    indented()\n  \n```", "code", "    indented()"],
        ["code: no fence means the whole text", "\n    return a + b\n\nprint(1)\n", "code", "    return a + b\n\nprint(1)"],
        ["code: a box still wins", "```\nx\n```\n\\boxed{3}", "code", "3"],
        ["fences do not matter outside code mode", "```\nx\n```", "chat", "```"],
    ];
    for (const [name, text, mode, expected] of cases) {
        it(name, () => assert.equal(extractFinalAnswer(text, mode), expected));
    }
});

describe("normaliseAnswer", () => {
    const cases: [string, string, string][] = [
        ["trims", "  42  ", "42"],
        ["drops whitespace", "x  +\t1", "x+1"],
        ["drops thin spaces", "a\\,b\\;c\\:d\\!e\\ f~g", "abcdefg"],
        ["drops quads", "x\\quad y\\qquad z", "xyz"],
        ["keeps a control word that starts with quad", "\\quadrant", "\\quadrant"],
        ["keeps \\\\ line breaks", "a\\\\,b", "a\\\\,b"],
        ["drops \\left and \\right", "\\left( x \\right]", "(x]"],
        ["drops invisible \\left. and \\right.", "\\left. x \\right|_0", "x|_0"],
        ["keeps \\leftarrow", "a \\leftarrow b", "a\\leftarrowb"],
        ["drops \\displaystyle", "\\displaystyle\\frac{1}{2}", "\\frac{1}{2}"],
        ["unwraps \\text", "5 \\text{ cm}", "5cm"],
        ["unwraps \\mathrm and \\textbf", "\\mathrm{kg} \\textbf{bold}", "kgbold"],
        ["unwraps nested braces in \\text", "\\text{a{b}c}", "a{b}c"],
        ["unwraps nested wrappers", "\\text{\\textbf{x}}", "x"],
        ["leaves an unbalanced \\text", "\\text{x", "\\text{x"],
        ["strips $...$", "$x+1$", "x+1"],
        ["strips $$...$$", "$$ 7 $$", "7"],
        ["keeps dollars that do not surround", "$1$ or $2$", "$1$or$2$"],
        ["\\dfrac to \\frac", "\\dfrac{1}{2}", "\\frac{1}{2}"],
        ["\\tfrac to \\frac", "\\tfrac12", "\\frac12"],
        ["drops a trailing period", "x = 5.", "x=5"],
        ["period outside dollars", "$5$.", "5"],
        ["thousands separators", "1,000,000", "1000000"],
        ["thousands in an expression", "x = 12,345", "x=12345"],
        ["not thousands: group of two", "1,00", "1,00"],
        ["not thousands: a tuple", "(1, 2, 3)", "(1,2,3)"],
        ["not thousands: ambiguous trailing group", "1,000,2", "1,000,2"],
        ["thousands with decimals", "1,234.50", "1234.5"],
        ["trailing decimal zeros", "2.50", "2.5"],
        ["integral decimal", "3.0", "3"],
        ["negative zero", "-0.0", "0"],
        ["negative zero in a tuple", "(-0.00, 1.10)", "(0,1.1)"],
        ["keeps a binary minus zero", "x-0", "x-0"],
        ["keeps a real negative", "-0.5", "-0.5"],
        ["keeps zeros inside", "10.05", "10.05"],
        ["leaves version-like numbers", "1.2.0", "1.2.0"],
        ["leading plus", "+5", "5"],
        ["x + 1 and x+1 coincide", "x + 1", "x+1"],
        ["not thousands: after a comma", "(2,1,000)", "(2,1,000)"],
        ["all together", " $\\displaystyle \\left( \\dfrac{1}{2} \\right) \\text{ and } 1,000.0$. ", "(\\frac{1}{2})and1000"],
    ];
    for (const [name, input, expected] of cases) {
        it(name, () => assert.equal(normaliseAnswer(input), expected));
    }

    it("is idempotent", () => {
        for (const [, input] of cases) {
            const once = normaliseAnswer(input);
            assert.equal(normaliseAnswer(once), once, input);
        }
    });
});

describe("normaliseCode", () => {
    const cases: [string, string, string][] = [
        ["line endings", "a\r\nb\rc", "a\nb\nc"],
        ["trailing whitespace per line", "a  \n  b\t\n", "a\n  b"],
        ["leading and trailing blank lines", "\n  \n  x()\n\n\n", "  x()"],
        ["inner blank lines and spacing kept", "a  =  1\n\n\tb", "a  =  1\n\n\tb"],
    ];
    for (const [name, input, expected] of cases) {
        it(name, () => assert.equal(normaliseCode(input), expected));
    }

    it("is idempotent", () => {
        for (const [, input] of cases) assert.equal(normaliseCode(normaliseCode(input)), normaliseCode(input));
    });
});

describe("answerKey", () => {
    it("normalises code as code and everything else as math", () => {
        assert.equal(answerKey("x  +  1 \n", "code"), "x  +  1");
        for (const mode of ["raw", "chat", "math"] as const) assert.equal(answerKey("x  +  1 \n", mode), "x+1");
    });
});

const sample = (finalAnswer: string | null, logProb: number) => ({finalAnswer, logProb});

describe("groupAlternatives", () => {
    it("counts, shares and orders groups", () => {
        const samples = [
            sample("\\frac{1}{2}", -5),
            sample("3", -1),
            sample("\\dfrac12", -6),
            sample(null, -0.5),
            sample("$\\frac{1}{2}$", -4),
            sample("3.0", -2),
            sample("7", -3),
        ];
        const groups = groupAlternatives(samples, "math");
        assert.deepEqual(groups.map((g) => [g.key, g.count, g.members]), [
            ["3", 2, [1, 5]],
            ["\\frac{1}{2}", 2, [4, 0]],
            ["7", 1, [6]],
            ["\\frac12", 1, [2]],
            ["", 1, [3]],
        ]);
        assert.deepEqual(groups.map((g) => g.share), [2 / 7, 2 / 7, 1 / 7, 1 / 7, 1 / 7]);
    });

    it("orders equal counts by the best member's logProb", () => {
        const groups = groupAlternatives([sample("a", -3), sample("b", -1), sample("a", -9), sample("b", -9)], "chat");
        assert.deepEqual(groups.map((g) => g.key), ["b", "a"]);
    });

    it("shows the likeliest member's answer", () => {
        const [group] = groupAlternatives([sample("x + 1", -3), sample("x+1", -1), sample(" x+ 1 ", -2)], "math");
        assert.equal(group?.answer, "x+1");
        assert.deepEqual(group?.members, [1, 2, 0]);
    });

    it("puts the no-answer group last even when it is the largest", () => {
        const groups = groupAlternatives([sample(null, -1), sample(null, -2), sample("5", -9), sample("$$", -3)], "math");
        assert.deepEqual(groups.map((g) => [g.key, g.answer, g.members]), [
            ["5", "5", [2]],
            ["", "(no answer)", [0, 1, 3]],
        ]);
    });

    it("keeps sample order among equally likely members, -Infinity included", () => {
        const [group] = groupAlternatives([sample("1", -Infinity), sample("1", -2), sample("1", -Infinity)], "raw");
        assert.deepEqual(group?.members, [1, 0, 2]);
    });

    it("groups code by normaliseCode", () => {
        const groups = groupAlternatives([sample("f()  \r\n", -1), sample("\nf()", -2), sample("f( )", -3)], "code");
        assert.deepEqual(groups.map((g) => g.members), [[0, 1], [2]]);
    });

    it("is empty without samples", () => assert.deepEqual(groupAlternatives([], "math"), []));
});

describe("chooseAnswer", () => {
    const choose = (samples: {finalAnswer: string | null; logProb: number}[]) => chooseAnswer(groupAlternatives(samples, "math"));

    it("prefers the majority over a likelier outlier", () => {
        assert.equal(choose([sample("1", -1), sample("2", -8), sample("2.0", -5), sample("2", -7)]), 2);
    });

    it("breaks a tie on count by the best logProb", () => {
        assert.equal(choose([sample("1", -4), sample("2", -3), sample("1", -5), sample("2", -6)]), 1);
    });

    it("prefers a real answer over more samples without one", () => {
        assert.equal(choose([sample(null, -1), sample(null, -2), sample("4", -9)]), 2);
    });

    it("falls back to the likeliest sample when none has an answer", () => {
        assert.equal(choose([sample(null, -3), sample(null, -1), sample(null, -2)]), 1);
    });

    it("rejects no groups", () => assert.throws(() => chooseAnswer([]), RangeError));
});
