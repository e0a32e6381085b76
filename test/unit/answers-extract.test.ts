import {strict as assert} from "node:assert";
import {extractFinalAnswer, lastBoxed, lastNumber} from "../../src/answers/extract.js";
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

describe("lastBoxed", () => {
    const cases: [string, string, string | null][] = [
        ["the last box", "\\boxed{1} so \\boxed{2}", "2"],
        ["no box", "the answer is 2", null],
        ["no last-line fallback", "x\n\\boxed{", null],
        ["a box cut off by the token limit", "\\boxed{1} and \\boxed{\\frac{2}{3}", "1"],
        ["empty box skipped", "\\boxed{4} \\boxed{ }", "4"],
    ];
    for (const [name, text, expected] of cases) {
        it(name, () => assert.equal(lastBoxed(text), expected));
    }
});

describe("lastNumber", () => {
    const cases: [string, string, string | null][] = [
        ["the last of several", "3 apples and 4 pears make 7 fruits.", "7"],
        ["thousands commas kept", "She pays $1,080 in total.", "1,080"],
        ["decimals", "That is 2.50 each", "2.50"],
        ["sentence period is not a decimal", "The answer is 18.", "18"],
        ["a sign", "The temperature is -3 degrees", "-3"],
        ["a binary minus is not a sign", "so 10-3", "3"],
        ["a minus after a letter is not a sign", "x-3", "3"],
        ["GSM8K's own marker", "... = 18\n#### 18", "18"],
        ["a list ends with its last number", "1, 2, 3", "3"],
        ["commas that are not thousands", "12,34", "34"],
        ["no number", "none at all", null],
    ];
    for (const [name, text, expected] of cases) {
        it(name, () => assert.equal(lastNumber(text), expected));
    }
});
