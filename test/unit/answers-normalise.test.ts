import {strict as assert} from "node:assert";
import {readFileSync} from "node:fs";
import path from "node:path";
import {normaliseAnswer, normaliseCode} from "../../src/answers/normalise.js";
import {SHARED_DIR} from "../support/shared.js";

describe("normaliseAnswer", () => {
    const cases: [string, string, string][] = [
        ["trims", "  42  ", "42"],
        ["drops whitespace", "x  +\t1", "x+1"],
        ["drops thin spaces", "a\\,b\\;c\\:d\\!e\\ f~g", "abcdefg"],
        ["drops quads", "x\\quad y\\qquad z", "xyz"],
        ["keeps a control word that starts with quad", "\\quadrant", "\\quadrant"],
        ["keeps one space between a control word and a letter", "\\cot   x + \\pi r", "\\cot x+\\pi r"],
        ["not after an escaped backslash", "a\\\\ b", "a\\\\b"],
        ["keeps \\\\ line breaks", "a\\\\,b", "a\\\\,b"],
        ["drops \\left and \\right", "\\left( x \\right]", "(x]"],
        ["drops invisible \\left. and \\right.", "\\left. x \\right|_0", "x|_0"],
        ["keeps \\leftarrow", "a \\leftarrow b", "a\\leftarrow b"],
        ["drops \\displaystyle", "\\displaystyle\\frac{1}{2}", "\\frac{1}{2}"],
        ["unwraps \\text", "\\text{east}", "east"],
        ["unwraps \\mathrm and \\textbf", "\\mathrm{kg} \\textbf{bold}", "kgbold"],
        ["unwraps nested braces in \\text", "\\text{a{b}c}", "a{b}c"],
        ["unwraps nested wrappers", "\\text{\\textbf{x}}", "x"],
        ["leaves an unbalanced \\text", "\\text{x", "\\text{x"],
        ["drops a MATH unit: \\text{ ...} after the value", "5 \\text{ cm}", "5"],
        ["drops a squared \\mbox unit", "864 \\mbox{ inches}^2", "864"],
        ["keeps \\text{ ...} that is the whole answer", "\\text{ yes}", "yes"],
        ["drops unit words after a number", "15 square centimeters", "15"],
        ["drops units per unit", "60 miles per hour", "60"],
        ["drops unit powers", "15 cm^2", "15"],
        ["keeps words that are not units", "5 apples", "5apples"],
        ["keeps letters after a variable", "x cm", "xcm"],
        ["drops degrees", "30^\\circ + 45^{\\circ} + 60°", "30+45+60"],
        ["drops \\degree", "90\\degree", "90"],
        ["drops percent signs", "50\\% or 50%", "50,50"],
        ["drops dollar signs", "\\$32,\\!348", "32348"],
        ["strips $...$", "$x+1$", "x+1"],
        ["strips $$...$$", "$$ 7 $$", "7"],
        ["strips \\(...\\) and \\[...\\]", "\\( 7 \\)", "7"],
        ["drops stray dollars", "$1$ or $2$", "1,2"],
        ["and / or separate answers", "3 and 5", "3,5"],
        ["\\dfrac to \\frac", "\\dfrac{1}{2}", "\\frac{1}{2}"],
        ["\\tfrac12 to \\frac{1}{2}", "\\tfrac12", "\\frac{1}{2}"],
        ["\\frac with a spaced shorthand", "\\frac 59", "\\frac{5}{9}"],
        ["a mixed number with a slash", "7 3/4", "7\\frac{3}{4}"],
        ["not a mixed number: a list", "7, 3/4", "7,3/4"],
        ["\\frac with one braced argument", "\\frac{270}7", "\\frac{270}{7}"],
        ["\\frac with control-word arguments", "\\frac\\pi2", "\\frac{\\pi}{2}"],
        ["\\frac shorthand inside a group", "\\frac{\\frac12}{3}", "\\frac{\\frac{1}{2}}{3}"],
        ["\\sqrt shorthand", "11\\sqrt2", "11\\sqrt{2}"],
        ["\\sqrt with a degree", "\\sqrt[3]8", "\\sqrt[3]{8}"],
        ["\\sqrt( is left as written", "\\sqrt(2)", "\\sqrt(2)"],
        ["braces around one exponent character", "x^{2}+a_{1}", "x^2+a_1"],
        ["{,} thousands", "10{,}080", "10080"],
        ["bmatrix to pmatrix", "\\begin{bmatrix}1\\\\2\\end{bmatrix}", "\\begin{pmatrix}1\\\\2\\end{pmatrix}"],
        ["drops a trailing period", "x + 5.", "x+5"],
        ["period outside dollars", "$5$.", "5"],
        ["thousands separators", "1,000,000", "1000000"],
        ["thousands in an expression", "y + 12,345", "y+12345"],
        ["not thousands: group of two", "1,00", "1,00"],
        ["not thousands: a tuple", "(1, 2, 3)", "(1,2,3)"],
        ["not thousands: an interval", "(12, 102)", "(12,102)"],
        ["not thousands: ambiguous trailing group", "1,000,2", "1,000,2"],
        ["not thousands: after a comma", "(2,1,000)", "(2,1,000)"],
        ["thousands with decimals", "1,234.50", "1234.5"],
        ["trailing decimal zeros", "2.50", "2.5"],
        ["integral decimal", "3.0", "3"],
        ["leading decimal point", ".35625", "0.35625"],
        ["leading decimal point after a sign", "-.5", "-0.5"],
        ["negative zero", "-0.0", "0"],
        ["negative zero in a tuple", "(-0.00, 1.10)", "(0,1.1)"],
        ["keeps a binary minus zero", "x-0", "x-0"],
        ["keeps a real negative", "-0.5", "-0.5"],
        ["keeps zeros inside", "10.05", "10.05"],
        ["leaves version-like numbers", "1.2.0", "1.2.0"],
        ["leading plus", "+5", "5"],
        ["drops x =", "x = 5.", "5"],
        ["drops y = before an expression", "y = 2x + 3", "2x+3"],
        ["drops f(x) =", "p(x) = x^3+1", "x^3+1"],
        ["drops \\theta =", "\\theta = \\frac{\\pi}{2}", "\\frac{\\pi}{2}"],
        ["drops a_1 =", "a_{1} = 4", "4"],
        ["drops x \\in", "x \\in [-2,7]", "[-2,7]"],
        ["keeps a long left side", "5x - 7y + 11z + 4 = 0", "5x-7y+11z+4=0"],
        ["keeps several equations", "x = 1, y = 2", "x=1,y=2"],
        ["a choice in parentheses", "\\text{(E)}", "E"],
        ["all together", " $\\displaystyle \\left( \\dfrac{1}{2} \\right) \\text{ plus } 1,000.0$. ", "(\\frac{1}{2})plus1000"],
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

    it("is idempotent on every MATH500 answer", () => {
        const math500 = JSON.parse(readFileSync(path.join(SHARED_DIR, "datasets", "MATH500.json"), "utf8")) as {answer: string}[];
        for (const {answer} of math500) {
            const once = normaliseAnswer(answer);
            assert.equal(normaliseAnswer(once), once, answer);
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
