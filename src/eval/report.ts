/**
 * report.html: an evaluation's summary as one self-contained page with inline SVG charts. No
 * scripts and nothing loaded from elsewhere, so it opens as it is in a browser and in a VS Code
 * webview (its Content-Security-Policy allows inline styles only). Text and axes take the page's
 * colour (VS Code's theme in a webview, the browser's light or dark scheme elsewhere); the series
 * colours are mid-tones of the Okabe-Ito palette, legible on light and dark backgrounds alike.
 */
import path from "node:path";
import type {Method} from "../protocol/params.js";
import {formatCount as count, formatDuration as duration, formatPercent} from "../protocol/figures.js";
import type {EvalSummary, MethodSummary} from "./summary.js";

/** Accuracies to a tenth of a percent: a difference of one problem in 500 shows. */
const percent = (rate: number, digits = 1) => formatPercent(rate, digits);

export const REPORT_FILE = "report.html";

/** A method's colour, the same in every chart. */
export const METHOD_COLOURS: Readonly<Record<Method, string>> = {
    power: "#E69F00",
    smc: "#CC79A7",
    "low-temperature": "#56B4E9",
    standard: "#009E73",
    greedy: "#999999"
};

/** The page for `summary`; pure. */
export function renderReport(summary: EvalSummary): string {
    const methods = (Object.entries(summary.methods) as [Method, MethodSummary][]);
    const title = `Evaluation: ${path.basename(summary.dataset)}`;
    return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>${STYLE}</style>
</head>
<body>
<main>
<h1>${escape(title)}</h1>
<p class="meta">${escape(describeRun(summary))}</p>
<section>
<h2>Accuracy</h2>
<p class="note">Bars: accuracy (pass@1: the mean over problems of the share of correct samples) with its 95 % interval.
Marks: majority-vote accuracy (&#9671;) and, for smc, weight-vote accuracy (&#9651;).</p>
${accuracyChart(methods)}
</section>
<section>
<h2>pass@k</h2>
${summary.samples > 1 ? passAtKChart(methods, summary.samples) : `<p class="note">pass@k needs more than one sample per problem (--samples).</p>`}
</section>
<section>
<h2>Accuracy against tokens spent</h2>
<p class="note">Tokens drawn per problem (all samples, every proposal and particle), log scale; whiskers: the 95 % interval.</p>
${costChart(methods)}
</section>
<section>
<h2>Figures</h2>
${figuresTable(methods, summary.samples)}
</section>
</main>
</body>
</html>
`;
}

const STYLE = `
:root { color-scheme: light dark; }
body { margin: 0; font-family: var(--vscode-font-family, system-ui, sans-serif); font-size: 14px;
  color: var(--vscode-editor-foreground, CanvasText); background: var(--vscode-editor-background, Canvas); }
main { max-width: 960px; margin: 0 auto; padding: 16px 24px 40px; }
h1 { font-size: 1.5em; margin: 0.6em 0 0.2em; }
h2 { font-size: 1.15em; margin: 1.6em 0 0.4em; }
.meta, .note { opacity: 0.8; }
svg { display: block; width: 100%; max-width: 760px; height: auto; overflow: visible; }
svg text { fill: currentColor; font-size: 12px; }
svg .axis { stroke: currentColor; stroke-opacity: 0.55; }
svg .grid { stroke: currentColor; stroke-opacity: 0.15; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 4px 10px; text-align: right; border-bottom: 1px solid rgba(128, 128, 128, 0.35); }
th:first-child, td:first-child { text-align: left; }
.swatch { display: inline-block; width: 0.8em; height: 0.8em; margin-right: 0.4em; border-radius: 2px; vertical-align: -0.05em; }
`;

function describeRun(summary: EvalSummary): string {
    const {params} = summary;
    const methods = Object.keys(summary.methods);
    const sampling = [
        methods.some((method) => method !== "standard" && method !== "greedy") && `α ${params.alpha}`,
        methods.includes("power") && `block ${params.blockSize}, ${params.mcmcSteps} MH steps`,
        methods.includes("smc") && `${params.particles} particles (resample every ${params.resampleInterval}, ESS < ${params.essThreshold})`,
        `max ${params.maxTokens} tokens`
    ].filter((part): part is string => typeof part === "string");
    const parts = [
        `dataset ${summary.datasetFile}`,
        `model ${summary.model}`,
        `${summary.problems} problem${summary.problems === 1 ? "" : "s"} (${summary.format})`,
        `${summary.samples} sample${summary.samples === 1 ? "" : "s"} per problem and method`,
        `prompt mode ${summary.mode}`,
        sampling.join(", "),
        `seed ${summary.seed}`
    ];
    return parts.join(" · ");
}

const WIDTH = 760;
const LABEL_WIDTH = 130;
const PLOT_LEFT = LABEL_WIDTH + 10;
const PLOT_RIGHT = WIDTH - 190;
/** Roughly the width of a character at the charts' 12 px, to keep labels apart. */
const CHARACTER_WIDTH = 7;
const LINE_HEIGHT = 14;

function accuracyChart(methods: readonly [Method, MethodSummary][]): string {
    const row = 30;
    const top = 10;
    const height = top + methods.length * row + 30;
    const x = (value: number) => PLOT_LEFT + value * (PLOT_RIGHT - PLOT_LEFT);
    const grid = [0, 0.25, 0.5, 0.75, 1].map((tick) =>
        `<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="${top}" y2="${height - 24}"/>`
        + `<text x="${x(tick)}" y="${height - 8}" text-anchor="middle">${percent(tick, 0)}</text>`).join("");
    const rows = methods.map(([method, figures], i) => {
        const y = top + i * row;
        const middle = y + row / 2 - 2;
        const colour = METHOD_COLOURS[method];
        const {low, high} = figures.accuracyInterval;
        const marks = [markDiamond(x(figures.majorityAccuracy), middle)];
        if (figures.weightVoteAccuracy !== undefined) marks.push(markTriangle(x(figures.weightVoteAccuracy), middle));
        return `<g><title>${escape(`${method}: accuracy ${percent(figures.accuracy)} (95 % ${percent(low)}–${percent(high)}), majority vote ${percent(figures.majorityAccuracy)}`
            + (figures.weightVoteAccuracy === undefined ? "" : `, weight vote ${percent(figures.weightVoteAccuracy)}`))}</title>`
            + `<text x="${LABEL_WIDTH}" y="${middle + 4}" text-anchor="end">${escape(method)}</text>`
            + `<rect x="${PLOT_LEFT}" y="${y + 5}" width="${Math.max(0, x(figures.accuracy) - PLOT_LEFT)}" height="${row - 14}" fill="${colour}" fill-opacity="0.85"/>`
            + `<line class="axis" x1="${x(low)}" x2="${x(high)}" y1="${middle}" y2="${middle}" stroke-width="1.5"/>`
            + `<line class="axis" x1="${x(low)}" x2="${x(low)}" y1="${middle - 5}" y2="${middle + 5}" stroke-width="1.5"/>`
            + `<line class="axis" x1="${x(high)}" x2="${x(high)}" y1="${middle - 5}" y2="${middle + 5}" stroke-width="1.5"/>`
            + marks.join("")
            + `<text x="${PLOT_RIGHT + 12}" y="${middle + 4}">${percent(figures.accuracy)} (${percent(low)}–${percent(high)})</text></g>`;
    }).join("\n");
    return svg(height, `${grid}\n${rows}`, "Accuracy per method with 95 % intervals");
}

function markDiamond(cx: number, cy: number): string {
    return `<path d="M${cx} ${cy - 6} L${cx + 6} ${cy} L${cx} ${cy + 6} L${cx - 6} ${cy} Z" fill="none" stroke="currentColor" stroke-width="1.5"/>`;
}

function markTriangle(cx: number, cy: number): string {
    return `<path d="M${cx} ${cy - 6} L${cx + 6} ${cy + 5} L${cx - 6} ${cy + 5} Z" fill="none" stroke="currentColor" stroke-width="1.5"/>`;
}

function passAtKChart(methods: readonly [Method, MethodSummary][], samples: number): string {
    const top = 10;
    const bottom = 240;
    const height = bottom + 40;
    const x = (k: number) => PLOT_LEFT + ((k - 1) / (samples - 1)) * (PLOT_RIGHT - PLOT_LEFT);
    const y = (value: number) => bottom - value * (bottom - top);
    const kTicks = integerTicks(samples);
    const grid = [0, 0.25, 0.5, 0.75, 1].map((tick) =>
        `<line class="grid" x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${y(tick)}" y2="${y(tick)}"/>`
        + `<text x="${PLOT_LEFT - 6}" y="${y(tick) + 4}" text-anchor="end">${percent(tick, 0)}</text>`).join("")
        + kTicks.map((k) => `<text x="${x(k)}" y="${bottom + 18}" text-anchor="middle">${k}</text>`).join("")
        + `<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${bottom + 36}" text-anchor="middle">k (samples per problem)</text>`
        + `<line class="axis" x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${bottom}" y2="${bottom}"/>`;
    const lines = methods.map(([method, figures], i) => {
        const colour = METHOD_COLOURS[method];
        const points = Array.from({length: samples}, (_, k) => [x(k + 1), y(figures.passAtK[k + 1] ?? 0)] as const);
        const dots = samples <= 32 ? points.map(([px, py]) => `<circle cx="${px}" cy="${py}" r="3" fill="${colour}"/>`).join("") : "";
        const legendY = top + 10 + i * 20;
        return `<g><title>${escape(`${method}: pass@1 ${percent(figures.passAtK[1] ?? 0)}, pass@${samples} ${percent(figures.passAtK[samples] ?? 0)}`)}</title>`
            + `<polyline points="${points.map(([px, py]) => `${px},${py}`).join(" ")}" fill="none" stroke="${colour}" stroke-width="2"/>${dots}`
            + `<rect x="${PLOT_RIGHT + 16}" y="${legendY - 9}" width="12" height="12" fill="${colour}"/>`
            + `<text x="${PLOT_RIGHT + 34}" y="${legendY + 1}">${escape(method)} ${percent(figures.passAtK[samples] ?? 0)}</text></g>`;
    }).join("\n");
    return svg(height, `${grid}\n${lines}`, "pass@k per method");
}

function costChart(methods: readonly [Method, MethodSummary][]): string {
    const top = 10;
    const bottom = 240;
    const height = bottom + 40;
    const tokens = methods.map(([, figures]) => Math.max(1, figures.tokensPerProblem));
    const lowDecade = Math.floor(Math.log10(Math.min(...tokens)));
    const highDecade = Math.max(lowDecade + 1, Math.ceil(Math.log10(Math.max(...tokens))));
    const x = (value: number) => PLOT_LEFT + ((Math.log10(Math.max(1, value)) - lowDecade) / (highDecade - lowDecade)) * (PLOT_RIGHT - PLOT_LEFT);
    const y = (value: number) => bottom - value * (bottom - top);
    const decades = Array.from({length: highDecade - lowDecade + 1}, (_, i) => 10 ** (lowDecade + i));
    const grid = [0, 0.25, 0.5, 0.75, 1].map((tick) =>
        `<line class="grid" x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${y(tick)}" y2="${y(tick)}"/>`
        + `<text x="${PLOT_LEFT - 6}" y="${y(tick) + 4}" text-anchor="end">${percent(tick, 0)}</text>`).join("")
        + decades.map((value) => `<line class="grid" x1="${x(value)}" x2="${x(value)}" y1="${top}" y2="${bottom}"/>`
            + `<text x="${x(value)}" y="${bottom + 18}" text-anchor="middle">${count(value)}</text>`).join("")
        + `<text x="${(PLOT_LEFT + PLOT_RIGHT) / 2}" y="${bottom + 36}" text-anchor="middle">tokens drawn per problem</text>`
        + `<line class="axis" x1="${PLOT_LEFT}" x2="${PLOT_RIGHT}" y1="${bottom}" y2="${bottom}"/>`;
    const placed = methods.map(([method, figures]) => ({method, figures, px: x(figures.tokensPerProblem), py: y(figures.accuracy)}));
    const labels = placeLabels(placed.map(({method, px, py}) => ({text: method, x: px + 10, y: py + 4})),
        placed.map(({px, py}) => ({left: px - 7, right: px + 7, top: py - 7, bottom: py + 7})));
    const points = placed.map(({method, figures, px, py}, i) => {
        const colour = METHOD_COLOURS[method];
        return `<g><title>${escape(`${method}: ${percent(figures.accuracy)} at ${count(figures.tokensPerProblem)} tokens per problem`)}</title>`
            + `<line class="axis" x1="${px}" x2="${px}" y1="${y(figures.accuracyInterval.low)}" y2="${y(figures.accuracyInterval.high)}" stroke-width="1.5"/>`
            + `<circle cx="${px}" cy="${py}" r="6" fill="${colour}"/>`
            + `<text x="${labels[i]!.x}" y="${labels[i]!.y}">${escape(method)}</text></g>`;
    }).join("\n");
    return svg(height, `${grid}\n${points}`, "Accuracy against tokens drawn per problem");
}

interface Label {
    readonly text: string;
    /** Start of the text's baseline. */
    readonly x: number;
    readonly y: number;
}

interface Box {
    readonly left: number;
    readonly right: number;
    readonly top: number;
    readonly bottom: number;
}

/** Moves labels down, the highest first, until none overlaps another label or an obstacle (the points). */
function placeLabels(labels: readonly Label[], obstacles: readonly Box[]): Label[] {
    const box = (label: Label): Box => ({left: label.x, right: label.x + label.text.length * CHARACTER_WIDTH, top: label.y - LINE_HEIGHT + 3, bottom: label.y + 3});
    const overlap = (a: Box, b: Box) => a.left < b.right && b.left < a.right && a.top < b.bottom && b.top < a.bottom;
    const taken = [...obstacles];
    const placed = [...labels];
    for (const i of labels.map((_, k) => k).sort((a, b) => labels[a]!.y - labels[b]!.y)) {
        let label = labels[i]!;
        while (taken.some((other) => overlap(box(label), other))) label = {...label, y: label.y + 4};
        placed[i] = label;
        taken.push(box(label));
    }
    return placed;
}

function figuresTable(methods: readonly [Method, MethodSummary][], samples: number): string {
    const header = ["method", "accuracy", "95 % interval", `pass@${samples}`, "majority vote", "weight vote", "tokens / problem", "time / problem",
        "cost vs standard (tokens, time)", "no answer", "cut at max"];
    const rows = methods.map(([method, f]) => [
        `<span class="swatch" style="background:${METHOD_COLOURS[method]}"></span>${escape(method)}`,
        percent(f.accuracy), `${percent(f.accuracyInterval.low)}–${percent(f.accuracyInterval.high)}`, percent(f.passAtK[samples] ?? 0),
        percent(f.majorityAccuracy), f.weightVoteAccuracy === undefined ? "–" : percent(f.weightVoteAccuracy),
        count(f.tokensPerProblem), duration(f.wallMsPerProblem),
        f.costVsStandard ? `${f.costVsStandard.tokens.toFixed(2)}x, ${f.costVsStandard.wallTime.toFixed(2)}x` : "–",
        percent(f.noAnswerRate), percent(f.cutRate)
    ]);
    return `<table>\n<thead><tr>${header.map((cell) => `<th>${escape(cell)}</th>`).join("")}</tr></thead>\n<tbody>\n`
        + rows.map((cells) => `<tr>${cells.map((cell) => `<td>${cell}</td>`).join("")}</tr>`).join("\n")
        + "\n</tbody>\n</table>";
}

function svg(height: number, body: string, label: string): string {
    return `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 ${WIDTH} ${height}" width="${WIDTH}" height="${height}" role="img" aria-label="${escape(label)}" `
        + `fill="currentColor">\n${body}\n</svg>`;
}

/** About six ticks from 1 to n, at round steps. */
function integerTicks(n: number): number[] {
    const step = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000].find((candidate) => n / candidate <= 8) ?? Math.ceil(n / 8);
    const ticks = [1];
    for (let k = step; k <= n; k += step) if (k > 1) ticks.push(k);
    if (ticks.at(-1) !== n) ticks.push(n);
    return ticks;
}

function escape(text: string): string {
    return text.replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\"": "&quot;", "'": "&#39;"})[c]!);
}
