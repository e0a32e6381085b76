import {strict as assert} from "node:assert";
import {extractGsm8kAnswer, gsm8kAnswersEqual, gsm8kReference} from "../../src/answers/gsm8k.js";

describe("gsm8kReference", () => {
    it("is the text after ####", () => assert.equal(gsm8kReference("She makes 9 * 2 = $<<9*2=18>>18.\n#### 18"), "18"));
    it("keeps commas and signs as written", () => {
        assert.equal(gsm8kReference("...\n#### 1,080"), "1,080");
        assert.equal(gsm8kReference("...\n#### -3"), "-3");
    });
    it("takes the last marker", () => assert.equal(gsm8kReference("#### 1\n#### 2"), "2"));
    it("is null without a marker or after an empty one", () => {
        assert.equal(gsm8kReference("the answer is 18"), null);
        assert.equal(gsm8kReference("#### "), null);
    });
});

describe("extractGsm8kAnswer", () => {
    const cases: [string, string, string | null][] = [
        ["the last box", "so 3 + 4 = 7 and \\boxed{18} after 20 tries", "18"],
        ["a box over a later number", "\\boxed{18}\nChecking: 18 - 3 = 15", "18"],
        ["else the last number", "She makes 9 * 2 = $18 every day.", "18"],
        ["with thousands commas", "In total $1,080.", "1,080"],
        ["a negative answer", "The change is -3.", "-3"],
        ["the model's own marker", "9 * 2 = 18\n#### 18", "18"],
        ["no number", "I do not know.", null],
    ];
    for (const [name, text, expected] of cases) it(name, () => assert.equal(extractGsm8kAnswer(text), expected));
});

describe("gsm8kAnswersEqual", () => {
    const equal: [string, string][] = [
        ["18", "18"],
        ["18.0", "18"],
        ["18.00", "18"],
        ["$18", "18"],
        ["\\$18", "18"],
        ["18 dollars", "18"],
        ["\\$18.00", "18"],
        ["1080", "1,080"],
        ["1,080", "1080"],
        ["1,080.0", "1,080"],
        ["\\text{18}", "18"],
        ["x = 18", "18"],
        ["18 \\text{ eggs}", "18"],
        ["25\\%", "25"],
        ["-3", "-3"],
        ["\\frac{36}{2}", "18"],
        ["1,000,000", "1000000"],
        ["The answer is 18", "18"],
        ["0.5", ".5"],
    ];
    for (const [given, reference] of equal) it(`${given} = ${reference}`, () => assert.equal(gsm8kAnswersEqual(given, reference), true));

    const unequal: [string, string][] = [
        ["17", "18"],
        ["18.5", "18"],
        ["180", "18"],
        ["1.08", "1,080"],
        ["3", "-3"],
        ["eighteen", "18"],
        ["", "18"],
        ["18", "not a number"],
    ];
    for (const [given, reference] of unequal) it(`${given} ≠ ${reference}`, () => assert.equal(gsm8kAnswersEqual(given, reference), false));
});
