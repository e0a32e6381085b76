/** The order of an evaluation's engine calls, and the seeds of its problems. */
import {strict as assert} from "node:assert";
import type {EvalProblem} from "../../src/eval/datasets.js";
import {planCalls, problemsPerCall} from "../../src/eval/plan.js";
import {unitSeed} from "../../src/eval/seeds.js";

const problems: EvalProblem[] = Array.from({length: 5}, (_, i) => ({id: `p${i}`, prompt: `P${i}`, grader: "math", reference: "1"}));
const ids = (calls: ReturnType<typeof planCalls>) => calls.map((call) => `${call.method}:${call.problems.map((p) => p.id).join(",")}`);

describe("evaluation plan", () => {
    it("puts as many problems in a call as fill --parallel sequences, at least one", () => {
        assert.equal(problemsPerCall("power", {samples: 4, particles: 16, parallel: 32}), 8);
        assert.equal(problemsPerCall("smc", {samples: 4, particles: 16, parallel: 32}), 1);
        assert.equal(problemsPerCall("standard", {samples: 64, particles: 16, parallel: 32}), 1);
    });

    it("lets the methods take turns as they go through the problems", () => {
        const calls = planCalls(problems, {methods: ["standard", "smc"], samples: 1, particles: 2, parallel: 4, done: () => false});
        assert.deepEqual(ids(calls), ["standard:p0,p1,p2,p3", "smc:p0,p1", "smc:p2,p3", "standard:p4", "smc:p4"]);
    });

    it("leaves out what is done", () => {
        const calls = planCalls(problems, {methods: ["power"], samples: 1, particles: 2, parallel: 2, done: (p) => p.id === "p1" || p.id === "p2"});
        assert.deepEqual(ids(calls), ["power:p0,p3", "power:p4"]);
    });

    it("seeds each problem and method from the run's seed, not from where they fall in the run", () => {
        const seed = unitSeed(42, "test/algebra/1.json", "power");
        assert.equal(unitSeed(42, "test/algebra/1.json", "power"), seed);
        assert.ok(Number.isInteger(seed) && seed >= 0 && seed < 2 ** 32);
        const others = [unitSeed(43, "test/algebra/1.json", "power"), unitSeed(42, "test/algebra/2.json", "power"), unitSeed(42, "test/algebra/1.json", "smc")];
        assert.equal(new Set([seed, ...others]).size, 4);
    });
});
