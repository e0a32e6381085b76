import {strict as assert} from "node:assert";
import {accuracyInterval, majorityVoteAccuracy, passAtK, passAtKCurve, weightVoteAccuracy, Z_95} from "../../src/eval/stats.js";

function assertClose(actual: number, expected: number, tolerance = 1e-12): void {
    assert.ok(Math.abs(actual - expected) <= tolerance, `${actual} is not ${expected}`);
}

function binomial(n: number, k: number): bigint {
    let result = 1n;
    for (let i = 0; i < k; i++) result = result * BigInt(n - i) / BigInt(i + 1);
    return result;
}

describe("passAtK", () => {
    const cases: [number, number, number, number][] = [
        [5, 2, 1, 0.4],
        [5, 2, 2, 0.7],
        [5, 2, 3, 0.9],
        [5, 2, 4, 1],
        [5, 0, 3, 0],
        [5, 5, 1, 1],
        [10, 3, 5, 1 - 21 / 252],
        [200, 1, 100, 0.5],
        [1, 1, 1, 1],
        [1, 0, 1, 0],
    ];
    for (const [n, c, k, expected] of cases) it(`n=${n} c=${c} k=${k}`, () => assertClose(passAtK(n, c, k), expected));

    it("matches 1 - C(n-c,k)/C(n,k) in exact integers for every c and k up to n = 40", () => {
        for (const n of [1, 2, 7, 16, 40]) {
            for (let c = 0; c <= n; c++) {
                for (let k = 1; k <= n; k++) {
                    const exact = n - c < k ? 1 : 1 - Number(binomial(n - c, k) * 10n ** 18n / binomial(n, k)) / 1e18;
                    assertClose(passAtK(n, c, k), exact, 1e-15);
                }
            }
        }
    });

    it("stays finite and exact where the binomials overflow doubles", () => {
        // C(2000, 1000) is about 10^600.
        assertClose(passAtK(2000, 1, 1000), 0.5);
        assertClose(passAtK(2000, 2, 1000), 1 - (1000 * 999) / (2000 * 1999));
    });

    it("refuses impossible counts", () => {
        for (const [n, c, k] of [[5, 6, 1], [5, -1, 1], [5, 2, 0], [5, 2, 6], [5, 1.5, 1]]) assert.throws(() => passAtK(n, c, k), RangeError);
    });
});

describe("passAtKCurve", () => {
    it("averages over problems for every k up to the fewest samples", () => {
        assert.deepEqual(passAtKCurve([{samples: 4, correct: 1}, {samples: 4, correct: 4}]), {1: 0.625, 2: 0.75, 3: 0.875, 4: 1});
        assert.deepEqual(Object.keys(passAtKCurve([{samples: 3, correct: 0}, {samples: 2, correct: 1}])), ["1", "2"]);
    });

    it("refuses no problems", () => assert.throws(() => passAtKCurve([]), RangeError));
});

describe("accuracyInterval", () => {
    it("is the plain Wilson interval with one sample per problem", () => {
        const problems = Array.from({length: 10}, (_, i) => ({samples: 1, correct: i < 7 ? 1 : 0}));
        const estimate = accuracyInterval(problems);
        assert.equal(estimate.accuracy, 0.7);
        assert.equal(estimate.effectiveSamples, 10);
        assertClose(estimate.low, 0.39677814746114537);
        assertClose(estimate.high, 0.8922087325936989);
    });

    it("counts the effective sample size of correlated samples", () => {
        const estimate = accuracyInterval([{samples: 2, correct: 2}, {samples: 2, correct: 0}, {samples: 2, correct: 2}, {samples: 2, correct: 1}]);
        assert.equal(estimate.accuracy, 0.625);
        assertClose(estimate.effectiveSamples, 60 / 11);
        assertClose(estimate.low, 0.257876154259858);
        assertClose(estimate.high, 0.8888144370158457);
    });

    it("counts problems, not samples, when each problem's samples agree", () => {
        const estimate = accuracyInterval([{samples: 3, correct: 3}, {samples: 3, correct: 0}, {samples: 3, correct: 3}, {samples: 3, correct: 0}]);
        assert.equal(estimate.effectiveSamples, 4);
        assertClose(estimate.low, 0.15003898915214947);
        assertClose(estimate.high, 0.8499610108478506);
    });

    it("counts every sample when problems do not differ", () => {
        const estimate = accuracyInterval([{samples: 4, correct: 2}, {samples: 4, correct: 2}]);
        assert.equal(estimate.effectiveSamples, 8);
    });

    it("is one-sided at 0 and 1, counting problems", () => {
        const all = accuracyInterval(Array.from({length: 5}, () => ({samples: 4, correct: 4})));
        assert.deepEqual([all.accuracy, all.effectiveSamples, all.high], [1, 5, 1]);
        assertClose(all.low, 0.5655175352168251);
        const none = accuracyInterval(Array.from({length: 5}, () => ({samples: 4, correct: 0})));
        assert.deepEqual([none.accuracy, none.low], [0, 0]);
        assertClose(none.high, 0.43448246478317476);
    });

    it("narrows with a smaller z", () => {
        const problems = [{samples: 1, correct: 1}, {samples: 1, correct: 0}];
        const wide = accuracyInterval(problems);
        const narrow = accuracyInterval(problems, Z_95 / 2);
        assert.ok(narrow.low > wide.low && narrow.high < wide.high);
    });

    it("refuses impossible tallies", () => {
        assert.throws(() => accuracyInterval([]), RangeError);
        assert.throws(() => accuracyInterval([{samples: 0, correct: 0}]), RangeError);
        assert.throws(() => accuracyInterval([{samples: 2, correct: 3}]), RangeError);
    });
});

const vote = (finalAnswer: string | null, logProb: number, correct: boolean) => ({finalAnswer, logProb, correct});

describe("majorityVoteAccuracy", () => {
    it("grades the largest group of equal answers", () => {
        assert.equal(majorityVoteAccuracy([[vote("1", -1, false), vote("\\frac{4}{2}", -9, true), vote("2", -8, true)]], "math"), 1);
        assert.equal(majorityVoteAccuracy([[vote("7", -1, true), vote("8", -9, false), vote("8.0", -8, false)]], "math"), 0);
    });

    it("breaks a tie on count by the likeliest member, then by first appearance", () => {
        assert.equal(majorityVoteAccuracy([[vote("2", -5, true), vote("3", -1, false), vote("2", -6, true), vote("3", -2, false)]], "math"), 0);
        assert.equal(majorityVoteAccuracy([[vote("2", -1, true), vote("3", -1, false)]], "math"), 1);
        assert.equal(majorityVoteAccuracy([[vote("3", -1, false), vote("2", -1, true)]], "math"), 0);
    });

    it("lets an answer win over more samples without one", () => {
        assert.equal(majorityVoteAccuracy([[vote(null, -1, false), vote(null, -1, false), vote("4", -9, true)]], "math"), 1);
    });

    it("averages over problems", () => {
        const problems = [[vote("1", 0, true)], [vote("1", 0, false)], [vote("1", 0, true)], [vote(null, 0, false)]];
        assert.equal(majorityVoteAccuracy(problems, "math"), 0.5);
    });

    it("refuses a problem without samples", () => assert.throws(() => majorityVoteAccuracy([[]], "math"), RangeError));
});

const weighted = (finalAnswer: string | null, weight: number, correct: boolean) => ({finalAnswer, weight, correct});

describe("weightVoteAccuracy", () => {
    it("grades the answer with the largest total weight, by its heaviest sample", () => {
        // "1" has two samples but less weight than the one "2".
        assert.equal(weightVoteAccuracy([[weighted("1", 0.25, true), weighted("2", 0.5, false), weighted("1.0", 0.125, true), weighted(null, 0.125, false)]], "math"), 0);
        assert.equal(weightVoteAccuracy([[weighted("1", 0.25, true), weighted("2", 0.375, false), weighted("1.0", 0.25, true), weighted("3", 0.125, false)]], "math"), 1);
    });

    it("breaks a tie on weight by more samples, then by first appearance", () => {
        assert.equal(weightVoteAccuracy([[weighted("2", 0.5, false), weighted("1", 0.25, true), weighted("1", 0.25, true)]], "math"), 1);
        assert.equal(weightVoteAccuracy([[weighted("2", 0.5, false), weighted("1", 0.5, true)]], "math"), 0);
    });

    it("grades by the heaviest member, the first of equals", () => {
        assert.equal(weightVoteAccuracy([[weighted("2", 0.25, false), weighted("2.0", 0.5, true), weighted("3", 0.125, false)]], "math"), 1);
        assert.equal(weightVoteAccuracy([[weighted("2", 0.25, false), weighted("2.0", 0.25, true), weighted("3", 0.125, true)]], "math"), 0);
    });

    it("lets samples without an answer win only when none has one", () => {
        assert.equal(weightVoteAccuracy([[weighted(null, 0.9, false), weighted("5", 0.1, true)]], "math"), 1);
        assert.equal(weightVoteAccuracy([[weighted(null, 0.9, false), weighted(null, 0.1, false)]], "math"), 0);
    });

    it("averages over problems", () => {
        assert.equal(weightVoteAccuracy([[weighted("1", 1, true)], [weighted("1", 1, false)]], "math"), 0.5);
    });

    it("refuses negative or non-finite weights and empty problems", () => {
        for (const weight of [-0.1, NaN, Infinity]) assert.throws(() => weightVoteAccuracy([[weighted("1", weight, true)]], "math"), RangeError);
        assert.throws(() => weightVoteAccuracy([[]], "math"), RangeError);
    });
});
