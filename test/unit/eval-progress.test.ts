/** The evaluation's progress: each call weighted by its method's measured cost, and the time left at the pace so far. */
import {strict as assert} from "node:assert";
import {formatDuration} from "../../src/protocol/figures.js";
import {CallProgress} from "../../src/eval/harness.js";
import type {EvalCall} from "../../src/eval/plan.js";
import {remainingMs} from "../../src/cli/progress.js";

const problem = (id: string) => ({id, prompt: id, grader: "math" as const, reference: "1"});

describe("evaluation progress", () => {
    it("weighs calls by what their method has cost per sample so far", () => {
        const calls: EvalCall[] = [
            {method: "standard", problems: [problem("a"), problem("b")]}, {method: "power", problems: [problem("a"), problem("b")]},
            {method: "standard", problems: [problem("c")]}, {method: "power", problems: [problem("c")]}
        ];
        const progress = new CallProgress(calls, 2);
        assert.equal(progress.fraction(0), 0);
        assert.equal(progress.fraction(0.5), 2 / 12, "before any measurement every sample counts alike");
        progress.callDone(400); // standard: 100 ms a sample
        assert.equal(progress.fraction(0), 400 / 1200, "power, unmeasured, counts as the mean of what is measured");
        progress.callDone(3600); // power: 900 ms a sample
        // Weights: standard 2 * 2 * 100, power 2 * 2 * 900, standard 2 * 100, power 2 * 900.
        assert.ok(Math.abs(progress.fraction(0) - 4000 / 6000) < 1e-12);
        assert.ok(Math.abs(progress.fraction(0.5) - 4100 / 6000) < 1e-12);
        progress.callDone(200);
        progress.callDone(1800);
        assert.equal(progress.fraction(0), 1);
    });

    it("estimates the time left once enough is done, and says so otherwise", () => {
        assert.equal(remainingMs(10_000, 0.25), 30_000);
        assert.equal(remainingMs(1_000, 0.5), null, "too early");
        assert.equal(remainingMs(60_000, 0.001), null, "too little done");
        assert.equal(remainingMs(5_000, 1), 0);
    });

    it("formats durations at the precision that matters", () => {
        assert.deepEqual([350, 12_340, 245_000, 7_620_000].map(formatDuration), ["350 ms", "12 s", "4 min 5 s", "2 h 7 min"]);
    });
});
