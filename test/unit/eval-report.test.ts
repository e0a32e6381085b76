/** report.html: one self-contained page, no scripts, charts for every method, text escaped. */
import {strict as assert} from "node:assert";
import {JSDOM} from "jsdom";
import {METHOD_COLOURS, renderReport} from "../../src/eval/report.js";
import type {EvalSummary, MethodSummary} from "../../src/eval/summary.js";

function figures(accuracy: number, tokens: number, samples: number): MethodSummary {
    return {
        accuracy, accuracyInterval: {low: accuracy / 2, high: Math.min(1, accuracy * 1.5)},
        passAtK: Object.fromEntries(Array.from({length: samples}, (_, k) => [String(k + 1), 1 - (1 - accuracy) ** (k + 1)])),
        majorityAccuracy: accuracy, tokensPerProblem: tokens, wallMsPerProblem: tokens * 3, tokensPerSample: 100, noAnswerRate: 0.1, cutRate: 0.05
    };
}

function summary(samples: number, dataset = "math500"): EvalSummary {
    return {
        dataset, datasetFile: "/data/MATH500.json", format: "math500", problems: 500, samples, model: "/models/qwen <7B>.gguf", mode: "raw", seed: 3,
        params: {alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 3072, particles: 16, resampleInterval: 16, essThreshold: 0.5, alphaRampTokens: 0},
        methods: {
            power: {...figures(0.748, 6000, samples), costVsStandard: {tokens: 8.8, wallTime: 7.1}},
            smc: {...figures(0.73, 11000, samples), weightVoteAccuracy: 0.75},
            "low-temperature": figures(0.69, 680, samples),
            standard: {...figures(0.496, 680, samples), costVsStandard: {tokens: 1, wallTime: 1}}
        }
    };
}

function parse(html: string): Document {
    return new JSDOM(html).window.document;
}

describe("evaluation report", () => {
    const html = renderReport(summary(8));
    const document = parse(html);

    it("names the dataset file in the title, and only the parameters of the methods that ran", () => {
        assert.equal(document.querySelector("h1")!.textContent, "Evaluation: math500");
        const all = document.querySelector(".meta")!.textContent!;
        assert.match(all, /dataset \/data\/MATH500\.json/);
        assert.match(all, /α 4, block 192, 10 MH steps, 16 particles \(resample every 16, ESS < 0\.5\), max 3072 tokens/);
        const {power: _power, smc: _smc, ...direct} = summary(8).methods;
        const plain = parse(renderReport({...summary(8, "/data/gsm8k-test.jsonl"), methods: {standard: direct.standard}}));
        assert.equal(plain.querySelector("h1")!.textContent, "Evaluation: gsm8k-test.jsonl");
        const meta = plain.querySelector(".meta")!.textContent!;
        assert.match(meta, /max 3072 tokens/);
        assert.doesNotMatch(meta, /α|block|particles/);
    });

    it("is one page with nothing to run and nothing to fetch", () => {
        assert.equal(document.querySelectorAll("script").length, 0);
        assert.doesNotMatch(html, /\b(src|href)=/);
        assert.doesNotMatch(html, /url\(/);
        const policy = document.querySelector("meta[http-equiv='Content-Security-Policy']")!.getAttribute("content")!;
        assert.match(policy, /default-src 'none'/);
        assert.doesNotMatch(policy, /script-src/);
    });

    it("draws accuracy with intervals, pass@k curves and accuracy against tokens, every method in each", () => {
        const charts = [...document.querySelectorAll("svg")];
        assert.deepEqual(charts.map((chart) => chart.getAttribute("aria-label")),
            ["Accuracy per method with 95 % intervals", "pass@k per method", "Accuracy against tokens drawn per problem"]);
        for (const chart of charts) {
            for (const [method, colour] of Object.entries(METHOD_COLOURS).filter(([method]) => method !== "greedy")) {
                assert.ok(chart.textContent!.includes(method), `${chart.getAttribute("aria-label")} names ${method}`);
                assert.ok(chart.innerHTML.includes(colour), `${chart.getAttribute("aria-label")} draws ${method} in ${colour}`);
            }
        }
        assert.equal(charts[1]!.querySelectorAll("polyline").length, 4);
        assert.equal(charts[1]!.querySelectorAll("circle").length, 4 * 8);
        assert.match(charts[0]!.textContent!, /74\.8 % \(37\.4 %–100\.0 %\)/);
    });

    it("places bars and points by value: a better method's bar is longer, a costlier one's point further right", () => {
        const bar = (method: string) => [...document.querySelectorAll("svg")[0]!.querySelectorAll("g")]
            .find((g) => g.querySelector("text")!.textContent === method)!.querySelector("rect")!;
        assert.ok(Number(bar("power").getAttribute("width")) > Number(bar("standard").getAttribute("width")));
        const point = (method: string) => [...document.querySelectorAll("svg")[2]!.querySelectorAll("g")]
            .find((g) => g.querySelector("text")!.textContent === method)!.querySelector("circle")!;
        assert.ok(Number(point("smc").getAttribute("cx")) > Number(point("power").getAttribute("cx")));
        assert.ok(Number(point("power").getAttribute("cx")) > Number(point("standard").getAttribute("cx")));
        assert.ok(Number(point("power").getAttribute("cy")) < Number(point("standard").getAttribute("cy")), "higher accuracy is higher up");
    });

    it("tabulates the figures, with the cost against standard decoding", () => {
        const rows = [...document.querySelectorAll("tbody tr")].map((row) => [...row.querySelectorAll("td")].map((cell) => cell.textContent));
        assert.deepEqual(rows.map((row) => row[0]), ["power", "smc", "low-temperature", "standard"]);
        assert.deepEqual(rows[0]!.slice(1, 3), ["74.8 %", "37.4 %–100.0 %"]);
        assert.equal(rows[0]![8], "8.80x, 7.10x");
        assert.equal(rows[1]![5], "75.0 %", "smc's weight vote");
        assert.equal(rows[2]![5], "–");
    });

    it("escapes what the user named", () => {
        const named = parse(renderReport(summary(2, "<img onerror=x>&co")));
        assert.equal(named.querySelector("h1")!.textContent, "Evaluation: <img onerror=x>&co");
        assert.equal(named.querySelectorAll("img").length, 0);
        assert.match(named.querySelector(".meta")!.textContent!, /model \/models\/qwen <7B>\.gguf/);
    });

    it("says pass@k needs several samples when there is one per problem", () => {
        const single = parse(renderReport(summary(1)));
        assert.equal(single.querySelectorAll("svg").length, 2);
        assert.match(single.body.textContent!, /pass@k needs more than one sample per problem/);
    });
});
