import {strict as assert} from "node:assert";
import {JSDOM} from "jsdom";
import {chooseAnswer, groupAlternatives} from "../../src/answers/group.js";
import type {ProgressNotification} from "../../src/protocol/backend.js";
import type {Method} from "../../src/protocol/params.js";
import type {SolvedSample, SolveResult} from "../../src/protocol/results.js";
import {startPanel, type VsCodeApi} from "../../src/webview/controller.js";
import {cardToFocus, intentOf} from "../../src/webview/events.js";
import type {FromPanel, RunInfo, ToPanel} from "../../src/protocol/panel.js";
import {
    costMultiplier, formatShare, initialState, isToPanel, meanLogProb, reduce, restoreState, type ViewEvent, type ViewState
} from "../../src/webview/model.js";
import {render} from "../../src/webview/render.js";

// ---- fixtures ----------------------------------------------------------------------------------

const PROMPT = "What is 6 * 7? <img src=x onerror=alert(1)>";

function info(overrides: Partial<RunInfo> = {}): RunInfo {
    return {runId: "run-1", method: "power", modelName: "tiny.gguf", mode: "math", samples: 4, prompt: PROMPT, hasSelection: false, ...overrides};
}

function alternative(text: string, logProb: number, tokenCount: number, changedOffsets: number[] = []): SolvedSample {
    const boxed = /\\boxed\{([^}]*)\}/.exec(text);
    return {text, tokens: [], finishReason: "eos", logProb, tokenCount, finalAnswer: boxed ? boxed[1]! : null, changedOffsets};
}

/** 4 alternatives in 2 groups: 42 three times (index 2 likeliest), 41 once. */
function result(method: Method = "power", overrides: Partial<SolveResult> = {}): SolveResult {
    const alternatives = [
        alternative("Six sevens are 42, so \\boxed{42}", -14.5, 100),
        alternative("Maybe \\boxed{41}", -20.25, 80),
        alternative("The answer is forty two\nso \\boxed{42}", -9.75, 120, [4, 14]),
        alternative("We get $6 \\cdot 7 = 42$, hence \\boxed{42}", -12, 100)
    ];
    const groups = groupAlternatives(alternatives, "math");
    const answerIndex = chooseAnswer(groups);
    return {
        method,
        params: {alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, samples: 4, particles: 16, resampleInterval: 16, essThreshold: 0.5,
            alphaRampTokens: 0, seed: 7, mode: "math"},
        samples: alternatives, answerIndex, groups,
        stats: {proposedTokens: 1600, mcmcSteps: 40, acceptedSteps: 10, acceptanceRate: 0.25, resamplings: 0, wallMs: 12_345, loadMs: 2100, queuedMs: 0, promptTokens: 30},
        ...overrides
    };
}

function progress(texts: string[], overrides: Partial<ProgressNotification> = {}): ProgressNotification {
    return {jobId: "job", method: "power", texts, proposedTokens: 321, fraction: 0.3,
        power: {block: 2, blocks: 4, mcmcStep: 3, mcmcSteps: 10, acceptanceRate: 0.5}, ...overrides};
}

function apply(events: ViewEvent[], state: ViewState = initialState): ViewState {
    return events.reduce(reduce, state);
}

type TestWindow = Window & typeof globalThis;

function dom(): {window: TestWindow; document: Document} {
    const jsdom = new JSDOM("<!DOCTYPE html><html><body><div id=\"app\" role=\"main\"></div></body></html>", {pretendToBeVisual: true});
    return {window: jsdom.window as unknown as TestWindow, document: jsdom.window.document};
}

function rendered(events: ViewEvent[]): Document {
    const {document} = dom();
    render(apply(events), document);
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
        assert.equal(state.runs[0]!.result!.samples[state.runs[0]!.result!.answerIndex]!.finalAnswer, "42");
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
        const replayed = reduce(state, started({hasSelection: true}));
        assert.equal(replayed.runs[0]!.status, "done");
        assert.equal(replayed.runs[0]!.info.hasSelection, true);
    });

    it("another problem, or the same problem solved again with the main method, starts over", () => {
        const state = apply([started(), done(), started({runId: "cmp", method: "standard"})]);
        assert.deepEqual(reduce(state, started({runId: "new", prompt: "Another"})).runs.map((r) => r.info.runId), ["new"]);
        assert.deepEqual(reduce(state, started({runId: "again"})).runs.map((r) => r.info.runId), ["again"]);
    });

    it("UI events: the streamed chain, the text view, a stop request", () => {
        const state = apply([started(), {type: "ui/selectChain", runId: "run-1", chain: 2}, {type: "ui/textView", runId: "run-1", view: "raw"},
            {type: "ui/stopRequested", runId: "run-1"}]);
        assert.equal(state.runs[0]!.chain, 2);
        assert.equal(state.runs[0]!.textView, "raw");
        assert.equal(state.runs[0]!.stopRequested, true);
    });

    it("checks host messages and saved states", () => {
        assert.ok(isToPanel(started()));
        assert.ok(isToPanel(done()));
        assert.ok(!isToPanel({type: "progress", runId: "r", progress: {texts: [1], fraction: 0}}));
        assert.ok(!isToPanel({type: "evil"}));
        assert.ok(!isToPanel(null));
        assert.equal(restoreState(undefined), initialState);
        assert.equal(restoreState({version: 1, runs: []}), initialState, "a state saved by an older panel is not read");
        assert.equal(restoreState({version: 2, runs: [{info: {}}]}), initialState);
        const state = apply([started(), done()]);
        assert.deepEqual(restoreState(JSON.parse(JSON.stringify(state))), state);
    });

    it("derived figures: cost multiplier (end tokens counted on both sides), mean log-likelihood, share", () => {
        const r = result();
        assert.equal(costMultiplier(r), 1600 / (400 + 4), "4 texts of 400 tokens in all, each ended by an end token");
        assert.equal(costMultiplier({...r, stats: {...r.stats, proposedTokens: 404}}), 1, "standard sampling costs 1x");
        assert.equal(meanLogProb(r.samples), (-14.5 - 20.25 - 9.75 - 12) / 4);
        assert.equal(formatShare(3, 4), "3/4 · 75 %");
    });
});

// ---- rendering ---------------------------------------------------------------------------------

describe("webview rendering", () => {
    it("shows a result: answer on top, 4 alternatives in 2 groups with counts and shares, buttons", () => {
        const doc = rendered([started(), done()]);
        assert.equal(doc.querySelector("#status")!.textContent, "Done");
        const answer = doc.querySelector("#answer")!;
        assert.equal(answer.getAttribute("data-answer"), "42");
        assert.ok(answer.textContent!.includes("42"));
        assert.ok(answer.querySelector(".katex"), "the boxed answer is rendered as maths");
        assert.ok(answer.querySelector(".full-text")!.textContent!.includes("The answer is forty two"));

        const groups = Array.from(doc.querySelectorAll("#primary .group"));
        assert.equal(groups.length, 2);
        assert.deepEqual(groups.map((g) => g.querySelector(".share")!.textContent), ["3/4 · 75 %", "1/4 · 25 %"]);
        assert.deepEqual(groups.map((g) => g.querySelectorAll(".alternative").length), [3, 1]);

        const cards = Array.from(doc.querySelectorAll<HTMLElement>("#primary .alternative"));
        assert.deepEqual(cards.map((c) => c.dataset.index).sort(), ["0", "1", "2", "3"]);
        assert.equal(doc.querySelector(".alternative.chosen")!.getAttribute("data-index"), "2");
        for (const card of cards) {
            const button = (action: string) => card.querySelector<HTMLButtonElement>(`button[data-action="${action}"]`)!;
            assert.equal(button("insert").disabled, false);
            assert.equal(button("copy").disabled, false);
            assert.equal(button("replace").disabled, true, "no selection: replace disabled");
            assert.equal(button("diff").disabled, true, "no selection: diff disabled");
            assert.ok(button("insert").getAttribute("aria-label"));
            assert.ok(card.textContent!.includes("log p"));
        }
        assert.ok(doc.querySelector("[data-rerun=\"low-temperature\"]"));
        assert.ok(doc.querySelector("[data-rerun=\"standard\"]"));
        assert.equal(doc.querySelector("#stop"), null);
        assert.equal(doc.querySelector("#stream"), null);
        assert.equal(doc.querySelector("#error"), null);
    });

    it("enables replace and diff when the run had a selection", () => {
        const doc = rendered([started({hasSelection: true}), done()]);
        const buttons = Array.from(doc.querySelectorAll<HTMLButtonElement>("button[data-action=\"replace\"], button[data-action=\"diff\"]"));
        assert.equal(buttons.length, 10); // 4 cards and the answer block, two each
        assert.ok(buttons.every((b) => !b.disabled));
    });

    it("explains how it got there: acceptance, cost multiplier, times, and a plot with the chosen one marked", () => {
        const how = rendered([started(), done()]).querySelector(".how")!;
        const text = how.textContent!;
        assert.match(text, /25 % \(10 of 40 MCMC steps\)/);
        assert.match(text, /1,600/);
        assert.match(text, /4\.0×/);
        assert.match(text, /12\.3 s/);
        assert.match(text, /2\.10 s/);
        const dots = how.querySelectorAll("svg.logp-plot g.dot");
        assert.equal(dots.length, 4);
        assert.equal(how.querySelector("g.dot.chosen")!.getAttribute("data-index"), "2");
    });

    it("streams the chain while running, with block, step, acceptance and tokens, and a Stop button", () => {
        const doc = rendered([started(), {type: "progress", runId: "run-1", progress: progress(["Let us compute $6 \\cdot 7$ now", "other chain"])}]);
        assert.equal(doc.querySelector("#status")!.textContent, "Running");
        assert.ok(doc.querySelector("#stream")!.textContent!.includes("Let us compute"));
        assert.ok(doc.querySelector("#stream .katex"));
        const facts = doc.querySelector(".progress-facts")!.textContent!;
        for (const part of ["2/4", "3/10", "50 %", "321"]) assert.ok(facts.includes(part), `${part} in ${facts}`);
        assert.ok(doc.querySelector("#stop"));
        assert.equal(doc.querySelectorAll(".chain-picker button").length, 2);
        assert.equal(doc.querySelector("[data-rerun]"), null, "no re-run while running");
    });

    it("streams the chain the user picked", () => {
        const doc = rendered([started(), {type: "progress", runId: "run-1", progress: progress(["first", "second"])},
            {type: "ui/selectChain", runId: "run-1", chain: 1}]);
        assert.ok(doc.querySelector("#stream")!.textContent!.includes("second"));
        assert.equal(doc.querySelector(".chain-picker button[aria-pressed=\"true\"]")!.getAttribute("data-chain"), "1");
    });

    it("shows an error box on failure, and Stopped with the partial text on cancel", () => {
        const failed = rendered([started(), {type: "failed", runId: "run-1", message: "model <b>missing</b>"}]);
        assert.equal(failed.querySelector("#status")!.textContent, "Error");
        assert.equal(failed.querySelector("#error")!.getAttribute("role"), "alert");
        assert.ok(failed.querySelector("#error")!.textContent!.includes("model <b>missing</b>"));
        assert.equal(failed.querySelectorAll("b").length, 0);

        const stopped = rendered([started(), {type: "progress", runId: "run-1", progress: progress(["half an answer"])}, {type: "cancelled", runId: "run-1"}]);
        assert.equal(stopped.querySelector("#status")!.textContent, "Stopped");
        assert.ok(stopped.querySelector("#stream")!.textContent!.includes("half an answer"));
        assert.equal(stopped.querySelector("#stop"), null);
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

    it("renders maths in the streamed and final text with KaTeX", () => {
        const doc = rendered([started(), done()]);
        const full = doc.querySelector("#answer .answer-text")!;
        assert.ok(doc.querySelector(".alternative[data-index=\"3\"] .markdown .katex"), "inline $...$ in a card");
        assert.ok(full.textContent!.includes("forty two"));
        assert.equal(full.querySelector("annotation")!.textContent, "\\boxed{42}", "a bare \\boxed{} is maths too");
    });

    it("marks the text that accepted MCMC moves rewrote, in the raw view", () => {
        const doc = rendered([started(), done(), {type: "ui/textView", runId: "run-1", view: "raw"}]);
        const marks = Array.from(doc.querySelectorAll("#answer pre.raw-text mark.changed"));
        assert.deepEqual(marks.map((m) => m.textContent), ["answer", "forty"]);
        assert.deepEqual(marks.map((m) => m.getAttribute("data-offset")), ["4", "14"]);
        assert.ok(marks.every((m) => m.getAttribute("title")!.startsWith("rewritten by an accepted MCMC move")));
        assert.equal(doc.querySelector("#answer pre.raw-text")!.textContent, result().samples[2]!.text);
    });

    it("shows comparison runs side by side with their summaries", () => {
        const doc = rendered([started(), done(), started({runId: "cmp", method: "standard"}),
            {type: "result", runId: "cmp", result: result("standard", {stats: {...result().stats, proposedTokens: 400}})}]);
        const compare = doc.querySelector<HTMLElement>("#compare")!;
        assert.equal(compare.hidden, false);
        const columns = Array.from(compare.querySelectorAll<HTMLElement>(".run"));
        assert.deepEqual(columns.map((c) => c.dataset.method), ["power", "standard"]);
        assert.deepEqual(columns.map((c) => c.dataset.state), ["done", "done"]);
        for (const column of columns) {
            assert.equal(column.querySelector(".answer")!.getAttribute("data-answer"), "42");
            assert.match(column.textContent!, /Mean log p−14\.13/);
            assert.match(column.textContent!, /3\/4 · 75 %/);
        }
        assert.match(columns[1]!.textContent!, /400 \(1\.0×\)/);
        assert.equal(doc.querySelectorAll("#answer").length, 1);
        assert.equal(doc.querySelectorAll("#primary .alternative").length, 4);
    });

    it("a running comparison has its own status, stream and Stop; its re-run button is disabled", () => {
        const doc = rendered([started(), done(), started({runId: "cmp", method: "standard"}),
            {type: "progress", runId: "cmp", progress: progress(["standard so far"], {method: "standard", power: undefined})}]);
        const column = doc.querySelector<HTMLElement>("#compare .run[data-run-id=\"cmp\"]")!;
        assert.equal(column.querySelector(".run-status")!.textContent, "Running");
        assert.ok(column.querySelector(".stream")!.textContent!.includes("standard so far"));
        assert.ok(column.querySelector("button.stop"));
        assert.equal(doc.querySelector<HTMLButtonElement>("[data-rerun=\"standard\"]")!.disabled, true);
        assert.equal(doc.querySelector<HTMLButtonElement>("[data-rerun=\"low-temperature\"]")!.disabled, false);
        assert.equal(doc.querySelectorAll("#stream, #stop").length, 0, "ids belong to the main run only");
    });

    it("re-renders only what changed and keeps focus across streaming updates", () => {
        const {document} = dom();
        let state = apply([started(), {type: "progress", runId: "run-1", progress: progress(["a", "b"])}]);
        render(state, document);
        const picker = document.querySelector<HTMLButtonElement>(".chain-picker button[data-chain=\"1\"]")!;
        picker.focus();
        const prompt = document.querySelector(".prompt");
        state = reduce(state, {type: "progress", runId: "run-1", progress: progress(["a more", "b more"], {proposedTokens: 999})});
        render(state, document);
        assert.equal(document.querySelector(".prompt"), prompt, "the header was not rebuilt");
        assert.ok(document.querySelector(".progress-facts")!.textContent!.includes("999"));
        assert.equal(document.activeElement?.getAttribute("data-chain"), "1");
        assert.notEqual(document.activeElement, picker, "rebuilt, and the new button got focus");
    });

    it("streams by patching: unchanged Markdown blocks keep their elements, the changed one is rebuilt", () => {
        const {document} = dom();
        let state = apply([started(), {type: "progress", runId: "run-1", progress: progress(["First $x$.\n\nSecond"])}]);
        render(state, document);
        const [first, second] = Array.from(document.querySelectorAll("#stream .md-block"));
        state = reduce(state, {type: "progress", runId: "run-1", progress: progress(["First $x$.\n\nSecond, longer.\n\n$$y$$"])});
        render(state, document);
        const blocks = Array.from(document.querySelectorAll("#stream .md-block"));
        assert.equal(blocks.length, 3);
        assert.equal(blocks[0], first, "the first paragraph was not rebuilt");
        assert.notEqual(blocks[1], second);
        assert.equal(blocks[1]!.textContent!.trim(), "Second, longer.");
        assert.ok(blocks[2]!.querySelector(".katex-display"));
        state = reduce(state, {type: "progress", runId: "run-1", progress: progress(["Rewritten by a move"])});
        render(state, document);
        assert.deepEqual(Array.from(document.querySelectorAll("#stream .md-block")).map((b) => b.textContent!.trim()), ["Rewritten by a move"]);
    });

    it("shows the problem as text, and a hint when there is no run", () => {
        const doc = rendered([started()]);
        assert.equal(doc.querySelector(".prompt-text")!.textContent, PROMPT);
        assert.equal(doc.querySelectorAll("img").length, 0);
        const empty = rendered([]);
        assert.equal(empty.querySelector<HTMLElement>(".empty")!.hidden, false);
    });
});

// ---- controller: messages in and out, state across reloads -------------------------------------

class StubApi implements VsCodeApi {
    readonly posted: FromPanel[] = [];
    saved: unknown;
    constructor(saved?: unknown) {
        this.saved = saved;
    }
    postMessage(message: FromPanel): void {
        this.posted.push(message);
    }
    getState(): unknown {
        return this.saved;
    }
    setState(state: unknown): void {
        this.saved = JSON.parse(JSON.stringify(state));
    }
}

function send(window: TestWindow, message: unknown): void {
    window.dispatchEvent(new window.MessageEvent("message", {data: message}));
}

describe("webview controller", () => {
    it("posts ready, applies host messages, saves the state after each, renders on the next frame", () => {
        const {window, document} = dom();
        const api = new StubApi();
        const panel = startPanel(window, api);
        assert.deepEqual(api.posted, [{type: "ready"}]);
        send(window, started());
        assert.equal((api.saved as ViewState).runs.length, 1);
        send(window, {type: "progress", runId: "run-1", progress: progress(["streamed"])});
        send(window, {type: "nonsense"});
        assert.equal(document.querySelector("#stream"), null, "not rendered synchronously: throttled to a frame");
        panel.flush();
        assert.ok(document.querySelector("#stream")!.textContent!.includes("streamed"));
        assert.deepEqual((api.saved as ViewState).runs[0]!.progress!.texts, ["streamed"]);
    });

    it("renders by itself on the next animation frame", async () => {
        const {window, document} = dom();
        startPanel(window, new StubApi());
        send(window, started());
        send(window, done());
        await new Promise((resolve) => window.requestAnimationFrame(() => resolve(undefined)));
        await new Promise((resolve) => setTimeout(resolve, 0));
        assert.equal(document.querySelector("#status")!.textContent, "Done");
    });

    it("restores the whole view from getState after a reload", () => {
        const first = dom();
        const api = new StubApi();
        const panel = startPanel(first.window, api);
        for (const message of [started(), done(), started({runId: "cmp", method: "standard"}), done("cmp", "standard")]) send(first.window, message);
        panel.dispatch({type: "ui/textView", runId: "run-1", view: "raw"});
        panel.flush();

        const second = dom();
        const restored = new StubApi(api.saved);
        startPanel(second.window, restored);
        assert.deepEqual(restored.posted, [{type: "ready"}]);
        const doc = second.document;
        assert.equal(doc.querySelector("#status")!.textContent, "Done");
        assert.equal(doc.querySelector("#answer")!.getAttribute("data-answer"), "42");
        assert.equal(doc.querySelectorAll("#primary .alternative").length, 4);
        assert.equal(doc.querySelectorAll("#compare .run").length, 2);
        assert.equal(doc.querySelectorAll("#answer mark.changed").length, 2);
        assert.equal(doc.querySelector("#app")!.innerHTML, first.document.querySelector("#app")!.innerHTML);
    });

    it("buttons post the right messages", () => {
        const {window, document} = dom();
        const api = new StubApi();
        const panel = startPanel(window, api);
        send(window, started());
        send(window, {type: "progress", runId: "run-1", progress: progress(["x"])});
        panel.flush();
        document.querySelector<HTMLButtonElement>("#stop")!.click();
        panel.flush();
        assert.deepEqual(api.posted.at(-1), {type: "stop", runId: "run-1"});
        assert.equal(document.querySelector<HTMLButtonElement>("#stop")!.disabled, true);
        assert.equal(document.querySelector("#stop")!.textContent, "Stopping…");

        send(window, done());
        panel.flush();
        api.posted.length = 0;
        const card = (i: number, action: string) => document.querySelector<HTMLButtonElement>(`.alternative[data-index="${i}"] button[data-action="${action}"]`)!;
        card(3, "insert").click();
        card(1, "copy").click();
        card(0, "replace").click(); // disabled: nothing
        card(0, "diff").click(); // disabled: nothing
        document.querySelector<HTMLButtonElement>("#answer button[data-action=\"insert\"]")!.click();
        document.querySelector<HTMLButtonElement>("[data-rerun=\"standard\"]")!.click();
        document.querySelector<HTMLButtonElement>("[data-rerun=\"low-temperature\"]")!.click();
        assert.deepEqual(api.posted, [
            {type: "action", action: "insert", runId: "run-1", index: 3},
            {type: "action", action: "copy", runId: "run-1", index: 1},
            {type: "action", action: "insert", runId: "run-1", index: 2},
            {type: "rerun", method: "standard"},
            {type: "rerun", method: "low-temperature"}
        ]);
    });

    it("replace and diff post when the run had a selection; the view toggle switches to raw text", () => {
        const {window, document} = dom();
        const api = new StubApi();
        const panel = startPanel(window, api);
        send(window, started({hasSelection: true}));
        send(window, done());
        panel.flush();
        document.querySelector<HTMLButtonElement>(".alternative[data-index=\"0\"] button[data-action=\"replace\"]")!.click();
        document.querySelector<HTMLButtonElement>(".alternative[data-index=\"1\"] button[data-action=\"diff\"]")!.click();
        assert.deepEqual(api.posted.slice(1), [
            {type: "action", action: "replace", runId: "run-1", index: 0},
            {type: "action", action: "diff", runId: "run-1", index: 1}
        ]);
        const details = document.querySelector<HTMLDetailsElement>("#answer details.full-text")!;
        details.open = true;
        document.querySelector<HTMLButtonElement>("#answer button[data-view=\"raw\"]")!.click();
        panel.flush();
        assert.equal(document.querySelectorAll("#answer mark.changed").length, 2);
        assert.equal(document.querySelector<HTMLDetailsElement>("#answer details.full-text"), details, "the details stay (and stay open)");
        assert.equal(details.open, true);
        assert.equal((api.saved as ViewState).runs[0]!.textView, "raw");
    });

    it("arrow keys move between alternative cards", () => {
        const {window, document} = dom();
        const panel = startPanel(window, new StubApi());
        send(window, started());
        send(window, done());
        panel.flush();
        const cards = Array.from(document.querySelectorAll<HTMLElement>("#primary .alternative"));
        cards[0]!.focus();
        cards[0]!.dispatchEvent(new window.KeyboardEvent("keydown", {key: "ArrowDown", bubbles: true}));
        assert.equal(document.activeElement, cards[1]);
        cards[1]!.dispatchEvent(new window.KeyboardEvent("keydown", {key: "End", bubbles: true}));
        assert.equal(document.activeElement, cards.at(-1));
        assert.equal(cardToFocus(cards[0]!, "a"), null);
        assert.equal(intentOf(document.body), null);
    });
});
