import {strict as assert} from "node:assert";
import {answerKey, chooseAnswer, groupAlternatives, indicesByAnswer} from "../../src/answers/group.js";

describe("answerKey", () => {
    it("normalises code as code and everything else as math", () => {
        assert.equal(answerKey("x  +  1 \n", "code"), "x  +  1");
        for (const mode of ["raw", "chat", "math"] as const) assert.equal(answerKey("x  +  1 \n", mode), "x+1");
    });

    it("gives a constant one key however it is written", () => {
        const keys = ["\\frac{1}{2}", "0.5", "\\dfrac12", "1/2", "$\\tfrac{1}{2}$", "0.50", "\\frac{2}{4}"].map((answer) => answerKey(answer, "math"));
        assert.deepEqual(new Set(keys), new Set(["0.5"]));
        assert.equal(answerKey("2\\sqrt{2}", "math"), answerKey("\\sqrt{8}", "math"));
        assert.notEqual(answerKey("2\\sqrt{2}", "math"), answerKey("2.828", "math"));
    });

    it("keeps whole numbers as written and expressions with variables as normalised", () => {
        assert.equal(answerKey("12,345", "math"), "12345");
        assert.equal(answerKey("y = 2x + 3", "math"), "2x+3");
    });

    it("gives unordered answers one key in any order, ordered ones keep theirs", () => {
        assert.equal(answerKey("3, 5, 7", "math"), answerKey("\\{7,5,3\\}", "math"));
        assert.equal(answerKey("1 \\pm \\sqrt{19}", "math"), answerKey("1-\\sqrt{19}, 1+\\sqrt{19}", "math"));
        assert.notEqual(answerKey("(1,2)", "math"), answerKey("(2,1)", "math"));
        assert.equal(answerKey("\\left( 3, \\frac{\\pi}{2} \\right)", "math"), answerKey("(3,\\pi/2)", "math"));
    });

    it("drops units, degrees and dollars", () => {
        assert.equal(answerKey("30^\\circ", "math"), answerKey("30 degrees", "math"));
        assert.equal(answerKey("\\$18.90", "math"), answerKey("18.9", "math"));
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
            ["0.5", 3, [4, 0, 2]],
            ["3", 2, [1, 5]],
            ["7", 1, [6]],
            ["", 1, [3]],
        ]);
        assert.deepEqual(groups.map((g) => g.share), [3 / 7, 2 / 7, 1 / 7, 1 / 7]);
        assert.equal(groups[0].answer, "$\\frac{1}{2}$");
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

describe("indicesByAnswer", () => {
    it("lists sample indices per key in order of first appearance, no answer under \"\"", () => {
        const byKey = indicesByAnswer([{finalAnswer: "2"}, {finalAnswer: null}, {finalAnswer: "1"}, {finalAnswer: "2.0"}, {finalAnswer: " "}], "math");
        assert.deepEqual([...byKey], [["2", [0, 3]], ["", [1, 4]], ["1", [2]]]);
    });
});
