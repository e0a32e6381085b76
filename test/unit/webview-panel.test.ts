import {strict as assert} from "node:assert";
import {JSDOM} from "jsdom";
import {chooseAnswer, groupAlternatives} from "../../src/answers/group.js";
import type {ProgressNotification} from "../../src/protocol/backend.js";
import type {FromPanel, HistoryEntry, PanelChoices, RunInfo, ToPanel} from "../../src/protocol/panel.js";
import type {Method} from "../../src/protocol/params.js";
import type {SmcRun, SolvedSample, SolveResult} from "../../src/protocol/results.js";
import {startPanel, type VsCodeApi} from "../../src/webview/controller.js";
import {cardToFocus, intentOf, parseRef} from "../../src/webview/events.js";
import {
    alternativesOf, costMultiplier, formatRoughDuration, initialState, isToPanel, meanLogProb, reduce, remainingMs, restoreState,
    type ViewEvent, type ViewState
} from "../../src/webview/model.js";
import {render} from "../../src/webview/render.js";

// ---- fixtures ----------------------------------------------------------------------------------

const PROMPT = "What is 6 * 7? <img src=x onerror=alert(1)>";
const START = 1_000_000;

function info(overrides: Partial<RunInfo> = {}): RunInfo {
    return {
        runId: "run-1", method: "power", preset: "thorough", modelName: "tiny.gguf", mode: "auto", samples: 4, prompt: PROMPT, selectionLines: 0,
        estimate: {tokens: 12_000, ms: 90_000}, startedAt: START, ...overrides
    };
}

function alternative(text: string, logProb: number, tokenCount: number, changedOffsets: number[] = []): SolvedSample {
    const boxed = /\\boxed\{([^}]*)\}/.exec(text);
    return {text, tokens: [], finishReason: "eos", logProb, tokenCount, finalAnswer: boxed ? boxed[1]! : null, changedOffsets};
}

/** 4 alternatives in 2 groups: 42 three times (index 2 likeliest), 41 once. */
function result(method: Method = "power", overrides: Partial<SolveResult> = {}): SolveResult {
    const samples = [
        alternative("Six sevens are 42, so \\boxed{42}", -14.5, 100),
        alternative("Maybe \\boxed{41}", -20.25, 80),
        alternative("The answer is forty two\nso \\boxed{42}", -9.75, 120, [4, 14]),
        alternative("We get $6 \\cdot 7 = 42$, hence \\boxed{42}", -12, 100)
    ];
    const groups = groupAlternatives(samples, "math");
    return {
        method,
        params: {alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, samples: 4, particles: 16, resampleInterval: 16, essThreshold: 0.5,
            alphaRampTokens: 0, seed: 7, mode: "math"},
        samples, answerIndex: chooseAnswer(groups), groups,
        stats: {proposedTokens: 1600, mcmcSteps: 40, acceptedSteps: 10, acceptanceRate: 0.25, resamplings: 0, wallMs: 12_345, loadMs: 2100, queuedMs: 0, promptTokens: 30},
        ...overrides
    };
}

/** One SMC run: three distinct particles, two of them answering 42. */
function smcResult(): SolveResult {
    const run: SmcRun = {
        particles: [
            {origin: 3, copies: 9, weight: 0.6, text: "so \\boxed{42}", tokenCount: 5, finishReason: "eos", logProb: -3, finalAnswer: "42", answerWeight: 0.75},
            {origin: 1, copies: 4, weight: 0.25, text: "thus \\boxed{41}", tokenCount: 5, finishReason: "eos", logProb: -4, finalAnswer: "41", answerWeight: 0.25},
            {origin: 3, copies: 3, weight: 0.15, text: "hence \\boxed{42}", tokenCount: 5, finishReason: "eos", logProb: -5, finalAnswer: "42", answerWeight: 0.75}
        ],
        drawn: 0,
        ess: [{token: 16, ess: 12.5, resampled: false}, {token: 32, ess: 6.1, resampled: true}],
        logNormaliser: -2.5
    };
    const base = result("smc");
    const sample = alternative("so \\boxed{42}", -3, 5);
    return {...base, samples: [sample], answerIndex: 0, groups: groupAlternatives([sample], "math"), smc: [run],
        params: {...base.params, samples: 1}, stats: {...base.stats, mcmcSteps: 0, acceptedSteps: 0, acceptanceRate: null, resamplings: 1}};
}

function progress(texts: string[], overrides: Partial<ProgressNotification> = {}): ProgressNotification {
    return {jobId: "job", method: "power", texts, proposedTokens: 321, fraction: 0.25,
        power: {block: 2, blocks: 4, mcmcStep: 3, mcmcSteps: 10, acceptanceRate: 0.5}, ...overrides};
}

const CHOICES: PanelChoices = {
    modelName: "tiny.gguf", preset: "balanced", mode: "auto", samples: 1,
    presetEstimates: {fast: {tokens: 4096, ms: 8000}, balanced: {tokens: 16_384, ms: 30_000}, thorough: {tokens: 40_000, ms: null}, custom: {tokens: 1024, ms: null}}
};

function apply(events: ViewEvent[], state: ViewState = initialState): ViewState {
    return events.reduce(reduce, state);
}

type TestWindow = Window & typeof globalThis;

/** Windows made by a test, closed after it (a running run's panel keeps a timer). */
const windows: TestWindow[] = [];
afterEach(() => {
    for (const window of windows.splice(0)) window.close();
});

function dom(): {window: TestWindow; document: Document} {
    const jsdom = new JSDOM("<!DOCTYPE html><html><body><div id=\"app\" role=\"main\"></div></body></html>", {pretendToBeVisual: true});
    windows.push(jsdom.window as unknown as TestWindow);
    return {window: jsdom.window as unknown as TestWindow, document: jsdom.window.document};
}

function rendered(events: ViewEvent[], now = START + 10_000): Document {
    const {document} = dom();
    render(apply(events), document, now);
    return document;
}

const started = (overrides: Partial<RunInfo> = {}): ToPanel => ({type: "runStarted", run: info(overrides)});
const done = (runId = "run-1", method: Method = "power"): ToPanel => ({type: "result", runId, result: result(method)});

// ---- reducer -----------------------------------------------------------------------------------

describe("webview view model", () => {
    it("runStarted opens a running run", () => {
        const state = apply([started()]);
        assert.equal(state.runs.length, 1);
        assert.equal(state.runs[0]!.status, "running");
        assert.equal(state.runs[0]!.progress, null);
    });

    it("progress keeps the latest notification; unknown runs are ignored", () => {
        const first = apply([started(), {type: "progress", runId: "run-1", progress: progress(["a"])}]);
        const second = reduce(first, {type: "progress", runId: "run-1", progress: progress(["ab"])});
        assert.deepEqual(second.runs[0]!.progress!.texts, ["ab"]);
        assert.equal(reduce(second, {type: "progress", runId: "nope", progress: progress(["x"])}), second);
    });

    it("result ends the run; later progress and terminal messages change nothing", () => {
        const state = apply([started(), done()]);
        assert.equal(state.runs[0]!.status, "done");
        assert.equal(apply([{type: "progress", runId: "run-1", progress: progress(["x"])}, {type: "cancelled", runId: "run-1"},
            {type: "failed", runId: "run-1", message: "late"}], state), state);
    });

    it("failed keeps the message; cancelled keeps the partial progress", () => {
        const failed = apply([started(), {type: "failed", runId: "run-1", message: "model not found"}]);
        assert.equal(failed.runs[0]!.status, "error");
        assert.equal(failed.runs[0]!.error, "model not found");
        const cancelled = apply([started(), {type: "ui/stopRequested", runId: "run-1"},
            {type: "progress", runId: "run-1", progress: progress(["partial"])}, {type: "cancelled", runId: "run-1"}]);
        assert.equal(cancelled.runs[0]!.status, "stopped");
        assert.equal(cancelled.runs[0]!.stopRequested, false);
        assert.deepEqual(cancelled.runs[0]!.progress!.texts, ["partial"]);
    });

    it("a comparison run is added; a second one with the same method replaces it; a replayed runStarted keeps the run", () => {
        const state = apply([started(), done(), started({runId: "cmp-1", method: "standard"}), started({runId: "cmp-2", method: "low-temperature"}),
            started({runId: "cmp-3", method: "standard"})]);
        assert.deepEqual(state.runs.map((r) => r.info.runId), ["run-1", "cmp-3", "cmp-2"]);
        const replayed = reduce(state, started({selectionLines: 3}));
        assert.equal(replayed.runs[0]!.status, "done");
        assert.equal(replayed.runs[0]!.info.selectionLines, 3);
    });

    it("another problem, or the same problem solved again with the main method, starts over and drops the draft", () => {
        const state = apply([{type: "choices", choices: CHOICES}, started(), done(), started({runId: "cmp", method: "standard"}), {type: "ui/draft", draft: {samples: 8}}]);
        assert.equal(state.draft!.samples, 8);
        const fresh = reduce(state, started({runId: "new", prompt: "Another"}));
        assert.deepEqual(fresh.runs.map((r) => r.info.runId), ["new"]);
        assert.equal(fresh.draft, null);
        assert.deepEqual(reduce(state, started({runId: "again"})).runs.map((r) => r.info.runId), ["again"]);
    });

    it("the header's draft starts from the shown run's choices", () => {
        const state = apply([{type: "choices", choices: CHOICES}, started(), done(), {type: "ui/draft", draft: {preset: "fast"}}]);
        // The shown run was Thorough, 4 alternatives, and the result says maths mode.
        assert.deepEqual(state.draft, {preset: "fast", mode: "math", samples: 4});
    });

    it("a reopened run replaces the view, with its result or its partial text", () => {
        const state = apply([started(), done(), {type: "reopened", run: info({runId: "old"}), result: null, status: "stopped", partial: "so far"}]);
        assert.equal(state.runs.length, 1);
        assert.equal(state.runs[0]!.status, "stopped");
        assert.deepEqual(state.runs[0]!.progress!.texts, ["so far"]);
    });

    it("checks host messages and saved states", () => {
        assert.ok(isToPanel(started()));
        assert.ok(isToPanel(done()));
        assert.ok(isToPanel({type: "choices", choices: CHOICES}));
        assert.ok(!isToPanel({type: "progress", runId: "r", progress: {texts: [1], fraction: 0}}));
        assert.ok(!isToPanel({type: "runStarted", run: {runId: "r", method: "power", prompt: "p"}}), "a run without its estimate");
        assert.ok(!isToPanel({type: "evil"}));
        assert.ok(!isToPanel(null));
        assert.equal(restoreState(undefined), initialState);
        assert.equal(restoreState({version: 2, runs: [], history: []}), initialState, "a state saved by an older panel is not read");
        assert.equal(restoreState({version: 3, runs: [{info: {}}], history: []}), initialState);
        const state = apply([started(), done()]);
        assert.deepEqual(restoreState(JSON.parse(JSON.stringify(state))), state);
    });

    it("derived figures: cost multiplier (end tokens counted on both sides), mean log-likelihood, time left", () => {
        const r = result();
        assert.equal(costMultiplier(r), 1600 / (400 + 4), "4 texts of 400 tokens in all, each ended by an end token");
        assert.equal(costMultiplier({...r, stats: {...r.stats, proposedTokens: 404}}), 1, "standard sampling costs 1x");
        assert.equal(meanLogProb(r.samples), (-14.5 - 20.25 - 9.75 - 12) / 4);
        assert.equal(remainingMs(0.25, 10_000), 30_000);
        assert.equal(remainingMs(0.01, 10_000), null, "too little done to tell");
        assert.equal(formatRoughDuration(30_000), "about 30 s");
        assert.equal(formatRoughDuration(200_000), "about 3 min");
    });

    it("alternatives: samples in answer-group order with their group's share; one SMC run: its particles by answer weight", () => {
        const samples = alternativesOf(result());
        assert.deepEqual(samples.map((a) => a.ref), [2, 3, 0, 1].map((index) => ({kind: "sample", index})));
        assert.deepEqual(samples.map((a) => a.shareText), ["3 of 4", "3 of 4", "3 of 4", "1 of 4"]);
        assert.equal(samples.filter((a) => a.chosen).length, 1);
        const particles = alternativesOf(smcResult());
        assert.deepEqual(particles.map((a) => a.ref), [0, 2, 1].map((index) => ({kind: "particle", run: 0, index})));
        assert.deepEqual(particles.map((a) => a.shareText), ["75 % of the weight", "75 % of the weight", "25 % of the weight"]);
        assert.ok(particles[0]!.chosen, "the drawn particle");
    });
});

// ---- rendering ---------------------------------------------------------------------------------

describe("webview rendering", () => {
    it("leads with the answer and one action bar; alternatives as compact cards; How it got there collapsed", () => {
        const doc = rendered([{type: "choices", choices: CHOICES}, started(), done()]);
        const answer = doc.querySelector<HTMLElement>("#answer")!;
        assert.equal(answer.dataset.answer, "42");
        assert.equal(answer.dataset.ref, "sample:2", "the likeliest member of the largest group");
        assert.match(answer.querySelector(".consensus")!.textContent!, /3 of 4 alternatives reach this answer/);
        assert.deepEqual(Array.from(answer.querySelectorAll("button[data-action]")).map((b) => b.getAttribute("data-action")), ["insert", "replace", "copy", "diff"]);
        assert.equal(doc.querySelectorAll("#primary .actions").length, 1, "one action bar");
        const cards = Array.from(doc.querySelectorAll<HTMLElement>("#primary .cards[role=listbox] .alternative[role=option]"));
        assert.equal(cards.length, 4);
        assert.deepEqual(cards.map((c) => c.tabIndex), [0, -1, -1, -1], "one tab stop: the selected card");
        assert.equal(cards.filter((c) => c.querySelector(".badge")).length, 1);
        assert.equal(doc.querySelector<HTMLDetailsElement>("#how")!.open, false);
        assert.equal(doc.querySelector("#primary > .run-bar + * .answer, #primary .slot-answer #answer") !== null, true);
        assert.match(doc.querySelector("#status")!.textContent!, /^Done in 14 s$/);
    });

    it("selecting a card shows that alternative above, and the actions act on it", () => {
        const doc = rendered([started(), done(), {type: "ui/select", runId: "run-1", target: {kind: "sample", index: 1}}]);
        const answer = doc.querySelector<HTMLElement>("#answer")!;
        assert.equal(answer.dataset.answer, "41");
        assert.ok(Array.from(answer.querySelectorAll("button[data-action]")).every((b) => b.getAttribute("data-ref") === "sample:1"));
        assert.equal(doc.querySelector(".alternative[aria-selected=true]")!.getAttribute("data-ref"), "sample:1");
    });

    it("Replace and Diff say what they replace, and are off without a selection", () => {
        const without = rendered([started(), done()]);
        assert.equal(without.querySelector<HTMLButtonElement>("#answer [data-action=replace]")!.disabled, true);
        assert.equal(without.querySelector<HTMLButtonElement>("#answer [data-action=diff]")!.disabled, true);
        const withSelection = rendered([started({selectionLines: 3}), done()]);
        const replace = withSelection.querySelector<HTMLButtonElement>("#answer [data-action=replace]")!;
        assert.equal(replace.disabled, false);
        assert.equal(replace.textContent, "Replace selection (3 lines)");
    });

    it("a one-alternative run shows no alternatives and no consensus", () => {
        const single = result("standard", {samples: [alternative("x \\boxed{1}", -1, 3)], answerIndex: 0});
        const doc = rendered([started({samples: 1, method: "standard"}), {type: "result", runId: "run-1", result: {...single, groups: groupAlternatives(single.samples, "math")}}]);
        assert.equal(doc.querySelector(".cards"), null);
        assert.equal(doc.querySelector(".consensus"), null);
        assert.ok(doc.querySelector("#answer"));
    });

    it("one SMC run offers its particles as the alternatives, and shows them with the ESS in How it got there", () => {
        const doc = rendered([started({method: "smc", samples: 1}), {type: "result", runId: "run-1", result: smcResult()}]);
        assert.deepEqual(Array.from(doc.querySelectorAll(".cards .alternative")).map((c) => c.getAttribute("data-ref")), ["particle:0:0", "particle:0:2", "particle:0:1"]);
        assert.match(doc.querySelector("#answer .consensus")!.textContent!, /75 % of the weight of the particles' weight/);
        const how = doc.querySelector("#how")!;
        assert.equal(how.querySelectorAll(".smc-run li.particle").length, 3);
        assert.equal(how.querySelectorAll("svg.ess-plot circle.resampled").length, 1);
        assert.match(how.textContent!, /1 \(each when the effective sample size fell below 0.5 × 16\)/);
    });

    it("How it got there: honest numbers for MH, and the compare buttons", () => {
        const doc = rendered([started(), done()]);
        const how = doc.querySelector("#how")!;
        assert.match(how.textContent!, /10 of 40 accepted \(25 %\)/);
        assert.match(how.textContent!, /4\.0× the 404 tokens standard sampling would draw for these 4 texts \(end tokens counted on both sides\)/);
        assert.match(how.textContent!, /12 s sampling, 2\.1 s loading the model/);
        assert.doesNotMatch(how.textContent!, /queued/, "no queue time worth mentioning");
        assert.deepEqual(Array.from(how.querySelectorAll("[data-compare]")).map((b) => b.getAttribute("data-compare")), ["low-temperature", "standard", "smc"]);
        assert.ok(how.querySelector("svg.logp-plot .dot.chosen"));
    });

    it("while running: the estimate, progress with ETA, the stream, Stop; no answer yet", () => {
        const before = rendered([started()]);
        assert.match(before.querySelector(".estimate")!.textContent!, /Estimated: about 12k tokens, about 2 min/);
        assert.match(before.querySelector("#status")!.textContent!, /Running · starting/);
        const doc = rendered([started(), {type: "progress", runId: "run-1", progress: progress(["Six *sevens*"])}], START + 10_000);
        assert.equal(doc.querySelector("#status")!.textContent, "Running · 25 % · about 30 s left");
        assert.ok(doc.querySelector("#stop"));
        assert.equal(doc.querySelector("#stream em")!.textContent, "sevens");
        assert.match(doc.querySelector(".progress-facts")!.textContent!, /Block2\/4/);
        assert.match(doc.querySelector(".progress-facts")!.textContent!, /Tokens drawn321 of about 12k/);
        assert.equal(doc.querySelector("#answer"), null);
        assert.equal(doc.querySelector("#how"), null);
    });

    it("a stopped run is a normal end: its partial text keeps its actions", () => {
        const doc = rendered([started(), {type: "progress", runId: "run-1", progress: progress(["The answer so far"])}, {type: "cancelled", runId: "run-1"}]);
        assert.equal(doc.querySelector("#status")!.textContent, "Stopped");
        const answer = doc.querySelector<HTMLElement>("#answer")!;
        assert.equal(answer.dataset.ref, "partial");
        assert.match(answer.textContent!, /The answer so far/);
        assert.ok(answer.querySelector("button[data-action=insert][data-ref=partial]"));
        assert.equal(doc.querySelector("#error"), null);
    });

    it("shows an error box on failure", () => {
        const doc = rendered([started(), {type: "failed", runId: "run-1", message: "model file not found: /x.gguf"}]);
        assert.equal(doc.querySelector("#error .error-message")!.textContent, "model file not found: /x.gguf");
        assert.equal(doc.querySelector("#status")!.textContent, "Error");
    });

    it("the header: presets with their estimates, mode, alternatives, model, Run again", () => {
        const doc = rendered([{type: "choices", choices: CHOICES}, started(), done()]);
        const options = Array.from(doc.querySelectorAll<HTMLOptionElement>("select[data-choice=preset] option")).map((o) => o.textContent);
        assert.deepEqual(options, ["Fast · about 4.1k tokens, a few seconds", "Balanced · about 16k tokens, about 30 s", "Thorough · about 40k tokens", "Custom · about 1.0k tokens"]);
        assert.equal(doc.querySelector<HTMLSelectElement>("select[data-choice=preset]")!.value, "thorough", "the shown run's preset");
        assert.equal(doc.querySelector<HTMLSelectElement>("select[data-choice=mode]")!.value, "math", "the mode the result was built in");
        assert.equal(doc.querySelector<HTMLSelectElement>("select[data-choice=samples]")!.value, "4");
        assert.match(doc.querySelector(".panel-header .meta")!.textContent!, /Maths prompt mode \(auto\)/);
        assert.ok(doc.querySelector("[data-action=runAgain]"));
        assert.equal(doc.querySelector("[data-action=selectModel]")!.textContent, "Model: tiny.gguf");
    });

    it("the history lists the workspace's runs, the shown one marked", () => {
        const entries: HistoryEntry[] = [
            {runId: "run-1", prompt: "What is 6 * 7?", method: "power", answer: "42", status: "done", finishedAt: START, wallMs: 12_000},
            {runId: "old", prompt: "Earlier problem", method: "smc", answer: null, status: "stopped", finishedAt: START - 1000, wallMs: 3000}
        ];
        const doc = rendered([started(), done(), {type: "history", entries}]);
        const buttons = Array.from(doc.querySelectorAll<HTMLButtonElement>("#history button[data-reopen]"));
        assert.deepEqual(buttons.map((b) => b.dataset.reopen), ["run-1", "old"]);
        assert.equal(buttons[0]!.disabled, true, "the shown run");
        assert.match(doc.querySelector("#history")!.textContent!, /Power-SMC · Stopped/);
    });

    it("renders hostile model text as text: no img or script elements anywhere", () => {
        const evil = "<img src=x onerror=alert(1)> <script>alert(1)</script>";
        const hostile = result();
        const samples = hostile.samples.map((a, i) => ({...a, text: `${evil}\n\n${a.text}`, finalAnswer: i === hostile.answerIndex ? evil : a.finalAnswer}));
        const r: SolveResult = {...hostile, samples};
        for (const events of [
            [started(), {type: "progress", runId: "run-1", progress: progress([evil])} as ToPanel],
            [started(), {type: "result", runId: "run-1", result: r} as ToPanel],
            [started(), {type: "result", runId: "run-1", result: r} as ToPanel, {type: "ui/textView", runId: "run-1", view: "raw"} as ViewEvent]
        ]) {
            const doc = rendered(events);
            assert.equal(doc.querySelectorAll("img, script, iframe, [onerror]").length, 0);
            assert.ok(doc.body.textContent!.includes("<img src=x onerror=alert(1)>"));
        }
    });

    it("renders maths in the final text with KaTeX", () => {
        const doc = rendered([started(), done()]);
        const full = doc.querySelector("#answer .answer-text")!;
        assert.ok(full.textContent!.includes("forty two"));
        assert.equal(full.querySelector("annotation")!.textContent, "\\boxed{42}", "a bare \\boxed{} is maths too");
        assert.ok(doc.querySelector(".alternative .katex"), "card answers in KaTeX");
    });

    it("marks the places accepted MCMC moves rewrote, and says how many: as many as it marks", () => {
        const doc = rendered([started(), done(), {type: "ui/textView", runId: "run-1", view: "raw"}]);
        const marks = Array.from(doc.querySelectorAll("#answer pre.raw-text mark.changed"));
        assert.deepEqual(marks.map((m) => m.textContent), ["answer", "forty"]);
        assert.match(doc.querySelector("#answer .full-text")!.textContent!, /2 marked places/);
        assert.match(doc.querySelector("#answer .alt-stats")!.textContent!, /rewritten places2/);
    });

    it("shows comparison runs side by side with their summaries", () => {
        const doc = rendered([started(), done(), started({runId: "cmp", method: "standard"}),
            {type: "result", runId: "cmp", result: result("standard", {stats: {...result().stats, proposedTokens: 404}})}]);
        const compare = doc.querySelector<HTMLElement>("#compare")!;
        assert.equal(compare.hidden, false);
        const columns = Array.from(compare.querySelectorAll<HTMLElement>(".run"));
        assert.deepEqual(columns.map((c) => c.dataset.method), ["power", "standard"]);
        for (const column of columns) {
            assert.equal(column.querySelector(".answer")!.getAttribute("data-answer"), "42");
            assert.match(column.textContent!, /Mean log p−14\.13/);
            assert.match(column.textContent!, /Agreement3 of 4/);
        }
        assert.match(columns[1]!.textContent!, /404 \(1\.0×\)/);
        assert.equal(doc.querySelectorAll("#answer").length, 1);
    });

    it("re-renders only what changed and keeps focus across streaming updates", () => {
        const {window, document} = dom();
        let state = apply([started({selectionLines: 2}), done(), started({runId: "cmp", method: "standard"})]);
        render(state, document, START);
        const card = document.querySelector<HTMLElement>("#primary .alternative[tabindex='0']")!;
        card.focus();
        const answer = document.querySelector("#answer");
        for (let i = 0; i < 5; i++) {
            state = reduce(state, {type: "progress", runId: "cmp", progress: progress([`text ${i}`])});
            render(state, document, START + i);
        }
        assert.equal(document.querySelector("#answer"), answer, "the main run's answer was not rebuilt");
        assert.equal(document.activeElement, card);
        assert.ok(window);
    });

    it("streams by patching: unchanged Markdown blocks keep their elements, the changed one is rebuilt", () => {
        const {document} = dom();
        let state = apply([started(), {type: "progress", runId: "run-1", progress: progress(["First paragraph.\n\nSecond"])}]);
        render(state, document);
        const first = document.querySelector("#stream .md-block")!;
        state = reduce(state, {type: "progress", runId: "run-1", progress: progress(["First paragraph.\n\nSecond, longer"])});
        render(state, document);
        const blocks = document.querySelectorAll("#stream .md-block");
        assert.equal(blocks[0], first);
        assert.equal(blocks[1]!.textContent!.trim(), "Second, longer");
    });

    it("shows the problem as text, and a hint when there is no run", () => {
        const empty = rendered([]);
        assert.match(empty.querySelector(".empty")!.textContent!, /Solve with Power Sampling/);
        const doc = rendered([started()]);
        assert.equal(doc.querySelector("pre.prompt-text")!.textContent, PROMPT);
        assert.equal(doc.querySelectorAll("img").length, 0);
    });
});

// ---- controller ----------------------------------------------------------------------------------

class FakeApi implements VsCodeApi {
    readonly posted: FromPanel[] = [];
    saved: unknown;
    constructor(initial?: unknown) {
        this.saved = initial;
    }
    postMessage(message: FromPanel): void {
        this.posted.push(message);
    }
    getState(): unknown {
        return this.saved;
    }
    setState(state: unknown): void {
        this.saved = state;
    }
}

function started$(events: ViewEvent[]): {window: TestWindow; document: Document; api: FakeApi; flush: () => void} {
    const {window, document} = dom();
    const api = new FakeApi();
    const controller = startPanel(window, api);
    for (const event of events) controller.dispatch(event);
    controller.flush();
    return {window, document, api, flush: controller.flush};
}

describe("webview controller", () => {
    it("posts ready, applies host messages, saves the state after each", () => {
        const {api, document} = started$([started(), done()]);
        assert.deepEqual(api.posted[0], {type: "ready"});
        assert.equal((api.saved as ViewState).runs[0]!.status, "done");
        assert.ok(document.querySelector("#answer"));
    });

    it("restores the whole view from getState after a reload", () => {
        const first = started$([started(), done(), {type: "ui/select", runId: "run-1", target: {kind: "sample", index: 1}}]);
        const {window, document} = dom();
        startPanel(window, new FakeApi(first.api.saved));
        assert.equal(document.querySelector<HTMLElement>("#answer")!.dataset.answer, "41");
    });

    it("the controls post the right messages", () => {
        const {document, api, flush} = started$([{type: "choices", choices: CHOICES}, started({selectionLines: 1, preset: "balanced"}), done()]);
        const click = (selector: string) => document.querySelector<HTMLElement>(selector)!.click();
        click("#answer [data-action=insert]");
        click("#answer [data-action=diff]");
        click("[data-compare=smc]");
        click("[data-follow=thorough]");
        const preset = document.querySelector<HTMLSelectElement>("select[data-choice=preset]")!;
        preset.value = "fast";
        preset.dispatchEvent(new document.defaultView!.Event("change", {bubbles: true}));
        flush();
        click("[data-action=runAgain]");
        click("[data-action=selectModel]");
        assert.deepEqual(api.posted.slice(1), [
            {type: "action", action: "insert", runId: "run-1", target: {kind: "sample", index: 2}},
            {type: "action", action: "diff", runId: "run-1", target: {kind: "sample", index: 2}},
            {type: "compare", method: "smc"},
            {type: "followUp", kind: "thorough", runId: "run-1"},
            {type: "runAgain", preset: "fast", mode: "math", samples: 4},
            {type: "selectModel"}
        ]);
    });

    it("a stopped run's action sends its partial text along", () => {
        const {document, api} = started$([started(), {type: "progress", runId: "run-1", progress: progress(["so far"])}, {type: "cancelled", runId: "run-1"}]);
        document.querySelector<HTMLElement>("#answer [data-action=copy]")!.click();
        assert.deepEqual(api.posted.at(-1), {type: "action", action: "copy", runId: "run-1", target: {kind: "partial"}, text: "so far"});
    });

    it("Stop posts stop and shows Stopping… at once", () => {
        const {document, api, flush} = started$([started()]);
        document.querySelector<HTMLElement>("#stop")!.click();
        flush();
        assert.deepEqual(api.posted.at(-1), {type: "stop", runId: "run-1"});
        assert.equal(document.querySelector("#stop")!.textContent, "Stopping…");
    });

    it("arrow keys move the selection through the cards; focus follows, the answer above changes", () => {
        const {document, window} = started$([started(), done()]);
        const first = document.querySelector<HTMLElement>(".alternative[tabindex='0']")!;
        first.focus();
        first.dispatchEvent(new window.KeyboardEvent("keydown", {key: "ArrowDown", bubbles: true}));
        const focused = document.activeElement as HTMLElement;
        assert.equal(focused.dataset.ref, "sample:3");
        assert.equal(focused.tabIndex, 0);
        assert.equal(document.querySelector<HTMLElement>("#answer")!.dataset.ref, "sample:3");
        focused.dispatchEvent(new window.KeyboardEvent("keydown", {key: "End", bubbles: true}));
        assert.equal((document.activeElement as HTMLElement).dataset.ref, "sample:1");
    });

    it("clicking a card selects it", () => {
        const {document, flush} = started$([started(), done()]);
        document.querySelector<HTMLElement>(".alternative[data-ref='sample:1'] .card-line")!.click();
        flush();
        assert.equal(document.querySelector<HTMLElement>("#answer")!.dataset.answer, "41");
    });

    it("events read references and card keys without a state change", () => {
        assert.deepEqual(parseRef("particle:0:2"), {kind: "particle", run: 0, index: 2});
        assert.equal(parseRef("nonsense"), null);
        const {document} = dom();
        render(apply([started(), done()]), document);
        assert.equal(cardToFocus(document.querySelector(".alternative"), "x"), null);
        assert.equal(intentOf(document.body, initialState), null);
    });
});
