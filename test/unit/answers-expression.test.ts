import {strict as assert} from "node:assert";
import {evaluate, integerFraction, isIntegerLiteral, parseExpression, variablesOf, type Complex} from "../../src/answers/expression.js";

function value(text: string, variables: Record<string, number> = {}): Complex {
    const expression = parseExpression(text);
    assert.ok(expression, `parses ${text}`);
    return evaluate(expression, new Map(Object.entries(variables)));
}

function assertClose(actual: Complex, re: number, im = 0): void {
    assert.ok(Math.abs(actual.re - re) <= 1e-12 * Math.max(1, Math.abs(re)) && Math.abs(actual.im - im) <= 1e-12 * Math.max(1, Math.abs(im)),
        `${actual.re}+${actual.im}i is not ${re}+${im}i`);
}

describe("parseExpression and evaluate", () => {
    const cases: [string, number, number?][] = [
        ["2+3*4", 14],
        ["2-3-4", -5],
        ["12/3/2", 2],
        ["-3^2", -9],
        ["2^{3^2}", 512],
        ["(-2)^3", -8],
        ["2^{-1}", 0.5],
        ["2^-2", 0.25],
        ["2^10", 1024],
        ["\\frac{1}{2}", 0.5],
        ["\\frac{\\frac{1}{2}}{4}", 0.125],
        ["2\\sqrt{2}", 2 * Math.SQRT2],
        ["\\sqrt{8}", Math.sqrt(8)],
        ["\\sqrt[3]{27}", 3],
        ["\\sqrt[3]{-8}", -2],
        ["\\sqrt{-4}", 0, 2],
        ["3\\cdot4", 12],
        ["3\\times4\\div6", 2],
        ["2(3+4)", 14],
        ["(1+2)(3+4)", 21],
        ["[1+2]", 3],
        ["1\\frac{4}{5}", 1.8],
        ["-1\\frac{1}{2}", -1.5],
        ["2\\frac{\\pi}{2}", Math.PI],
        ["\\pi", Math.PI],
        ["5!", 120],
        ["\\binom{10}{3}", 120],
        ["|-3|", 3],
        ["i^2", -1, 0],
        ["(1+2i)(3-i)", 5, 5],
        ["\\frac{1}{i}", 0, -1],
        ["\\sin\\frac{\\pi}{2}", 1],
        ["\\cos(0)", 1],
        ["\\cos^2 0", 1],
        ["\\sin^{-1}(1)", Math.PI / 2],
        ["\\tan\\frac{\\pi}{4}", 1],
        ["\\ln 1", 0],
        ["\\log_2 8", 3],
        ["\\log_{10}(1000)", 3],
        ["\\exp(0)", 1],
        ["6.72\\times10^{-5}", 6.72e-5],
        ["π", Math.PI],
        ["−3", -3],
    ];
    for (const [text, re, im] of cases) it(text, () => assertClose(value(text), re, im ?? 0));

    it("evaluates variables at the given values", () => {
        assertClose(value("2x+3y", {x: 1.5, y: -1}), 0);
        assertClose(value("\\sin 2x", {x: Math.PI / 4}), 1);
        assertClose(value("\\cos x \\sin x", {x: Math.PI / 4}), 0.5);
        assertClose(value("ab", {a: 2, b: 3}), 6);
        assertClose(value("\\theta^2", {"\\theta": 3}), 9);
    });

    it("gives NaN for a variable without a value and for 0/0", () => {
        assert.ok(Number.isNaN(value("x+1").re));
        assert.ok(Number.isNaN(value("\\frac{0}{0}").re));
    });

    it("gives infinities for \\infty", () => {
        assert.equal(value("\\infty").re, Infinity);
        assert.equal(value("-\\infty").re, -Infinity);
    });

    for (const text of ["", "2^3^2", "x=1", "(1,2)", "1+", "\\frac{1}", "\\foo{x}", "52_8", "a<b", "\\sqrt", "((1)", "2'"]) {
        it(`does not parse ${JSON.stringify(text)}`, () => assert.equal(parseExpression(text), null));
    }

    it("does not parse a very long answer", () => assert.equal(parseExpression("1+".repeat(300) + "1"), null));
});

describe("variablesOf", () => {
    it("lists variable names, Greek letters with their backslash, not constants", () => {
        assert.deepEqual([...variablesOf(parseExpression("2x+\\sin(y)+\\theta\\pi+i")!)].sort(), ["\\theta", "x", "y"]);
    });
});

describe("isIntegerLiteral and integerFraction", () => {
    it("recognise whole numbers as written", () => {
        assert.equal(isIntegerLiteral(parseExpression("12")!), true);
        assert.equal(isIntegerLiteral(parseExpression("-7")!), true);
        for (const text of ["2.5", "\\frac{4}{2}", "3^2", "x"]) assert.equal(isIntegerLiteral(parseExpression(text)!), false, text);
    });

    it("recognise fractions of whole numbers, with the sign in the numerator", () => {
        assert.deepEqual(integerFraction(parseExpression("\\frac{2}{4}")!), {numerator: 2, denominator: 4});
        assert.deepEqual(integerFraction(parseExpression("-\\frac{1}{2}")!), {numerator: -1, denominator: 2});
        assert.deepEqual(integerFraction(parseExpression("\\frac{-1}{2}")!), {numerator: -1, denominator: 2});
        assert.deepEqual(integerFraction(parseExpression("1/-2")!), {numerator: -1, denominator: 2});
        for (const text of ["0.5", "\\frac{\\pi}{2}", "1\\frac{1}{2}", "\\frac{1.5}{2}"]) assert.equal(integerFraction(parseExpression(text)!), null, text);
    });
});
