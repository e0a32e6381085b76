/// <reference lib="dom" />
/**
 * The view: `render(state, document)` brings the document in line with a ViewState. It keeps one
 * renderer per document and rebuilds only the parts whose inputs changed (the reducer makes new
 * objects only for what changed), so streaming re-renders the stream and progress alone, and
 * the focused control keeps focus across rebuilds. Buttons carry data attributes only; the
 * controller handles clicks by delegation (see intentOf in events.ts).
 */
import type {SolveResult, SolvedAlternative} from "../backend/protocol.js";
import type {AnswerGroup} from "../answers/group.js";
import type {AlternativeAction} from "./messages.js";
import {changedSpans, rawTextWithChanges} from "./changes.js";
import {h, htmlElement, htmlToFragment, svg} from "./dom.js";
import {renderAnswer, renderMarkdown, renderMarkdownBlocks} from "./markdown.js";
import {
    costMultiplier, formatDuration, formatInteger, formatLogProb, formatMultiplier, formatPercent, formatShare,
    meanLogProb, methodLabel, type RunState, STATUS_LABELS, streamText, totalTokens, type ViewState
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
    const attrs = ["data-action", "data-index", "data-rerun", "data-chain", "data-view"]
        .filter((name) => el.hasAttribute(name))
        .map((name) => `[${name}="${(el.getAttribute(name) ?? "").replace(/["\\]/g, "\\$&")}"]`);
    if (el.id !== "") attrs.unshift(`#${el.id}`);
    if (el.classList.contains("alternative")) attrs.unshift(".alternative");
    return attrs.length > 0 ? attrs.join("") : null;
}

const renderers = new WeakMap<Document, Renderer>();

/** Renders the state into `doc`'s `#app` (made in the body when missing). */
export function render(state: ViewState, doc: Document): void {
    let renderer = renderers.get(doc);
    if (renderer === undefined) {
        renderer = new Renderer(doc);
        renderers.set(doc, renderer);
    }
    renderer.update(state);
}

class Renderer {
    private readonly header: Slot;
    private readonly live: HTMLElement;
    private readonly primaryHost: HTMLElement;
    private readonly compare: HTMLElement;
    private readonly columns: HTMLElement;
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
        this.empty = h(doc, "p", {class: "empty"}, "Select a problem or a code stub in an editor and run “Solve with Power Sampling”.");
        this.primaryHost = h(doc, "div", {class: "primary-host"});
        this.columns = h(doc, "div", {class: "columns"});
        this.compare = h(doc, "section", {id: "compare", class: "compare", "aria-labelledby": "compare-title", hidden: true},
            h(doc, "h2", {id: "compare-title"}, "Comparison"),
            h(doc, "p", {class: "hint"}, "The same problem sampled by each method: final answer, agreement among the alternatives, "
                + "mean base-model log-likelihood (higher is likelier) and tokens."),
            this.columns);
        app.replaceChildren(this.live, this.header.el, this.empty, this.primaryHost, this.compare);
    }

    update(state: ViewState): void {
        const {doc} = this;
        const [main, ...others] = state.runs;
        this.empty.hidden = main !== undefined;
        this.header.update([main?.info], () => (main === undefined ? [] : headerNodes(doc, main)));

        if (main === undefined) {
            this.primary?.root.remove();
            this.primary = null;
        } else {
            if (this.primary?.runId !== main.info.runId) {
                this.primary?.root.remove();
                this.primary = new RunView(doc, main.info.runId, "primary");
                this.primaryHost.append(this.primary.root);
            }
            this.primary.update(main, state);
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
            view.update(run, state);
        });

        this.announce(state);
    }

    /** Announces comparison runs' state changes (the main run's #status is a live region itself). */
    private announce(state: ViewState): void {
        const messages: string[] = [];
        state.runs.forEach((run, i) => {
            const previous = this.statuses.get(run.info.runId);
            if (previous !== undefined && previous !== run.status && i > 0) {
                const answer = run.result?.answer.finalAnswer;
                messages.push(`${methodLabel(run.info.method)}: ${STATUS_LABELS[run.status]}${answer ? `. Answer: ${answer}` : ""}.`);
            }
            this.statuses.set(run.info.runId, run.status);
        });
        if (messages.length > 0) this.live.textContent = messages.join(" ");
    }
}

function headerNodes(doc: Document, run: RunState): Nodes {
    const {info} = run;
    const meta = [info.modelName, `${info.mode} mode`, `${info.alternatives} alternative${info.alternatives === 1 ? "" : "s"}`];
    return [
        h(doc, "div", {class: "title-row"},
            h(doc, "h1", {}, "Power Sampling"),
            h(doc, "span", {class: "meta"}, meta.join(" · "))),
        h(doc, "details", {class: "prompt"},
            h(doc, "summary", {}, "Problem"),
            h(doc, "pre", {class: "prompt-text", tabindex: 0}, info.prompt))
    ];
}

type RunViewKind = "primary" | "column" | "summary";

/**
 * One run. "primary": the main run in full, with the stable ids; "column": a comparison re-run,
 * compact, alternatives folded; "summary": the main run's column in the comparison (no cards).
 */
class RunView {
    readonly root: HTMLElement;
    private readonly status: HTMLElement;
    private readonly slots: Record<"controls" | "error" | "progress" | "stream" | "answer" | "groups" | "how" | "reruns", Slot>;
    private textBody: Slot | null = null;
    private stream: StreamView | null = null;

    constructor(private readonly doc: Document, readonly runId: string, private readonly kind: RunViewKind) {
        const primary = kind === "primary";
        const slot = (name: string) => new Slot(h(doc, "div", {class: `slot slot-${name}`}));
        this.slots = {
            controls: slot("controls"), error: slot("error"), progress: slot("progress"), stream: slot("stream"),
            answer: slot("answer"), groups: slot("groups"), how: slot("how"), reruns: slot("reruns")
        };
        this.status = h(doc, "span", {class: "run-status", ...(primary ? {id: "status", role: "status", "aria-live": "polite"} : {})});
        this.root = h(doc, primary ? "section" : "article", {
            class: `run run-${kind}`, ...(primary ? {id: "primary"} : {}), "data-run-id": runId, "aria-label": "Run"
        });
        const bar = h(doc, "div", {class: "run-bar"}, h(doc, "span", {class: "run-method"}), this.status, this.slots.controls.el);
        this.root.append(bar, ...Object.entries(this.slots).filter(([name]) => name !== "controls").map(([, s]) => s.el));
    }

    update(run: RunState, state: ViewState): void {
        const {doc, kind, slots} = this;
        const primary = kind === "primary";
        const label = methodLabel(run.info.method);
        this.root.dataset.method = run.info.method;
        this.root.dataset.state = run.status;
        this.root.setAttribute("aria-label", `${label} run`);
        (this.root.querySelector(".run-method") as HTMLElement).textContent = label;
        const statusText = STATUS_LABELS[run.status];
        if (this.status.textContent !== statusText) this.status.textContent = statusText;
        this.status.dataset.state = run.status;

        slots.controls.update([run.status, run.stopRequested], () => (kind === "summary" ? [] : [stopButton(doc, run, primary)]));
        slots.error.update([run.error], () => (run.error === null ? [] : [errorBox(doc, run.error, primary)]));
        const showStream = run.result === null && kind !== "summary";
        slots.progress.update([run.progress, run.chain, run.status, showStream], () => (showStream ? progressNodes(doc, run) : []));
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
        const answerChanged = slots.answer.update([result, run.info.hasSelection, kind], () =>
            (result === null ? [] : kind === "primary" ? answerNodes(doc, run, result) : [summaryNode(doc, run, result, kind)]));
        if (answerChanged) {
            const body = slots.answer.el.querySelector<HTMLElement>(".text-body");
            this.textBody = body === null ? null : new Slot(body);
        }
        if (result !== null) this.textBody?.update([result, run.textView], () => textBodyNodes(doc, run, result));

        slots.groups.update([result, run.info.hasSelection, kind], () =>
            (result === null || kind === "summary" ? [] : [groupsNode(doc, run, result, kind)]));
        slots.how.update([result, kind], () => (result === null || !primary ? [] : [howNode(doc, result)]));
        const rerunDeps = state.runs.map((r) => `${r.info.method}:${r.status}`).join(",");
        slots.reruns.update([primary, run.status, run.info.method, rerunDeps], () => (primary && run.status !== "running" ? [rerunNode(doc, run, state)] : []));
    }
}

function stopButton(doc: Document, run: RunState, primary: boolean): Node | null {
    if (run.status !== "running") return null;
    return h(doc, "button", {
        type: "button", class: "stop secondary", ...(primary ? {id: "stop"} : {}), "data-action": "stop", "data-run-id": run.info.runId,
        disabled: run.stopRequested, "aria-label": `Stop ${methodLabel(run.info.method).toLowerCase()} run`
    }, run.stopRequested ? "Stopping…" : "Stop");
}

function errorBox(doc: Document, message: string, primary: boolean): Node {
    return h(doc, "div", {class: "error", ...(primary ? {id: "error"} : {}), role: "alert"},
        h(doc, "strong", {}, "The run failed"),
        h(doc, "p", {class: "error-message"}, message));
}

function progressNodes(doc: Document, run: RunState): Nodes {
    const p = run.progress;
    if (p === null) {
        return run.status === "running" ? [h(doc, "p", {class: "progress-line"}, "Loading the model and starting…")] : [];
    }
    const blocks = Math.max(1, p.blocks);
    const stepShare = p.mcmcStepsPerBlock > 0 ? p.mcmcStep / (p.mcmcStepsPerBlock + 1) : 0.5;
    const fraction = Math.min(1, Math.max(0, (Math.max(0, p.block - 1) + (run.status === "running" ? stepShare : 1)) / blocks));
    const facts: [string, string][] = [["Block", `${p.block}/${p.blocks}`]];
    if (p.mcmcStepsPerBlock > 0) {
        facts.push(["MCMC step", `${p.mcmcStep}/${p.mcmcStepsPerBlock}`]);
        facts.push(["Acceptance", formatPercent(p.acceptanceRate)]);
    }
    facts.push(["Tokens proposed", formatInteger(p.proposedTokens)]);
    const nodes: Nodes = [
        h(doc, "progress", {class: "run-progress", max: 1, value: fraction.toFixed(3), "aria-label": "Progress (blocks are an upper bound: a sample may end early)"}),
        factList(doc, facts, "progress-facts")
    ];
    if (p.chains.length > 1) {
        const chosen = Math.min(run.chain, p.chains.length - 1);
        nodes.push(h(doc, "div", {class: "chain-picker", role: "group", "aria-label": "Chain to show"},
            h(doc, "span", {class: "label"}, "Chain"),
            p.chains.map((_, i) => h(doc, "button", {
                type: "button", class: "chip", "data-chain": i, "data-run-id": run.info.runId, "aria-pressed": i === chosen ? "true" : "false",
                "aria-label": `Show chain ${i + 1} of ${p.chains.length}`
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
    private readonly note: HTMLElement;
    private readonly body: HTMLElement;
    private blocks: {html: string; el: Element}[] = [];
    private text: string | null = null;

    constructor(private readonly doc: Document, primary: boolean) {
        this.note = h(doc, "p", {class: "note", hidden: true});
        this.body = h(doc, "div", {class: "stream-body"});
        this.el = h(doc, "div", {class: `stream markdown${primary ? "" : " compact"}`, ...(primary ? {id: "stream"} : {})}, this.note, this.body);
    }

    update(run: RunState): void {
        const {doc, el} = this;
        const running = run.status === "running";
        el.dataset.runId = run.info.runId;
        el.setAttribute("aria-label", running ? "Current text" : "Partial text");
        el.setAttribute("aria-busy", running ? "true" : "false");
        const text = streamText(run);
        this.note.hidden = run.status !== "stopped" || text === "";
        this.note.textContent = "Stopped: the partial text is kept below.";
        const key = `${run.info.mode}\u0000${running}\u0000${text}`;
        if (key === this.text) return;
        this.text = key;
        if (text === "") {
            this.blocks = [];
            this.body.replaceChildren(h(doc, "p", {class: "placeholder"}, running ? "Waiting for the first tokens…" : "No text was generated."));
            return;
        }
        if (this.blocks.length === 0) this.body.replaceChildren();
        const htmls = renderMarkdownBlocks(text, run.info.mode);
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

const ACTIONS: {action: AlternativeAction; label: string; aria: (n: string) => string; needsSelection: boolean}[] = [
    {action: "insert", label: "Insert at cursor", aria: (n) => `Insert ${n} at the cursor`, needsSelection: false},
    {action: "replace", label: "Replace selection", aria: (n) => `Replace the selection with ${n}`, needsSelection: true},
    {action: "copy", label: "Copy", aria: (n) => `Copy ${n}`, needsSelection: false},
    {action: "diff", label: "Diff against selection", aria: (n) => `Diff ${n} against the selection`, needsSelection: true}
];

function actionButtons(doc: Document, run: RunState, index: number, what: string): Node {
    return h(doc, "div", {class: "actions", role: "group", "aria-label": `Actions for ${what}`},
        ACTIONS.map(({action, label, aria, needsSelection}) => {
            const disabled = needsSelection && !run.info.hasSelection;
            return h(doc, "button", {
                type: "button", class: action === "insert" ? "" : "secondary", "data-action": action, "data-index": index,
                "data-run-id": run.info.runId, "aria-label": aria(what), disabled,
                title: disabled ? "There was no selection when this run started" : null
            }, label);
        }));
}

function answerHtml(doc: Document, run: RunState, alt: SolvedAlternative): Node {
    if (alt.finalAnswer === null) return h(doc, "p", {class: "no-answer"}, "(no final answer found)");
    return htmlElement(doc, "div", {class: "final-answer-body"}, renderAnswer(alt.finalAnswer, alt.text, run.info.mode));
}

function answerNodes(doc: Document, run: RunState, result: SolveResult): Nodes {
    const alt = result.answer;
    const group = result.groups.find((g) => g.members.includes(result.answerIndex));
    const k = result.alternatives.length;
    const name = `alternative ${result.answerIndex + 1}`;
    return [h(doc, "section", {id: "answer", class: "answer", "data-answer": alt.finalAnswer ?? "", "aria-labelledby": "answer-title"},
        h(doc, "h2", {id: "answer-title"}, "Answer"),
        h(doc, "div", {class: "final-answer"}, answerHtml(doc, run, alt)),
        k > 1 && group !== undefined
            ? h(doc, "p", {class: "consensus"},
                h(doc, "span", {class: "share"}, formatShare(group.count, k)),
                ` of the alternatives reach this answer; the chosen one is the likeliest of them (log p ${formatLogProb(alt.logProb)}).`)
            : null,
        actionButtons(doc, run, result.answerIndex, `the answer (${name})`),
        h(doc, "details", {class: "full-text"},
            h(doc, "summary", {}, `Full text (${name}, ${formatInteger(alt.tokenCount)} tokens${alt.finishReason === "length" ? ", cut at the token limit" : ""})`),
            h(doc, "div", {class: "text-body"})))];
}

function textBodyNodes(doc: Document, run: RunState, result: SolveResult): Nodes {
    const alt = result.answer;
    const raw = run.textView === "raw";
    const changes = changedSpans(alt.text, alt.changedOffsets).length;
    const toggle = h(doc, "div", {class: "view-toggle", role: "group", "aria-label": "Show the text as"},
        h(doc, "button", {type: "button", class: "chip", "data-view": "rendered", "data-run-id": run.info.runId, "aria-pressed": raw ? "false" : "true"}, "Rendered"),
        h(doc, "button", {type: "button", class: "chip", "data-view": "raw", "data-run-id": run.info.runId, "aria-pressed": raw ? "true" : "false"},
            `Raw text, MCMC rewrites marked (${alt.changedOffsets.length})`));
    if (raw) {
        return [toggle,
            h(doc, "p", {class: "hint"}, changes === 0
                ? "No accepted MCMC move changed this text (it is the proposal's own draw)."
                : "Each mark starts where an accepted MCMC move resampled the rest of the text; later moves rewrote parts again."),
            rawTextWithChanges(doc, alt.text, alt.changedOffsets)];
    }
    return [toggle, htmlElement(doc, "div", {class: "answer-text markdown"}, renderMarkdown(alt.text, run.info.mode))];
}

function groupLabel(doc: Document, run: RunState, result: SolveResult, group: AnswerGroup): Node {
    const first = result.alternatives[group.members[0] ?? -1];
    if (group.key === "" || first === undefined || first.finalAnswer === null) return h(doc, "span", {class: "no-answer"}, group.answer);
    if (run.info.mode === "code") {
        const firstLine = first.finalAnswer.split("\n").find((line) => line.trim() !== "") ?? "";
        return h(doc, "code", {class: "code-answer"}, firstLine.length > 80 ? `${firstLine.slice(0, 80)}…` : firstLine);
    }
    return htmlElement(doc, "span", {class: "group-answer-body"}, renderAnswer(first.finalAnswer, first.text, run.info.mode));
}

function groupsNode(doc: Document, run: RunState, result: SolveResult, kind: RunViewKind): Node {
    const k = result.alternatives.length;
    const groups = result.groups.map((group, g) =>
        h(doc, "div", {class: "group", "data-key": group.key, "data-count": group.count},
            h(doc, "div", {class: "group-head"},
                h(doc, "span", {class: "group-answer"}, groupLabel(doc, run, result, group)),
                h(doc, "span", {class: "share", "aria-label": `${group.count} of ${k} alternatives, ${Math.round(group.share * 100)} percent`},
                    formatShare(group.count, k))),
            shareBar(doc, group.share, g),
            h(doc, "div", {class: "cards", role: "list"},
                group.members.map((index) => cardNode(doc, run, result, index)))));
    if (kind === "column") {
        return h(doc, "details", {class: "groups column-groups"},
            h(doc, "summary", {}, `Alternatives (${k})`), groups);
    }
    return h(doc, "section", {class: "groups", "aria-labelledby": "groups-title"},
        h(doc, "h2", {id: "groups-title"}, `Alternatives by answer (${k})`),
        k > 1 ? h(doc, "p", {class: "hint"}, "Agreement among independent samples is a consensus signal, as in pass@k: "
            + "an answer many alternatives reach is more often right.") : null,
        groups);
}

function shareBar(doc: Document, share: number, index: number): Node {
    const fill = h(doc, "span", {class: `share-fill series-${index % 6}`});
    fill.style.width = `${Math.round(Math.min(1, Math.max(0, share)) * 100)}%`;
    return h(doc, "div", {class: "share-bar", "aria-hidden": "true"}, fill);
}

function cardNode(doc: Document, run: RunState, result: SolveResult, index: number): Node | null {
    const alt = result.alternatives[index];
    if (alt === undefined) return null;
    const chosen = index === result.answerIndex;
    const name = `alternative ${index + 1}`;
    return h(doc, "article", {
        class: `alternative${chosen ? " chosen" : ""}`, role: "listitem", tabindex: 0, "data-index": index, "data-run-id": run.info.runId,
        "aria-label": `Alternative ${index + 1} of ${result.alternatives.length}${chosen ? ", chosen" : ""}: answer ${alt.finalAnswer ?? "none"}, log p ${formatLogProb(alt.logProb)}, ${alt.tokenCount} tokens`
    },
    h(doc, "div", {class: "alt-head"},
        h(doc, "span", {class: "alt-name"}, `Alternative ${index + 1}`),
        chosen ? h(doc, "span", {class: "badge"}, "chosen") : null),
    factList(doc, [
        ["log p", formatLogProb(alt.logProb)],
        ["per token", formatLogProb(alt.tokenCount > 0 ? alt.logProb / alt.tokenCount : null)],
        ["tokens", formatInteger(alt.tokenCount)],
        ["finish", alt.finishReason === "eos" ? "end of text" : "token limit"],
        ...(result.method === "power" ? [["MCMC rewrites", String(alt.changedOffsets.length)] as [string, string]] : [])
    ], "alt-stats"),
    h(doc, "details", {class: "alt-text"},
        h(doc, "summary", {}, "Text"),
        htmlElement(doc, "div", {class: "markdown"}, renderMarkdown(alt.text, run.info.mode))),
    actionButtons(doc, run, index, name));
}

function factList(doc: Document, facts: readonly (readonly [string, string])[], className: string): Node {
    return h(doc, "dl", {class: `facts ${className}`},
        facts.map(([term, value]) => h(doc, "div", {class: "fact"}, h(doc, "dt", {}, term), h(doc, "dd", {}, value))));
}

function howNode(doc: Document, result: SolveResult): Node {
    const {stats, params} = result;
    const final = totalTokens(result.alternatives);
    const k = result.alternatives.length;
    const facts: [string, string][] = [];
    if (result.method === "power") {
        facts.push(["Acceptance rate", stats.acceptanceRate === null ? "—"
            : `${formatPercent(stats.acceptanceRate)} (${formatInteger(stats.acceptedSteps)} of ${formatInteger(stats.mcmcSteps)} MCMC steps)`]);
    }
    facts.push(
        ["Tokens proposed", formatInteger(stats.proposedTokens)],
        [k === 1 ? "Tokens in the text" : `Tokens in the ${k} texts`, formatInteger(final)],
        ["Cost", `${formatMultiplier(costMultiplier(result))} the tokens of standard sampling of the same length`],
        ["Sampling time", formatDuration(stats.wallMs)],
        ["Model load", formatDuration(stats.loadMs)]);
    if (stats.queuedMs > 0) facts.push(["Queued", formatDuration(stats.queuedMs)]);
    facts.push(["Prompt tokens", formatInteger(stats.promptTokens)]);
    facts.push(["Parameters", result.method === "power"
        ? `α ${params.alpha} · block ${params.blockSize} · ${params.mcmcSteps} steps per block · max ${params.maxTokens} tokens · seed ${params.seed}`
        : `${methodLabel(result.method)} · max ${params.maxTokens} tokens · seed ${params.seed}`]);
    const rewrites = result.answer.changedOffsets.length;
    return h(doc, "section", {class: "how", "aria-labelledby": "how-title"},
        h(doc, "h2", {id: "how-title"}, "How it got there"),
        factList(doc, facts, "how-facts"),
        logProbPlot(doc, result),
        result.method === "power"
            ? h(doc, "p", {class: "hint"}, rewrites === 0
                ? "No accepted MCMC move changed the chosen text."
                : `${rewrites} accepted MCMC move${rewrites === 1 ? "" : "s"} rewrote the chosen text; open “Full text” above and pick “Raw text” to see where.`)
            : null);
}

/** One dot per alternative at its base-model log-likelihood; the chosen one ringed. */
function logProbPlot(doc: Document, result: SolveResult): Node {
    const alts = result.alternatives;
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
    const k = result.alternatives.length;
    const alt = result.answer;
    const group = result.groups.find((g) => g.members.includes(result.answerIndex));
    const mean = meanLogProb(result.alternatives);
    const final = totalTokens(result.alternatives);
    return h(doc, "div", {class: "answer summary", "data-answer": alt.finalAnswer ?? ""},
        h(doc, "div", {class: "final-answer"}, answerHtml(doc, run, alt)),
        factList(doc, [
            ["Agreement", group === undefined ? "—" : formatShare(group.count, k)],
            ["Answers", result.groups.map((g) => `${g.answer.length > 24 ? `${g.answer.slice(0, 24)}…` : g.answer} (${g.count})`).join(", ")],
            ["Mean log p", formatLogProb(mean)],
            ["Mean log p per token", formatLogProb(mean !== null && final > 0 ? (mean * k) / final : null)],
            ["Tokens (texts)", formatInteger(final)],
            ["Tokens proposed", `${formatInteger(result.stats.proposedTokens)} (${formatMultiplier(costMultiplier(result))})`],
            ["Sampling time", formatDuration(result.stats.wallMs)]
        ], "summary-facts"),
        kind === "summary" ? h(doc, "p", {class: "hint"}, "Alternatives and actions: above.") : null);
}

const RERUN_METHODS: {method: "low-temperature" | "standard" | "power"; label: string; hint: string}[] = [
    {method: "low-temperature", label: "Compare with low temperature", hint: "Each token at temperature 1/α: sharpens tokens one at a time."},
    {method: "standard", label: "Compare with standard sampling", hint: "Temperature 1: what the base model does on its own."},
    {method: "power", label: "Compare with power sampling", hint: "Metropolis-Hastings on p^α: weighs whole continuations."}
];

function rerunNode(doc: Document, run: RunState, state: ViewState): Node {
    const buttons = RERUN_METHODS.filter(({method}) => method !== run.info.method && (method !== "power" || run.info.method !== "power"))
        .map(({method, label, hint}) => {
            const running = state.runs.some((r) => r.info.method === method && r.status === "running");
            return h(doc, "button", {
                type: "button", class: "secondary", "data-rerun": method, disabled: running,
                "aria-label": `${label}: re-run this problem with ${methodLabel(method).toLowerCase()} and show the results side by side`,
                title: hint
            }, running ? `${label} (running…)` : label);
        });
    return h(doc, "div", {class: "reruns", role: "group", "aria-label": "Compare with other samplers"}, buttons);
}
