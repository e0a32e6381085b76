/// <reference lib="dom" />
/**
 * The view: `render(state, document)` brings the document in line with a ViewState. It keeps one
 * renderer per document and rebuilds only the parts whose inputs changed (the reducer makes new
 * objects only for what changed), so streaming re-renders the stream and the status alone, and
 * the focused control keeps focus across rebuilds. Controls carry data attributes only; the
 * controller handles clicks, changes and keys by delegation (see events.ts).
 *
 * Layout, top to bottom: the header (problem, preset, mode, alternatives, model, Run again); the
 * run's status with its estimate or ETA and Stop; the answer (or the streaming text) with one
 * action bar; the alternatives as compact cards; "How it got there" (collapsed); comparisons;
 * the history.
 */
import type {Estimate} from "../protocol/cost.js";
import type {AlternativeAction, HistoryEntry} from "../protocol/panel.js";
import {PROMPT_MODES, type PromptMode} from "../protocol/params.js";
import {PRESET_DESCRIPTIONS, PRESET_LABELS, PRESETS} from "../protocol/presets.js";
import type {SmcRun, SolveResult} from "../protocol/results.js";
import {formatCount, formatDuration, formatPercent} from "../protocol/figures.js";
import {changedSpans, rawTextWithChanges} from "./changes.js";
import {h, htmlElement, htmlToFragment, svg} from "./dom.js";
import {renderAnswer, renderMarkdown, renderMarkdownBlocks} from "./markdown.js";
import {
    type Alternative, alternativesOf, costMultiplier, currentChoices, type Draft, drawnTokens, formatAbout, formatLogProb, formatMultiplier,
    formatRoughDuration, meanLogProb, methodLabel, remainingMs, type RunState, sameRef, selectedAlternative, STATUS_LABELS, streamText, totalTokens,
    type ViewState
} from "./model.js";

type Nodes = (Node | null | undefined | false)[];

/** A fixed container whose children are rebuilt when its inputs (compared by identity) change. */
class Slot {
    private deps: readonly unknown[] | null = null;
    constructor(readonly el: HTMLElement) {}

    update(deps: readonly unknown[], build: () => Nodes): boolean {
        if (this.deps !== null && this.deps.length === deps.length && this.deps.every((d, i) => Object.is(d, deps[i]))) return false;
        this.deps = deps;
        const doc = this.el.ownerDocument;
        const active = doc.activeElement;
        const refocus = active !== null && this.el.contains(active) ? focusSelector(active) : null;
        const nodes = build().filter((n): n is Node => Boolean(n));
        this.el.replaceChildren(...nodes);
        this.el.hidden = nodes.length === 0;
        if (refocus !== null) (this.el.querySelector(refocus) as HTMLElement | null)?.focus();
        return true;
    }
}

/** A selector that finds the "same" control after a rebuild. */
function focusSelector(el: Element): string | null {
    const attrs = ["data-action", "data-ref", "data-compare", "data-chain", "data-view", "data-choice", "data-follow", "data-reopen"]
        .filter((name) => el.hasAttribute(name))
        .map((name) => `[${name}="${(el.getAttribute(name) ?? "").replace(/["\\]/g, "\\$&")}"]`);
    if (el.id !== "") attrs.unshift(`#${el.id}`);
    return attrs.length > 0 ? attrs.join("") : null;
}

const renderers = new WeakMap<Document, Renderer>();

/** Renders the state into `doc`'s `#app` (made in the body when missing). */
export function render(state: ViewState, doc: Document, now = Date.now()): void {
    let renderer = renderers.get(doc);
    if (renderer === undefined) {
        renderer = new Renderer(doc);
        renderers.set(doc, renderer);
    }
    renderer.update(state, now);
}

class Renderer {
    private readonly header: Slot;
    private readonly live: HTMLElement;
    private readonly primaryHost: HTMLElement;
    private readonly compare: HTMLElement;
    private readonly columns: HTMLElement;
    private readonly history: Slot;
    private primary: RunView | null = null;
    private readonly columnViews = new Map<string, RunView>();
    private readonly statuses = new Map<string, string>();
    private readonly empty: HTMLElement;

    constructor(private readonly doc: Document) {
        // The host's page has <div id="app" role="main">; a bare document gets a <main id="app">.
        const existing = doc.getElementById("app");
        const app = existing ?? doc.body.appendChild(h(doc, "main", {id: "app"}));
        app.classList.add("app");
        this.live = h(doc, "div", {id: "live", class: "visually-hidden", "aria-live": "polite", "aria-atomic": "true"});
        this.header = new Slot(h(doc, "header", {class: "panel-header"}));
        this.empty = h(doc, "p", {class: "empty"}, "Select a problem or a code stub in an editor and run “Solve with Power Sampling” (Ctrl+Alt+Enter).");
        this.primaryHost = h(doc, "div", {class: "primary-host"});
        this.columns = h(doc, "div", {class: "columns"});
        this.compare = h(doc, "section", {id: "compare", class: "compare", "aria-labelledby": "compare-title", hidden: true},
            h(doc, "h2", {id: "compare-title"}, "Comparison"),
            h(doc, "p", {class: "hint"}, "The same problem sampled by each method: final answer, agreement among the alternatives, "
                + "mean base-model log-likelihood (higher is likelier) and tokens."),
            this.columns);
        this.history = new Slot(h(doc, "div", {class: "history-host"}));
        app.replaceChildren(this.live, this.header.el, this.empty, this.primaryHost, this.compare, this.history.el);
    }

    update(state: ViewState, now: number): void {
        const {doc} = this;
        const [main, ...others] = state.runs;
        this.empty.hidden = main !== undefined;
        const choices = currentChoices(state);
        this.header.update([main?.info, main?.result, state.choices, choices, state.draft !== null],
            () => headerNodes(doc, main, state, choices));

        if (main === undefined) {
            this.primary?.root.remove();
            this.primary = null;
        } else {
            if (this.primary?.runId !== main.info.runId) {
                this.primary?.root.remove();
                this.primary = new RunView(doc, main.info.runId, "primary");
                this.primaryHost.append(this.primary.root);
            }
            this.primary.update(main, state, now);
        }

        // Comparison columns: the main run's summary, then each re-run.
        this.compare.hidden = others.length === 0;
        const wanted = others.length === 0 ? [] : state.runs;
        const keep = new Set(wanted.map((run) => run.info.runId));
        for (const [runId, view] of this.columnViews) {
            if (!keep.has(runId)) {
                view.root.remove();
                this.columnViews.delete(runId);
            }
        }
        wanted.forEach((run, i) => {
            let view = this.columnViews.get(run.info.runId);
            if (view === undefined) {
                view = new RunView(doc, run.info.runId, i === 0 ? "summary" : "column");
                this.columnViews.set(run.info.runId, view);
            }
            if (this.columns.children[i] !== view.root) this.columns.insertBefore(view.root, this.columns.children[i] ?? null);
            view.update(run, state, now);
        });
        this.history.update([state.history, main?.info.runId], () => (state.history.length === 0 ? [] : [historyNode(doc, state.history, main?.info.runId)]));
        this.announce(state);
    }

    /** Announces comparison runs' state changes (the main run's #status is a live region itself). */
    private announce(state: ViewState): void {
        const messages: string[] = [];
        state.runs.forEach((run, i) => {
            const previous = this.statuses.get(run.info.runId);
            if (previous !== undefined && previous !== run.status && i > 0) {
                const answer = run.result?.samples[run.result.answerIndex]?.finalAnswer;
                messages.push(`${methodLabel(run.info.method)}: ${STATUS_LABELS[run.status]}${answer ? `. Answer: ${answer}` : ""}.`);
            }
            this.statuses.set(run.info.runId, run.status);
        });
        if (messages.length > 0) this.live.textContent = messages.join(" ");
    }
}

const MODE_LABELS: Record<PromptMode, string> = {auto: "Auto", raw: "Raw text", chat: "Chat template", math: "Maths prompt", code: "Code"};
const SAMPLE_CHOICES = [1, 2, 4, 8, 16, 32, 64];

/** The header: the problem, and the choices a re-run takes (preset with its estimate, mode, alternatives, model). */
function headerNodes(doc: Document, main: RunState | undefined, state: ViewState, choices: Draft | null): Nodes {
    const estimates = state.choices?.presetEstimates;
    const modelName = main?.info.modelName || state.choices?.modelName || "";
    const usedMode = main?.result?.params.mode;
    const nodes: Nodes = [h(doc, "div", {class: "title-row"},
        h(doc, "h1", {}, "Power Sampling"),
        main ? h(doc, "span", {class: "meta"}, [modelName, usedMode ? `${MODE_LABELS[usedMode]} mode${main.info.mode === "auto" ? " (auto)" : ""}` : null,
            `${main.info.samples} alternative${main.info.samples === 1 ? "" : "s"}`].filter(Boolean).join(" · ")) : null)];
    if (choices !== null) {
        const select = (name: string, label: string, options: Nodes, hint: string) => h(doc, "label", {class: "choice"},
            h(doc, "span", {class: "choice-label"}, label),
            h(doc, "select", {"data-choice": name, "aria-label": label, title: hint}, options));
        nodes.push(h(doc, "div", {class: "choices", role: "group", "aria-label": "Choices for the next run"},
            select("preset", "Preset", PRESETS.map((preset) => h(doc, "option", {value: preset, selected: preset === choices.preset},
                `${PRESET_LABELS[preset]}${estimates ? ` · ${estimateText(estimates[preset])}` : ""}`)),
            `${PRESET_DESCRIPTIONS[choices.preset]}. The estimate counts tokens for up to the token limit; the time comes from runs on this machine.`),
            select("mode", "Mode", PROMPT_MODES.map((mode) => h(doc, "option", {value: mode, selected: mode === choices.mode}, MODE_LABELS[mode])),
                "How the selection becomes the prompt"),
            select("samples", "Alternatives", [...new Set([...SAMPLE_CHOICES, choices.samples])].sort((a, b) => a - b)
                .map((n) => h(doc, "option", {value: n, selected: n === choices.samples}, String(n))),
                "Independent answers to draw and group"),
            h(doc, "button", {type: "button", class: "secondary model-button", "data-action": "selectModel", title: "Choose another model"},
                modelName ? `Model: ${modelName}` : "Select a model…"),
            main ? h(doc, "button", {type: "button", class: state.draft ? "" : "secondary", "data-action": "runAgain",
                "aria-label": "Run this problem again with these choices"}, "Run again") : null));
    }
    if (main) {
        nodes.push(h(doc, "details", {class: "prompt"},
            h(doc, "summary", {}, `Problem: ${oneLine(main.info.prompt, 100)}`),
            h(doc, "pre", {class: "prompt-text", tabindex: 0}, main.info.prompt)));
    }
    return nodes;
}

function estimateText(estimate: Estimate): string {
    return `${formatAbout(estimate.tokens)} tokens${estimate.ms === null ? "" : `, ${formatRoughDuration(estimate.ms)}`}`;
}

type RunViewKind = "primary" | "column" | "summary";

/**
 * One run. "primary": the main run in full, with the stable ids; "column": a comparison re-run,
 * compact; "summary": the main run's column in the comparison.
 */
class RunView {
    readonly root: HTMLElement;
    private readonly status: HTMLElement;
    private readonly slots: Record<"controls" | "error" | "progress" | "stream" | "answer" | "alternatives" | "follow" | "how", Slot>;
    private textBody: Slot | null = null;
    private stream: StreamView | null = null;

    constructor(private readonly doc: Document, readonly runId: string, private readonly kind: RunViewKind) {
        const primary = kind === "primary";
        const slot = (name: string) => new Slot(h(doc, "div", {class: `slot slot-${name}`}));
        this.slots = {
            controls: slot("controls"), error: slot("error"), progress: slot("progress"), stream: slot("stream"),
            answer: slot("answer"), alternatives: slot("alternatives"), follow: slot("follow"), how: slot("how")
        };
        this.status = h(doc, "span", {class: "run-status", ...(primary ? {id: "status", role: "status", "aria-live": "polite"} : {})});
        this.root = h(doc, primary ? "section" : "article", {
            class: `run run-${kind}`, ...(primary ? {id: "primary"} : {}), "data-run-id": runId, "aria-label": "Run"
        });
        const bar = h(doc, "div", {class: "run-bar"}, h(doc, "span", {class: "run-method"}), this.status, this.slots.controls.el);
        this.root.append(bar, ...Object.entries(this.slots).filter(([name]) => name !== "controls").map(([, s]) => s.el));
    }

    update(run: RunState, state: ViewState, now: number): void {
        const {doc, kind, slots} = this;
        const primary = kind === "primary";
        const label = methodLabel(run.info.method);
        this.root.dataset.method = run.info.method;
        this.root.dataset.state = run.status;
        this.root.setAttribute("aria-label", `${label} run`);
        (this.root.querySelector(".run-method") as HTMLElement).textContent = label;
        const statusText = statusLine(run, now);
        if (this.status.textContent !== statusText) this.status.textContent = statusText;
        this.status.dataset.state = run.status;

        slots.controls.update([run.status, run.stopRequested], () => (kind === "summary" ? [] : [stopButton(doc, run, primary)]));
        slots.error.update([run.error], () => (run.error === null ? [] : [errorBox(doc, run.error, primary)]));
        const showStream = run.status === "running" && kind !== "summary";
        slots.progress.update([run.progress, run.chain, run.status, showStream, run.info], () => (showStream ? progressNodes(doc, run) : []));
        if (showStream) {
            this.stream ??= new StreamView(doc, primary);
            this.stream.update(run);
            if (this.stream.el.parentNode !== slots.stream.el) slots.stream.el.append(this.stream.el);
            slots.stream.el.hidden = false;
        } else if (this.stream !== null) {
            this.stream.el.remove();
            this.stream = null;
            slots.stream.el.hidden = true;
        }

        const {result} = run;
        const alternatives = result ? alternativesOf(result) : [];
        const answerChanged = slots.answer.update([result, run.status, run.progress, run.selected, run.info, kind], () => {
            if (kind !== "primary") return result ? [summaryNode(doc, run, result, kind)] : [];
            if (result) return answerNodes(doc, run, alternatives);
            return run.status === "stopped" || run.status === "error" ? partialNodes(doc, run) : [];
        });
        if (answerChanged) {
            const body = slots.answer.el.querySelector<HTMLElement>(".text-body");
            this.textBody = body === null ? null : new Slot(body);
        }
        const shown = selectedAlternative(alternatives, run.selected);
        if (result && shown) this.textBody?.update([result, run.textView, shown], () => textBodyNodes(doc, run, shown));

        slots.alternatives.update([result, run.selected, kind], () =>
            (result === null || kind === "summary" || alternatives.length < 2 ? [] : [alternativesNode(doc, run, result, alternatives, kind)]));
        slots.follow.update([primary, run.status, run.info.runId], () => (primary && run.status !== "running" ? [followNode(doc, run)] : []));
        const compareDeps = state.runs.map((r) => `${r.info.method}:${r.status}`).join(",");
        slots.how.update([result, kind, run.status, compareDeps], () => (!primary || run.status === "running" ? [] : [howNode(doc, run, result, state)]));
    }
}

/** "Running · 34 % · about 40 s left", "Done in 8.2 s", "Stopped after 12 s", "Error". */
function statusLine(run: RunState, now: number): string {
    const elapsed = now - run.info.startedAt;
    switch (run.status) {
        case "running": {
            const fraction = run.progress?.fraction ?? 0;
            const left = remainingMs(fraction, elapsed);
            if (run.progress === null) return "Running · starting";
            return `Running · ${Math.round(100 * fraction)} %${left === null ? "" : ` · ${formatRoughDuration(left)} left`}`;
        }
        case "done": return `Done${run.result ? ` in ${formatDuration(run.result.stats.wallMs + run.result.stats.loadMs)}` : ""}`;
        case "stopped": return "Stopped";
        case "error": return "Error";
    }
}

function stopButton(doc: Document, run: RunState, primary: boolean): Node | null {
    if (run.status !== "running") return null;
    return h(doc, "button", {
        type: "button", class: "stop secondary", ...(primary ? {id: "stop"} : {}), "data-action": "stop", "data-run-id": run.info.runId,
        disabled: run.stopRequested, "aria-label": `Stop the ${methodLabel(run.info.method).toLowerCase()} run`
    }, run.stopRequested ? "Stopping…" : "Stop");
}

function errorBox(doc: Document, message: string, primary: boolean): Node {
    return h(doc, "div", {class: "error", ...(primary ? {id: "error"} : {}), role: "alert"},
        h(doc, "strong", {}, "The run failed"),
        h(doc, "p", {class: "error-message"}, message));
}

/** While running: the estimate (before the first progress), the progress bar and facts, the chain picker. */
function progressNodes(doc: Document, run: RunState): Nodes {
    const p = run.progress;
    const {estimate} = run.info;
    const expected = h(doc, "p", {class: "estimate", "data-estimate-tokens": estimate.tokens},
        `Estimated: ${estimateText(estimate)}${estimate.ms === null ? " (the time shows once a run has measured this model's speed here)" : ""}.`);
    if (p === null) return [expected, h(doc, "p", {class: "progress-line"}, "Loading the model and starting…")];
    const facts: [string, string][] = [];
    if (p.power) {
        facts.push(["Block", `${p.power.block}/${p.power.blocks}`]);
        if (p.power.mcmcSteps > 0) facts.push(["MCMC step", `${p.power.mcmcStep}/${p.power.mcmcSteps}`], ["Acceptance", formatPercent(p.power.acceptanceRate)]);
    }
    if (p.smc) {
        facts.push(["Token", `${formatCount(p.smc.token)}/${formatCount(p.smc.maxTokens)}`],
            ["ESS", p.smc.ess === null ? "—" : `${p.smc.ess.toFixed(1)} of ${p.smc.particles}`], ["Resamplings", formatCount(p.smc.resamplings)]);
    }
    facts.push(["Tokens drawn", `${formatCount(p.proposedTokens)} of ${formatAbout(estimate.tokens)}`]);
    const nodes: Nodes = [
        expected,
        h(doc, "progress", {class: "run-progress", max: 1, value: p.fraction.toFixed(3), "aria-label": "Progress (an upper bound: a sample may end early)"}),
        factList(doc, facts, "progress-facts")
    ];
    if (p.texts.length > 1) {
        const chosen = Math.min(run.chain, p.texts.length - 1);
        const unit = p.smc ? "particle" : "chain";
        nodes.push(h(doc, "div", {class: "chain-picker", role: "group", "aria-label": `${unit} to show`},
            h(doc, "span", {class: "label"}, unit === "particle" ? "Particle" : "Chain"),
            p.texts.slice(0, 16).map((_, i) => h(doc, "button", {
                type: "button", class: "chip", "data-chain": i, "data-run-id": run.info.runId, "aria-pressed": i === chosen ? "true" : "false",
                "aria-label": `Show ${unit} ${i + 1} of ${p.texts.length}`
            }, String(i + 1)))));
    }
    return nodes;
}

/**
 * The streaming text. Patched in place block by block (only the blocks whose HTML changed are
 * rebuilt, usually the last), so long texts with many formulas stream cheaply and the scroll
 * position holds.
 */
class StreamView {
    readonly el: HTMLElement;
    private readonly body: HTMLElement;
    private blocks: {html: string; el: Element}[] = [];
    private text: string | null = null;

    constructor(private readonly doc: Document, primary: boolean) {
        this.body = h(doc, "div", {class: "stream-body"});
        this.el = h(doc, "div", {class: `stream markdown${primary ? "" : " compact"}`, ...(primary ? {id: "stream"} : {}), "aria-label": "Current text",
            "aria-busy": "true"}, this.body);
    }

    update(run: RunState): void {
        const {doc} = this;
        const text = streamText(run);
        const key = `${run.info.mode}\u0000${text}`;
        if (key === this.text) return;
        this.text = key;
        if (text === "") {
            this.blocks = [];
            this.body.replaceChildren(h(doc, "p", {class: "placeholder"}, "Waiting for the first tokens…"));
            return;
        }
        if (this.blocks.length === 0) this.body.replaceChildren();
        const htmls = renderMarkdownBlocks(text, modeOf(run));
        const next: {html: string; el: Element}[] = [];
        htmls.forEach((html, i) => {
            const old = this.blocks[i];
            if (old !== undefined && old.html === html) {
                next.push(old);
                return;
            }
            const block = h(doc, "div", {class: "md-block"});
            block.append(htmlToFragment(doc, html));
            if (old !== undefined) old.el.replaceWith(block);
            else this.body.append(block);
            next.push({html, el: block});
        });
        for (const stale of this.blocks.slice(htmls.length)) stale.el.remove();
        this.blocks = next;
    }
}

/** The mode the text was written for: the result's, else the one asked for ("auto" reads as maths-capable Markdown). */
function modeOf(run: RunState): Exclude<PromptMode, "auto"> {
    const mode = run.result?.params.mode ?? run.info.mode;
    return mode === "auto" ? "raw" : mode;
}

/** The one action bar: it acts on the shown answer or alternative. */
function actionBar(doc: Document, run: RunState, ref: string, what: string): Node {
    const lines = run.info.selectionLines;
    const actions: {action: AlternativeAction; label: string; aria: string; disabled?: string}[] = [
        {action: "insert", label: "Insert", aria: `Insert ${what} after the selection, and select it`},
        {action: "replace", label: lines > 0 ? `Replace selection (${lines} line${lines === 1 ? "" : "s"})` : "Replace selection",
            aria: `Replace the ${lines}-line selection with ${what}`, disabled: lines > 0 ? undefined : "There was no selection when this run started"},
        {action: "copy", label: "Copy", aria: `Copy ${what}`},
        {action: "diff", label: "Diff", aria: `Show ${what} against the selection in a diff editor`, disabled: lines > 0 ? undefined : "There was no selection to compare with"}
    ];
    return h(doc, "div", {class: "actions", role: "toolbar", "aria-label": `Actions for ${what}`},
        actions.map(({action, label, aria, disabled}) => h(doc, "button", {
            type: "button", class: action === "insert" ? "" : "secondary", "data-action": action, "data-ref": ref, "data-run-id": run.info.runId,
            "aria-label": aria, disabled: disabled !== undefined, title: disabled ?? null
        }, label)));
}

export function refKey(alternative: Alternative): string {
    const {ref} = alternative;
    return ref.kind === "sample" ? `sample:${ref.index}` : ref.kind === "particle" ? `particle:${ref.run}:${ref.index}` : "partial";
}

function answerHtml(doc: Document, run: RunState, alternative: Pick<Alternative, "finalAnswer" | "text">): Node {
    if (alternative.finalAnswer === null) return h(doc, "p", {class: "no-answer"}, "(no final answer found)");
    return htmlElement(doc, "div", {class: "final-answer-body"}, renderAnswer(alternative.finalAnswer, alternative.text, modeOf(run)));
}

/** The answer block: the shown alternative's final answer, its actions, and its full text. */
function answerNodes(doc: Document, run: RunState, alternatives: readonly Alternative[]): Nodes {
    const shown = selectedAlternative(alternatives, run.selected);
    if (!shown) return [];
    const name = shown.chosen ? "the answer" : shown.ref.kind === "particle" ? `particle ${shown.ref.index + 1}` : `alternative ${alternatives.indexOf(shown) + 1}`;
    const consensus = alternatives.length > 1
        ? h(doc, "p", {class: "consensus"}, h(doc, "span", {class: "share"}, shown.shareText),
            shown.ref.kind === "particle" ? " of the particles' weight is on this answer." : " alternatives reach this answer.")
        : null;
    return [h(doc, "section", {id: "answer", class: "answer", "data-answer": shown.finalAnswer ?? "", "data-ref": refKey(shown), "aria-labelledby": "answer-title"},
        h(doc, "h2", {id: "answer-title"}, shown.chosen ? "Answer" : `Answer of ${name}`),
        h(doc, "div", {class: "final-answer"}, answerHtml(doc, run, shown)),
        consensus,
        actionBar(doc, run, refKey(shown), name),
        h(doc, "div", {class: "text-body"}))];
}

/** A stopped or failed run keeps its partial text, with its actions. */
function partialNodes(doc: Document, run: RunState): Nodes {
    const text = streamText(run);
    if (text === "") return [];
    return [h(doc, "section", {id: "answer", class: "answer partial", "data-answer": "", "data-ref": "partial", "aria-labelledby": "answer-title"},
        h(doc, "h2", {id: "answer-title"}, run.status === "stopped" ? "Stopped: the text so far" : "The text before the error"),
        actionBar(doc, run, "partial", "the partial text"),
        htmlElement(doc, "div", {class: "answer-text markdown", id: "stream"}, renderMarkdown(text, modeOf(run))))];
}

function textBodyNodes(doc: Document, run: RunState, shown: Alternative): Nodes {
    const raw = run.textView === "raw";
    const marks = changedSpans(shown.text, shown.changedOffsets).length;
    const facts = factList(doc, [
        ["log p", formatLogProb(shown.logProb)],
        ["per token", formatLogProb(shown.tokenCount > 0 ? shown.logProb / shown.tokenCount : null)],
        ["tokens", formatCount(shown.tokenCount)],
        ["ended", shown.finishReason === "eos" ? "at the end of the text" : "at the token limit"],
        ...(run.info.method === "power" ? [["rewritten places", String(marks)] as [string, string]] : [])
    ], "alt-stats");
    const toggle = run.info.method === "power" ? h(doc, "div", {class: "view-toggle", role: "group", "aria-label": "Show the text as"},
        h(doc, "button", {type: "button", class: "chip", "data-view": "rendered", "data-run-id": run.info.runId, "aria-pressed": raw ? "false" : "true"}, "Rendered"),
        h(doc, "button", {type: "button", class: "chip", "data-view": "raw", "data-run-id": run.info.runId, "aria-pressed": raw ? "true" : "false"},
            `Raw, rewritten places marked (${marks})`)) : null;
    const body = raw
        ? [h(doc, "p", {class: "hint"}, marks === 0
            ? "No accepted MCMC move changed this text: it is the proposal's own draw."
            : `${marks} marked place${marks === 1 ? "" : "s"}: each starts where an accepted MCMC move redrew the rest of the text.`),
        rawTextWithChanges(doc, shown.text, shown.changedOffsets)]
        : [htmlElement(doc, "div", {class: "answer-text markdown"}, renderMarkdown(shown.text, modeOf(run)))];
    return [h(doc, "details", {class: "full-text", open: true},
        h(doc, "summary", {}, "Full text"), facts, toggle, ...body)];
}

/** The alternatives as compact cards in one list: one tab stop, arrow keys move the selection. */
function alternativesNode(doc: Document, run: RunState, result: SolveResult, alternatives: readonly Alternative[], kind: RunViewKind): Node {
    const shown = selectedAlternative(alternatives, run.selected);
    const particles = alternatives[0]?.ref.kind === "particle";
    const title = particles ? `Particles (${alternatives.length} distinct of ${result.params.particles})` : `Alternatives (${alternatives.length})`;
    const cards = h(doc, "div", {class: "cards", role: "listbox", "aria-label": title, "data-run-id": run.info.runId},
        alternatives.map((alternative, i) => {
            const selected = shown !== undefined && sameRef(alternative.ref, shown.ref);
            const card = h(doc, "div", {
                class: `alternative${alternative.chosen ? " chosen" : ""}`, role: "option", "aria-selected": selected ? "true" : "false",
                tabindex: selected ? 0 : -1, "data-ref": refKey(alternative), "data-run-id": run.info.runId,
                "aria-label": `${particles ? "Particle" : "Alternative"} ${i + 1}${alternative.chosen ? ", chosen" : ""}: answer ${alternative.finalAnswer ?? "none"}, ${alternative.shareText}`
            },
            h(doc, "div", {class: "card-answer"}, alternative.finalAnswer === null ? h(doc, "span", {class: "no-answer"}, "no answer")
                : htmlElement(doc, "span", {class: "card-answer-body"}, renderAnswer(oneLine(alternative.finalAnswer, 80), alternative.text, modeOf(run)))),
            h(doc, "div", {class: "card-share"}, alternative.chosen ? h(doc, "span", {class: "badge"}, particles ? "drawn" : "chosen") : null, alternative.shareText),
            shareBar(doc, alternative.share),
            h(doc, "div", {class: "card-line"}, oneLine(alternative.text, 140)));
            return card;
        }));
    const consensus = particles ? "The drawn particle is the answer; an answer's weight is what p^α puts on it, as far as the particles see."
        : "Agreement among independent samples is a consensus signal, as in pass@k: an answer many alternatives reach is more often right.";
    if (kind === "column") return h(doc, "details", {class: "alternatives column-alternatives"}, h(doc, "summary", {}, title), cards);
    return h(doc, "section", {class: "alternatives", "aria-labelledby": `alternatives-${run.info.runId}`},
        h(doc, "h2", {id: `alternatives-${run.info.runId}`}, title),
        h(doc, "p", {class: "hint"}, `${consensus} Select one (arrow keys) to see it above and act on it.`),
        cards);
}

function shareBar(doc: Document, share: number): Node {
    const fill = h(doc, "span", {class: "share-fill"});
    fill.style.width = `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
    return h(doc, "div", {class: "share-bar", "aria-hidden": "true"}, fill);
}

/** Follow-ups: ask again more thoroughly, or draw more alternatives to set beside this answer. */
function followNode(doc: Document, run: RunState): Node {
    const thorough = run.info.preset === "thorough";
    return h(doc, "div", {class: "follow-ups", role: "group", "aria-label": "Follow-ups"},
        thorough ? null : h(doc, "button", {type: "button", class: "secondary", "data-follow": "thorough", "data-run-id": run.info.runId,
            title: "The same problem with the Thorough preset: the paper's Metropolis-Hastings sampler"}, "Ask again, more thoroughly"),
        h(doc, "button", {type: "button", class: "secondary", "data-follow": "explore", "data-run-id": run.info.runId,
            title: "Independent alternatives for the same problem, grouped by answer"}, "Explore alternatives"));
}

function factList(doc: Document, facts: readonly (readonly [string, string])[], className: string): Node {
    return h(doc, "dl", {class: `facts ${className}`},
        facts.map(([term, value]) => h(doc, "div", {class: "fact"}, h(doc, "dt", {}, term), h(doc, "dd", {}, value))));
}

/** "How it got there": collapsed; what the sampler did, in honest numbers; the comparison buttons. */
function howNode(doc: Document, run: RunState, result: SolveResult | null, state: ViewState): Node {
    const parts: Nodes = [h(doc, "summary", {}, "How it got there")];
    if (result) {
        const {stats, params} = result;
        const k = result.samples.length;
        const facts: [string, string][] = [["Method", methodSentence(result)]];
        if (result.method === "power") {
            facts.push(["MCMC steps", stats.acceptanceRate === null ? "—"
                : `${formatCount(stats.acceptedSteps)} of ${formatCount(stats.mcmcSteps)} accepted (${formatPercent(stats.acceptanceRate)})`]);
        }
        if (result.method === "smc") facts.push(["Resamplings", `${formatCount(stats.resamplings)} (each when the effective sample size fell below ${params.essThreshold} × ${params.particles})`]);
        facts.push(
            ["Tokens drawn", formatCount(stats.proposedTokens)],
            ["Cost", `${formatMultiplier(costMultiplier(result))} the ${formatCount(drawnTokens(result.samples))} tokens standard sampling would draw for ${k === 1 ? "this text" : `these ${k} texts`} (end tokens counted on both sides)`],
            ["Time", `${formatDuration(stats.wallMs)} sampling${stats.loadMs > 0 ? `, ${formatDuration(stats.loadMs)} loading the model` : ""}${stats.queuedMs > 50 ? `, ${formatDuration(stats.queuedMs)} queued` : ""}`],
            ["Prompt", `${formatCount(stats.promptTokens)} tokens, ${result.params.mode} mode`],
            ["Seed", `${params.seed} (the same seed and settings give the same run)`]);
        parts.push(factList(doc, facts, "how-facts"),
            ...(result.smc ?? []).map((smcRun, i) => smcRunNode(doc, smcRun, i, result.smc!.length, params.particles)),
            k > 1 ? logProbPlot(doc, result) : null);
    }
    parts.push(compareNode(doc, run, state));
    return h(doc, "details", {id: "how", class: "how"}, parts);
}

function methodSentence(result: SolveResult): string {
    const {params} = result;
    switch (result.method) {
        case "power": return `Metropolis-Hastings on p^${params.alpha}: blocks of ${params.blockSize} tokens, ${params.mcmcSteps} steps each, proposals at temperature 1/${params.alpha}, up to ${params.maxTokens} tokens`;
        case "smc": return `Power-SMC on p^${params.alpha}: ${params.particles} particles at temperature 1/${params.alpha}, the ESS checked every ${params.resampleInterval} tokens`
            + `${params.alphaRampTokens > 0 ? `, α ramped over the first ${params.alphaRampTokens} tokens` : ""}, up to ${params.maxTokens} tokens`;
        case "low-temperature": return `Token by token at temperature 1/${params.alpha}, up to ${params.maxTokens} tokens`;
        case "standard": return `Token by token at temperature 1, up to ${params.maxTokens} tokens`;
        case "greedy": return `The likeliest token each step, up to ${params.maxTokens} tokens`;
    }
}

/**
 * One SMC run: its distinct final particles (normalised weight, copies, the line they descend
 * from) and its effective sample size over the tokens, with the resampling events marked.
 */
function smcRunNode(doc: Document, run: SmcRun, index: number, runs: number, particles: number): Node {
    const title = runs === 1 ? "Particles" : `Run ${index + 1} of ${runs}: particles`;
    const lines = new Set(run.particles.map((particle) => particle.origin)).size;
    return h(doc, "section", {class: "smc-run", "data-run-index": index, "aria-label": title},
        h(doc, "h3", {}, title),
        h(doc, "p", {class: "hint"}, `${run.particles.length} distinct completion${run.particles.length === 1 ? "" : "s"} among ${particles} particles, `
            + `descended from ${lines} of the ${particles} starting particles (resampling kept ${lines === 1 ? "one line" : "these lines"}); the drawn one is marked.`),
        h(doc, "ol", {class: "particles"}, run.particles.slice(0, 16).map((particle, i) =>
            h(doc, "li", {class: `particle${i === run.drawn ? " drawn" : ""}`, "data-weight": particle.weight.toFixed(4)},
                h(doc, "span", {class: "weight"}, formatPercent(particle.weight)),
                shareBar(doc, particle.weight),
                h(doc, "span", {class: "particle-meta"},
                    `${particle.copies} cop${particle.copies === 1 ? "y" : "ies"} · line ${particle.origin + 1} · log p ${formatLogProb(particle.logProb)}${i === run.drawn ? " · drawn" : ""}`),
                h(doc, "span", {class: "particle-text"}, oneLine(particle.finalAnswer ?? particle.text, 120))))),
        essPlot(doc, run, particles));
}

function oneLine(text: string, limit: number): string {
    const line = text.replace(/\s+/g, " ").trim();
    return line.length > limit ? `${line.slice(0, limit)}…` : line;
}

/** Effective sample size at each check, from 1 to the particle count; resamplings marked. */
function essPlot(doc: Document, run: SmcRun, particles: number): Node {
    const width = 320, height = 120, left = 40, right = 10, top = 10, bottom = 24;
    const points = run.ess;
    const last = Math.max(1, ...points.map((point) => point.token));
    const x = (token: number) => left + (token / last) * (width - left - right);
    const y = (ess: number) => top + (1 - (ess - 1) / Math.max(1, particles - 1)) * (height - top - bottom);
    const label = points.length === 0 ? "No effective-sample-size check ran (every particle ended first)."
        : `Effective sample size over tokens: ${points.map((point) => `${point.token}: ${point.ess.toFixed(1)}${point.resampled ? " (resampled)" : ""}`).join(", ")}`;
    const plot = svg(doc, "svg", {class: "ess-plot", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMinYMin meet"},
        svg(doc, "line", {class: "axis", x1: left, y1: top, x2: left, y2: height - bottom}),
        svg(doc, "line", {class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom}),
        svg(doc, "text", {class: "axis-label", x: left - 4, y: y(particles) + 4, "text-anchor": "end"}, String(particles)),
        svg(doc, "text", {class: "axis-label", x: left - 4, y: y(1) + 4, "text-anchor": "end"}, "1"),
        svg(doc, "text", {class: "axis-label", x: width - right, y: height - 6, "text-anchor": "end"}, `token ${last}`),
        points.length > 1 ? svg(doc, "polyline", {class: "ess-line", points: points.map((point) => `${x(point.token)},${y(point.ess)}`).join(" ")}) : null,
        points.map((point) => svg(doc, "circle", {class: point.resampled ? "resampled" : "checked", cx: x(point.token), cy: y(point.ess), r: point.resampled ? 4 : 2.5},
            svg(doc, "title", {}, `token ${point.token}: ESS ${point.ess.toFixed(1)}${point.resampled ? ", resampled" : ""}`))));
    return h(doc, "figure", {class: "plot"}, plot,
        h(doc, "figcaption", {}, "Effective sample size at each check; the larger marks are resamplings (the ESS fell below the threshold)."));
}

/** One dot per alternative at its base-model log-likelihood; the chosen one ringed. */
function logProbPlot(doc: Document, result: SolveResult): Node {
    const alts = result.samples;
    const width = 320, height = 132, left = 56, right = 10, top = 12, bottom = 24;
    const values = alts.map((a) => a.logProb).filter(Number.isFinite);
    const max = values.length > 0 ? Math.max(...values) : 0;
    const min = values.length > 0 ? Math.min(...values) : 0;
    const span = max - min;
    const y = (v: number) => (span > 0 ? top + ((max - v) / span) * (height - top - bottom) : (top + height - bottom) / 2);
    const step = (width - left - right) / Math.max(1, alts.length);
    const groupOf = (index: number) => result.groups.findIndex((g) => g.members.includes(index));
    const label = `Base-model log-likelihood of each alternative: ${alts.map((a, i) =>
        `${i + 1}: ${formatLogProb(a.logProb)}${i === result.answerIndex ? " (chosen)" : ""}`).join(", ")}`;
    const plot = svg(doc, "svg", {class: "logp-plot", viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label, preserveAspectRatio: "xMinYMin meet"},
        svg(doc, "line", {class: "axis", x1: left, y1: top, x2: left, y2: height - bottom}),
        svg(doc, "line", {class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom}),
        svg(doc, "text", {class: "axis-label", x: left - 6, y: y(max) + 4, "text-anchor": "end"}, formatLogProb(max)),
        span > 0 ? svg(doc, "text", {class: "axis-label", x: left - 6, y: y(min) + 4, "text-anchor": "end"}, formatLogProb(min)) : null,
        svg(doc, "text", {class: "axis-label", x: 4, y: height - 6}, "log p"),
        alts.map((alt, i) => {
            const cx = left + step * (i + 0.5);
            const cy = Number.isFinite(alt.logProb) ? y(alt.logProb) : height - bottom;
            const chosen = i === result.answerIndex;
            return svg(doc, "g", {class: `dot${chosen ? " chosen" : ""}`, "data-index": i},
                svg(doc, "title", {}, `Alternative ${i + 1}${chosen ? " (chosen)" : ""}: log p ${formatLogProb(alt.logProb)}, answer ${alt.finalAnswer ?? "none"}`),
                chosen ? svg(doc, "circle", {class: "ring", cx, cy, r: 8}) : null,
                svg(doc, "circle", {class: `series-${Math.max(0, groupOf(i)) % 6}`, cx, cy, r: chosen ? 5 : 4}),
                alts.length <= 16 ? svg(doc, "text", {class: "axis-label", x: cx, y: height - 8, "text-anchor": "middle"}, String(i + 1)) : null);
        }));
    return h(doc, "figure", {class: "plot"}, plot,
        h(doc, "figcaption", {}, "Base-model log-likelihood (temperature 1) of each alternative, coloured by answer group; the chosen one is ringed."));
}

/** The compact summary of a run in the comparison: answer, agreement, log-likelihood, tokens. */
function summaryNode(doc: Document, run: RunState, result: SolveResult, kind: RunViewKind): Node {
    const k = result.samples.length;
    const alt = result.samples[result.answerIndex]!;
    const group = result.groups.find((g) => g.members.includes(result.answerIndex));
    const mean = meanLogProb(result.samples);
    const final = totalTokens(result.samples);
    return h(doc, "div", {class: "answer summary", "data-answer": alt.finalAnswer ?? ""},
        h(doc, "div", {class: "final-answer"}, answerHtml(doc, run, alt)),
        factList(doc, [
            ["Agreement", k === 1 || group === undefined ? "—" : `${group.count} of ${k}`],
            ["Mean log p", formatLogProb(mean)],
            ["Mean log p per token", formatLogProb(mean !== null && final > 0 ? (mean * k) / final : null)],
            ["Tokens (texts)", formatCount(final)],
            ["Tokens drawn", `${formatCount(result.stats.proposedTokens)} (${formatMultiplier(costMultiplier(result))})`],
            ["Sampling time", formatDuration(result.stats.wallMs)]
        ], "summary-facts"),
        kind === "summary" ? h(doc, "p", {class: "hint"}, "The answer, its alternatives and actions: above.") : null);
}

const COMPARE_METHODS: {method: "low-temperature" | "standard" | "power" | "smc"; label: string; hint: string}[] = [
    {method: "low-temperature", label: "Low temperature", hint: "Each token at temperature 1/α: sharpens tokens one at a time."},
    {method: "standard", label: "Standard sampling", hint: "Temperature 1: what the base model does on its own."},
    {method: "power", label: "Power sampling (MH)", hint: "Metropolis-Hastings on p^α: weighs whole continuations."},
    {method: "smc", label: "Power-SMC", hint: "Particles resampled by weight on p^α: close to MH at a small multiple of standard cost."}
];

function compareNode(doc: Document, run: RunState, state: ViewState): Node {
    const buttons = COMPARE_METHODS.filter(({method}) => method !== run.info.method).map(({method, label, hint}) => {
        const running = state.runs.some((r) => r.info.method === method && r.status === "running");
        return h(doc, "button", {
            type: "button", class: "secondary", "data-compare": method, disabled: running,
            "aria-label": `Compare with ${label.toLowerCase()}: run this problem with it and show the results side by side`, title: hint
        }, running ? `${label} (running…)` : label);
    });
    return h(doc, "div", {class: "compare-row"}, h(doc, "h3", {}, "Compare with another method"),
        h(doc, "div", {class: "reruns", role: "group", "aria-label": "Compare with other samplers"}, buttons));
}

/** This workspace's runs, newest first, each reopenable. */
function historyNode(doc: Document, entries: readonly HistoryEntry[], shownRunId: string | undefined): Node {
    return h(doc, "details", {id: "history", class: "history"},
        h(doc, "summary", {}, `History (${entries.length})`),
        h(doc, "ol", {class: "history-list"}, entries.map((entry) => h(doc, "li", {class: `history-entry${entry.runId === shownRunId ? " shown" : ""}`},
            h(doc, "button", {type: "button", class: "link", "data-reopen": entry.runId, disabled: entry.runId === shownRunId,
                "aria-label": `Reopen: ${oneLine(entry.prompt, 80)}, ${methodLabel(entry.method)}, ${STATUS_LABELS[entry.status]}`},
            oneLine(entry.prompt, 80)),
            h(doc, "span", {class: "history-meta"}, [methodLabel(entry.method), entry.answer === null ? STATUS_LABELS[entry.status] : `answer ${oneLine(entry.answer, 40)}`,
                formatDuration(entry.wallMs), new Date(entry.finishedAt).toLocaleString()].join(" · "))))));
}
