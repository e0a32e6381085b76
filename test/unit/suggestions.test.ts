import {strict as assert} from "node:assert";
import {cutCodeSuggestion} from "../../src/extension/suggestions.js";

describe("cutCodeSuggestion", () => {
    const cases: [string, string, number, string][] = [
        ["the rest of a body, then the next function", "return a + b\n\ndef sub(a, b):\n    return a - b\n", 4, "return a + b"],
        ["a body of several lines keeps its nested blocks", "if a:\n        return 1\n    return 2\nprint(add(1, 2))", 4, "if a:\n        return 1\n    return 2"],
        ["prose after the code at the top level", "x = 1\ny = 2\n\nThis sets x and y.", 0, "x = 1\ny = 2"],
        ["a first code block, without its fences", "```python\nreturn a + b\n```\nThe function adds.", 4, "return a + b"],
        ["code up to a fence", "return a + b\n```\nmore", 4, "return a + b"],
        ["trailing blank lines dropped", "return a\n\n\n", 4, "return a"],
        ["the first line is kept whatever its indentation", "a + b\n", 8, "a + b"]
    ];
    for (const [what, completion, indent, expected] of cases) {
        it(what, () => assert.equal(cutCodeSuggestion(completion, indent), expected));
    }
});
