/**
 * The MATH grader on MATH500's own answer formats: every reference below is an answer of
 * ../shared/datasets/MATH500.json, checked against rewrites a model might produce that mean the same
 * answer, and against near misses that must not match.
 */
import {strict as assert} from "node:assert";
import {readFileSync} from "node:fs";
import path from "node:path";
import {mathAnswerKey, mathAnswersEqual} from "../../src/answers/math-equivalence.js";
import {normaliseAnswer} from "../../src/answers/normalise.js";
import {Random} from "../../src/sampling/random.js";
import {SHARED_DIR} from "../support/shared.js";

interface Case {
    readonly reference: string;
    readonly same: readonly string[];
    readonly different: readonly string[];
}

const CASES: readonly Case[] = [
    {reference: "\\left( 3, \\frac{\\pi}{2} \\right)", same: ["(3, \\frac{\\pi}{2})", "\\left(3,\\dfrac{\\pi}{2}\\right)", "(3, \\pi/2)", "$(3,\\tfrac{\\pi}2)$"],
        different: ["(3, \\frac{\\pi}{3})", "(\\frac{\\pi}{2}, 3)", "[3, \\frac{\\pi}{2}]", "(3, 1.57)"]},
    {reference: "p - q", same: ["-q + p", "p-q", "\\(p - q\\)"], different: ["q - p", "p + q", "p"]},
    {reference: "\\frac{14}{3}", same: ["14/3", "\\dfrac{14}{3}", "4\\frac{2}{3}", "\\frac{14}{3}."],
        different: ["\\frac{28}{6}", "4.67", "\\frac{3}{14}", "\\frac{14}{5}"]},
    {reference: "9", same: ["9.00", "9 \\text{ divisors}", "$9$", "9."], different: ["8", "-9", "9.1", "\\frac{18}{2}"]},
    {reference: "\\text{Evelyn}", same: ["Evelyn", "\\text{evelyn}", "\\textbf{Evelyn}"], different: ["Emily", "\\text{Evelin}"]},
    {reference: "30^\\circ", same: ["30", "30^{\\circ}", "30°", "30 degrees", "30\\text{ degrees}"], different: ["60^\\circ", "\\frac{\\pi}{6}", "3"]},
    {reference: "\\frac{\\sqrt{3}}{3}", same: ["\\frac{1}{\\sqrt{3}}", "\\sqrt{3}/3", "\\frac{\\sqrt3}{3}", "\\sqrt{\\frac{1}{3}}"],
        different: ["\\sqrt{3}", "\\frac{\\sqrt{3}}{2}", "0.577"]},
    {reference: "\\$32,\\!348", same: ["32348", "\\$32,348", "32,348", "$32,348.00"], different: ["32,347", "3234.8", "323480"]},
    {reference: "864 \\mbox{ inches}^2", same: ["864", "864 \\text{ square inches}", "864 \\text{ in}^2", "864 square inches"], different: ["432", "864\\pi"]},
    {reference: "\\{1\\pm\\sqrt{5},-2\\}", same: ["\\{-2, 1+\\sqrt{5}, 1-\\sqrt{5}\\}", "1-\\sqrt{5}, -2, 1+\\sqrt{5}", "\\left\\{ 1 \\pm \\sqrt 5, -2 \\right\\}"],
        different: ["\\{1+\\sqrt{5}, -2\\}", "\\{1\\pm\\sqrt{5}, 2\\}", "\\{1\\pm\\sqrt{3},-2\\}"]},
    {reference: "1 \\pm \\sqrt{19}", same: ["1+\\sqrt{19}, 1-\\sqrt{19}", "1-\\sqrt{19},1+\\sqrt{19}", "x = 1 \\pm \\sqrt{19}"],
        different: ["1+\\sqrt{19}", "-1 \\pm \\sqrt{19}", "1 \\pm \\sqrt{17}"]},
    {reference: "3 \\pm 2 \\sqrt{2}", same: ["3+2\\sqrt{2}, 3-2\\sqrt{2}", "3 \\mp 2\\sqrt 2", "3 \\pm \\sqrt{8}"], different: ["3 + 2\\sqrt{2}", "2 \\pm 3\\sqrt{2}"]},
    {reference: "3, 5, 7", same: ["7, 5, 3", "3,5,7", "x = 3, 5, 7", "\\{3, 5, 7\\}", "x=3, x=5, x=7", "3, 5 \\text{ and } 7"],
        different: ["3, 5", "3, 5, 7, 10", "3, 6, 7"]},
    {reference: "-2,1", same: ["1, -2", "x=-2, x=1", "\\{-2, 1\\}"], different: ["-2", "2,-1", "-2, 1, 3"]},
    {reference: "x \\in [-2,7]", same: ["[-2,7]", "[-2, 7]", "\\left[ -2, 7 \\right]"], different: ["(-2,7)", "[-2,7)", "[2,7]"]},
    {reference: "(2,12) \\cup (12,102)", same: ["(12,102) \\cup (2,12)", "(2, 12)\\cup(12, 102)", "x \\in (2,12) \\cup (12,102)"],
        different: ["(2,102)", "(2,12] \\cup (12,102)", "(2,12) \\cup (12,100)"]},
    {reference: "(-\\infty, 2) \\cup (3, \\infty)", same: ["(3,\\infty)\\cup(-\\infty,2)", "(-\\infty,2)\\cup(3,+\\infty)"],
        different: ["(-\\infty, 2] \\cup [3, \\infty)", "(2, 3)", "(-\\infty, 3) \\cup (2, \\infty)"]},
    {reference: "\\begin{pmatrix} 1/5 \\\\ -18/5 \\end{pmatrix}",
        same: ["\\begin{pmatrix} \\frac{1}{5} \\\\ -\\frac{18}{5} \\end{pmatrix}", "\\begin{bmatrix} 1/5 \\\\ -18/5 \\end{bmatrix}", "\\left(\\frac15, -\\frac{18}5\\right)",
            "\\begin{pmatrix} 0.2 \\\\ -3.6 \\end{pmatrix}"],
        different: ["\\begin{pmatrix} -18/5 \\\\ 1/5 \\end{pmatrix}", "\\begin{pmatrix} 1/5 \\\\ 18/5 \\end{pmatrix}", "\\begin{pmatrix} 1/5 & -18/5 \\end{pmatrix}"]},
    {reference: "\\begin{pmatrix} -1 & 0 \\\\ 0 & -1 \\end{pmatrix}", same: ["\\begin{bmatrix}-1&0\\\\0&-1\\end{bmatrix}", "\\begin{pmatrix}-1 & 0\\\\ 0 & -1\\\\\\end{pmatrix}"],
        different: ["\\begin{pmatrix} 1 & 0 \\\\ 0 & 1 \\end{pmatrix}", "\\begin{pmatrix} -1 & 0 & 0 & -1 \\end{pmatrix}"]},
    {reference: "\\begin{pmatrix} -7 \\\\ 16 \\\\ 5 \\end{pmatrix}", same: ["(-7, 16, 5)", "\\begin{bmatrix} -7 \\\\ 16 \\\\ 5 \\end{bmatrix}", "\\begin{pmatrix}-7\\\\16\\\\5\\end{pmatrix}"],
        different: ["\\begin{pmatrix} 7 \\\\ -16 \\\\ -5 \\end{pmatrix}", "(-7, 16)"]},
    {reference: "5x - 7y + 11z + 4 = 0", same: ["5x-7y+11z+4=0", "0 = 5x - 7y + 11z + 4", "5x - 7y + 11z = -4", "11z + 5x - 7y + 4 = 0"],
        different: ["5x - 7y + 11z - 4 = 0", "10x - 14y + 22z + 8 = 0", "5x + 7y + 11z + 4 = 0"]},
    {reference: "y = 2x + 3", same: ["2x + 3", "y=3+2x", "y = 2x+3"], different: ["y = 2x - 3", "y = 3x + 2", "2x"]},
    {reference: "y = -2x", same: ["-2x", "y=-2 x"], different: ["y=2x", "y=-2x+1"]},
    {reference: "x=5", same: ["5", "x = 5", "5.0"], different: ["-5", "x=6"]},
    {reference: "(a+5)(b+2)", same: ["(b+2)(a+5)", "ab + 2a + 5b + 10", "(5+a)(2+b)"], different: ["(a+2)(b+5)", "(a+5)(b-2)", "ab + 10"]},
    {reference: "\\cot x", same: ["\\frac{\\cos x}{\\sin x}", "\\cot(x)", "\\frac{1}{\\tan x}"], different: ["\\tan x", "-\\cot x", "\\cot 2x"]},
    {reference: "6+9i", same: ["9i + 6", "6 + 9 i", "6+9\\cdot i"], different: ["6-9i", "9+6i", "6+9"]},
    {reference: "-2 + 7i", same: ["7i - 2", "-2+7i"], different: ["2 - 7i", "-2 - 7i", "-2+7"]},
    {reference: "6 - 5i", same: ["-5i+6", "6-5\\,i"], different: ["6+5i", "-5+6i"]},
    {reference: "1+274i", same: ["274i+1", "1 + 274 i"], different: ["1-274i", "275i"]},
    {reference: "\\text{(E)}", same: ["E", "(E)", "\\text{E}", "\\textbf{(E)}"], different: ["D", "(D)", "\\text{(B)}"]},
    {reference: "\\frac{3}{2}", same: ["1.5", "3/2", "\\dfrac32", "1\\frac{1}{2}"], different: ["\\frac{6}{4}", "\\frac{2}{3}", "-\\frac{3}{2}", "1.4"]},
    {reference: "\\frac{1}{2}", same: ["0.5", "1/2", "\\frac12", "\\dfrac{1}{2}", "\\tfrac{1}{2}"], different: ["\\frac{2}{4}", "2", "-\\frac{1}{2}", "0.50001"]},
    {reference: "0.15", same: ["\\frac{3}{20}", ".15", "0.150"], different: ["0.015", "\\frac{1}{15}"]},
    {reference: ".35625", same: ["0.35625", "\\frac{57}{160}", "0.356250"], different: ["0.3562", "35.625", "\\frac{57}{16}"]},
    {reference: ".0000672", same: ["0.0000672", "6.72 \\times 10^{-5}", "\\frac{42}{625000}"], different: ["0.000672", "0.00006"]},
    {reference: "\\$18.90", same: ["18.90", "18.9", "\\$18.9", "18.90 dollars"], different: ["18.09", "1890", "\\$19"]},
    {reference: "\\$36", same: ["36", "\\$36.00", "36 dollars"], different: ["\\$3.60", "63"]},
    {reference: "5.4 \\text{ cents}", same: ["5.4", "5.40", "5.4 cents"], different: ["0.054", "54"]},
    {reference: "10,\\!080", same: ["10080", "10,080", "10{,}080"], different: ["1008", "10,800", "10.080"]},
    {reference: "11,\\! 111,\\! 111,\\! 100", same: ["11111111100", "11,111,111,100"], different: ["1111111100", "11,111,111,000"]},
    {reference: "58,500", same: ["58500", "58,500.", "58{,}500"], different: ["5850", "585,000"]},
    {reference: "137 \\frac{1}{2}", same: ["137.5", "\\frac{275}{2}", "137\\tfrac12"], different: ["137", "\\frac{137}{2}", "138.5"]},
    {reference: "1\\frac{4}{5}", same: ["\\frac{9}{5}", "1.8", "9/5", "1 4/5"], different: ["\\frac{4}{5}", "1.45", "14/5"]},
    {reference: "\\frac{20000}{\\pi}", same: ["20000/\\pi", "\\frac{2\\times 10^4}{\\pi}", "\\dfrac{20000}{\\pi}"], different: ["20000\\pi", "6366", "\\frac{2000}{\\pi}"]},
    {reference: "8n^2 + 4n + 1", same: ["4n + 8n^2 + 1", "8n^{2}+4n+1", "1 + 4n + 8n^2"], different: ["8n^2 + 4n - 1", "8n^2 + 4n", "8m^2 + 4m + 1"]},
    {reference: "3R^2", same: ["3r^2", "3 R^{2}", "R^2 \\cdot 3"], different: ["3R", "9R^2", "3R^3"]},
    {reference: "x^3+3x-6", same: ["x^3 + 3x - 6", "-6 + 3x + x^3", "p(x) = x^3+3x-6"], different: ["x^3 + 3x + 6", "x^3 - 3x - 6", "x^2 + 3x - 6"]},
    {reference: "x^5 - x^4 + x^3 - x^2 + x - 1", same: ["x^5-x^4+x^3-x^2+x-1", "(x-1)(x^4+x^2+1)"],
        different: ["x^5 + x^4 + x^3 + x^2 + x + 1", "x^5 - x^4 + x^3 - x^2 + x + 1"]},
    {reference: "6r^2-4r-24", same: ["2(3r^2-2r-12)", "6r^2 - 4r - 24"], different: ["6r^2+4r-24", "6r^2-4r+24"]},
    {reference: "2k+2", same: ["2(k+1)", "2 + 2k", "2k + 2"], different: ["2k+1", "k+2", "2k"]},
    {reference: "15x - 80", same: ["-80 + 15x", "5(3x-16)"], different: ["15x + 80", "15x - 8"]},
    {reference: "5r^5", same: ["5 r^{5}", "r^5 \\cdot 5"], different: ["5r^4", "25r^5"]},
    {reference: "\\frac{11+9a}{20}", same: ["\\frac{9a+11}{20}", "(11+9a)/20", "\\frac{11}{20}+\\frac{9a}{20}"], different: ["\\frac{11+9a}{2}", "\\frac{11-9a}{20}", "11+9a"]},
    {reference: "\\sqrt{51}", same: ["\\sqrt {51}", "51^{1/2}", "\\sqrt{51}."], different: ["51", "\\sqrt{15}", "7.14"]},
    {reference: "70 \\sqrt{2}", same: ["70\\sqrt2", "\\sqrt{9800}", "70 \\cdot \\sqrt{2}", "\\frac{140}{\\sqrt{2}}"], different: ["70", "35\\sqrt{2}", "70\\sqrt{3}"]},
    {reference: "11\\sqrt2", same: ["11\\sqrt{2}", "\\sqrt{242}"], different: ["11", "\\sqrt{22}"]},
    {reference: "2\\sqrt{5}", same: ["\\sqrt{20}", "2 \\sqrt 5", "2\\cdot\\sqrt{5}"], different: ["\\sqrt{10}", "4\\sqrt{5}"]},
    {reference: "\\sqrt{5}", same: ["\\sqrt5", "5^{1/2}", "\\frac{5}{\\sqrt{5}}"], different: ["5", "\\sqrt{3}", "2.236"]},
    {reference: "-\\sqrt{3}", same: ["-\\sqrt3", "-3^{1/2}", "\\frac{-3}{\\sqrt{3}}"], different: ["\\sqrt{3}", "-\\sqrt{2}"]},
    {reference: "1+2\\sqrt{3}", same: ["2\\sqrt{3}+1", "1 + \\sqrt{12}"], different: ["1+\\sqrt{3}", "1-2\\sqrt{3}", "3\\sqrt{3}"]},
    {reference: "\\frac{3\\sqrt{3}}{4}", same: ["\\frac{3}{4}\\sqrt{3}", "0.75\\sqrt{3}", "\\frac{\\sqrt{27}}{4}"], different: ["\\frac{3\\sqrt{3}}{2}", "\\frac{3\\sqrt{2}}{4}"]},
    {reference: "\\frac{\\sqrt{21}}{5}", same: ["\\sqrt{21}/5", "\\frac{1}{5}\\sqrt{21}", "\\sqrt{\\frac{21}{25}}"], different: ["\\frac{\\sqrt{21}}{25}", "\\frac{21}{5}"]},
    {reference: "\\pi", same: ["π", "1\\pi", "\\pi \\text{ radians}"], different: ["3.14", "2\\pi", "180"]},
    {reference: "-\\frac{\\pi}{6}", same: ["-\\pi/6", "\\frac{-\\pi}{6}", "-\\dfrac{\\pi}{6}"], different: ["\\frac{\\pi}{6}", "-\\frac{\\pi}{3}", "-30"]},
    {reference: "12\\pi", same: ["12 \\pi", "\\pi \\cdot 12"], different: ["12", "37.7"]},
    {reference: "18+2\\pi", same: ["2\\pi+18", "2(9+\\pi)"], different: ["18+\\pi", "20\\pi", "24.28"]},
    {reference: "\\left[ \\frac{\\pi^2}{8}, \\frac{5 \\pi^2}{4} \\right]",
        same: ["[\\frac{\\pi^2}{8}, \\frac{5\\pi^2}{4}]", "\\left[\\dfrac{\\pi^{2}}{8},\\dfrac{5\\pi^{2}}{4}\\right]", "[\\pi^2/8, 5\\pi^2/4]"],
        different: ["(\\frac{\\pi^2}{8}, \\frac{5\\pi^2}{4})", "[\\frac{\\pi^2}{8}, \\frac{5\\pi^2}{8}]"]},
    {reference: "(6,31,-1)", same: ["(6, 31, -1)", "\\left(6,31,-1\\right)"], different: ["(6,-1,31)", "(6,31,1)", "[6,31,-1]", "(6,31)"]},
    {reference: "(1,-16,-4,43)", same: ["(1, -16, -4, 43)"], different: ["(1,-16,4,43)", "(-16,1,-4,43)"]},
    {reference: "(3,4]", same: ["(3, 4]", "\\left(3,4\\right]"], different: ["(3,4)", "[3,4]", "(3,5]"]},
    {reference: "(-\\infty, 0]", same: ["(-\\infty,0]", "\\left(-\\infty, 0\\right]", "x \\in (-\\infty, 0]"], different: ["(-\\infty, 0)", "(\\infty, 0]", "(-\\infty, 1]"]},
    {reference: "(5,\\infty)", same: ["(5, \\infty)", "(5,+\\infty)"], different: ["[5,\\infty)", "(-5,\\infty)"]},
    {reference: "52_8", same: ["52_{8}", "52_8."], different: ["52", "42_8", "52_{10}"]},
    {reference: "4210_{5}", same: ["4210_5"], different: ["4210", "4201_5"]},
    {reference: "\\text{east}", same: ["east", "\\text{East}", "\\mbox{east}"], different: ["west", "seat"]},
    {reference: "\\text{even}", same: ["even", "\\text{Even}"], different: ["odd", "neither"]},
    {reference: "\\text{Navin}", same: ["Navin", "\\text{navin}"], different: ["Nina", "Navin and Luka"]},
    {reference: "\\text{ellipse}", same: ["ellipse", "\\text{Ellipse}"], different: ["parabola", "circle"]},
    {reference: "\\frac{9}{256}", same: ["9/256", "0.03515625", "\\dfrac{9}{256}"], different: ["\\frac{18}{512}", "\\frac{9}{265}", "0.035"]},
    {reference: "-\\frac{35}{9}", same: ["\\frac{-35}{9}", "-35/9", "-3\\frac{8}{9}"], different: ["\\frac{35}{9}", "-\\frac{35}{8}"]},
    {reference: "\\dfrac{33}{100}", same: ["\\frac{33}{100}", "0.33", "33/100"], different: ["\\frac{1}{3}", "0.3", "33"]},
    {reference: "\\frac{2}{1005}", same: ["2/1005", "\\dfrac{2}{1005}"], different: ["\\frac{4}{2010}", "\\frac{1}{1005}", "0.002"]},
    {reference: "\\frac{448}{15625}", same: ["0.028672", "448/15625"], different: ["\\frac{448}{1562}", "0.0287"]},
    {reference: "\\frac{639}{40}", same: ["15.975", "639/40"], different: ["\\frac{639}{4}", "15.97"]},
    {reference: "\\frac{270}7\\text{ degrees}", same: ["\\frac{270}{7}", "\\frac{270}{7}^\\circ", "\\frac{270}{7} \\text{ degrees}"], different: ["\\frac{270}{17}", "38.57", "\\frac{540}{14}"]},
    {reference: "15\\mbox{ cm}^2", same: ["15", "15 \\text{ cm}^2", "15 cm^2", "15 square centimeters"], different: ["30", "15\\pi"]},
    {reference: "120^\\circ", same: ["120", "120^{\\circ}", "120 degrees"], different: ["60^\\circ", "\\frac{2\\pi}{3}", "12"]},
    {reference: "4.5", same: ["\\frac{9}{2}", "4.50", "4\\frac{1}{2}"], different: ["4", "45", "\\frac{9}{4}"]},
    {reference: "1.25", same: ["\\frac{5}{4}", "1.250", "5/4"], different: ["1.2", "\\frac{4}{5}", "125"]},
    {reference: "326.5", same: ["326.50", "\\frac{653}{2}"], different: ["326", "3265"]},
    {reference: "0", same: ["0.0", "-0", "\\text{0}"], different: ["1", "0.01", "O"]},
    {reference: "-1", same: ["-1.0", "−1"], different: ["1", "-1.5", "-2"]},
];

const MATH500 = JSON.parse(readFileSync(path.join(SHARED_DIR, "datasets", "MATH500.json"), "utf8")) as {answer: string}[];

describe("mathAnswersEqual on MATH500's answer formats", () => {
    it("takes every reference from MATH500", () => {
        const answers = new Set(MATH500.map((problem) => problem.answer));
        for (const {reference} of CASES) assert.ok(answers.has(reference), reference);
    });

    it("has at least 100 pairs of each kind", () => {
        assert.ok(CASES.reduce((sum, c) => sum + c.same.length, 0) >= 100);
        assert.ok(CASES.reduce((sum, c) => sum + c.different.length, 0) >= 100);
    });

    for (const {reference, same, different} of CASES) {
        describe(reference, () => {
            for (const given of same) it(`accepts ${given}`, () => assert.equal(mathAnswersEqual(given, reference), true));
            for (const given of different) it(`rejects ${given}`, () => assert.equal(mathAnswersEqual(given, reference), false));
        });
    }

    it("accepts every MATH500 answer for itself, written with extra spacing and in $...$", () => {
        for (const {answer} of MATH500) assert.ok(mathAnswersEqual(`$ ${answer.replace(/,/g, ", ")} $`, answer), answer);
    });
});

describe("mathAnswersEqual", () => {
    it("finds no two different MATH500 answers equal: only the same value written with or without units", function () {
        this.timeout(30_000); // 45,000 comparisons
        const answers = [...new Set(MATH500.map((problem) => problem.answer))];
        const equal: string[] = [];
        for (let i = 0; i < answers.length; i++) {
            for (let j = i + 1; j < answers.length; j++) {
                if (mathAnswersEqual(answers[i], answers[j])) equal.push([answers[i], answers[j]].sort().join(" = "));
            }
        }
        assert.deepEqual(equal.sort(), [
            "-2,1 = 1,-2", "10,\\!080 = 10080", "120 = 120^\\circ", "15 = 15\\mbox{ cm}^2", "2 \\sqrt{5} = 2\\sqrt{5}", "30 = 30^\\circ",
            "36 = 36^\\circ", "36 = \\$36", "36^\\circ = \\$36", "5 = x=5", "90 = 90^\\circ", "\\frac14 = \\frac{1}{4}",
        ].sort());
    });


    it("rejects an empty answer, even against an empty reference's neighbours", () => {
        assert.equal(mathAnswersEqual("", "5"), false);
        assert.equal(mathAnswersEqual("   ", "0"), false);
    });

    it("expands a few \\pm, and leaves many alone rather than try 2^n alternatives", () => {
        assert.equal(mathAnswersEqual("1\\pm\\sqrt{2}\\pm\\sqrt{3}", "1-\\sqrt2-\\sqrt3, 1+\\sqrt2-\\sqrt3, 1-\\sqrt2+\\sqrt3, 1+\\sqrt2+\\sqrt3"), true);
        const many = "1" + "\\pm1".repeat(40);
        assert.equal(mathAnswersEqual(many, many.replace("1", "2")), false);
        assert.equal(mathAnswersEqual(many, ` ${many} `), true);
        assert.equal(mathAnswerKey(many), many);
    });

    it("does not take text for a product of variables", () => {
        assert.equal(mathAnswersEqual("tea", "eat"), false);
        assert.equal(mathAnswersEqual("ab", "ba"), true);
    });

    it("never throws, and is reflexive, on arbitrary LaTeX-like input", () => {
        const pieces = ["\\frac", "\\sqrt", "{", "}", "(", ")", "[", "]", "\\{", "\\}", ",", "1", "2", "0.5", "x", "i", "\\pi", "\\pm", "^", "_", "-",
            "+", "=", "\\text{", " cm", "\\left(", "\\right)", "$", "\\$", "%", "\\infty", "\\cup", "\\begin{pmatrix}", "\\end{pmatrix}", "\\\\",
            "&", " ", ".", "!", "|", "\\sin", "\\log", "\\in", "\\circ", "1,000", "'", "\\"];
        const random = new Random(7);
        const text = () => Array.from({length: 1 + random.uint32() % 25}, () => pieces[random.uint32() % pieces.length]).join("");
        for (let n = 0; n < 2000; n++) {
            const [a, b] = [text(), text()];
            mathAnswersEqual(a, b);
            mathAnswerKey(a);
            if (normaliseAnswer(a) !== "") assert.ok(mathAnswersEqual(a, a), a);
        }
    });

    it("is symmetric on the pairs above", () => {
        for (const {reference, same, different} of CASES) {
            for (const given of [...same, ...different]) assert.equal(mathAnswersEqual(reference, given), mathAnswersEqual(given, reference), `${given} / ${reference}`);
        }
    });
});
