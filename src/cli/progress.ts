/** A one-line progress bar on stderr for long runs; silent when stderr is not a terminal. */
import {formatDuration} from "../protocol/figures.js";
import type {SolveProgress} from "../protocol/results.js";

const SHOW_AFTER_MS = 500;
/** How often the bar is redrawn, and so how often a run reports its progress. */
export const REDRAW_EVERY_MS = 100;
const WIDTH = 24;
/** Before this share of the work, or this long, a time left would be a guess. */
const ETA_AFTER_FRACTION = 0.005;
const ETA_AFTER_MS = 3000;

/** A job of many solves (an evaluation): how far the whole has got and what runs now. */
export interface OverallProgress {
    /** Share of the whole done, 0..1; the bar and the time left follow it. */
    readonly fraction: number;
    /** What runs now, shown first. */
    readonly label: string;
}

export class ProgressBar {
    private readonly start = performance.now();
    private shown = false;

    constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

    /** `progress`: the running solve's (null between solves); `overall`: the whole job's, with the time left. */
    update(progress: SolveProgress | null, overall?: OverallProgress): void {
        const now = performance.now();
        if (!this.stream.isTTY || now - this.start < SHOW_AFTER_MS) return;
        this.shown = true;
        const fraction = overall?.fraction ?? progress?.fraction ?? 0;
        const filled = Math.round(fraction * WIDTH);
        const parts: string[] = [];
        if (overall) parts.push(overall.label);
        if (progress?.power) {
            const {block, blocks, mcmcStep, mcmcSteps, acceptanceRate} = progress.power;
            parts.push(`block ${block}/${blocks}`);
            if (mcmcSteps > 0) parts.push(`step ${mcmcStep}/${mcmcSteps}`);
            if (acceptanceRate !== null) parts.push(`accepted ${Math.round(100 * acceptanceRate)}%`);
        }
        if (progress?.smc) {
            const {token, maxTokens, ess, particles, resamplings} = progress.smc;
            parts.push(`token ${token}/${maxTokens}`);
            if (ess !== null) parts.push(`ESS ${ess.toFixed(1)}/${particles}`);
            parts.push(`${resamplings} resamplings`);
        }
        if (progress) parts.push(`${progress.proposedTokens} tokens`);
        const elapsed = now - this.start;
        parts.push(formatDuration(elapsed));
        if (overall) {
            const left = remainingMs(elapsed, overall.fraction);
            parts.push(left === null ? "ETA …" : `ETA ${formatDuration(left)}`);
        }
        // One line: longer than the terminal, it would wrap and each redraw would add a line.
        const line = `[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${parts.join(" · ")}`.slice(0, Math.max(WIDTH + 3, (this.stream.columns ?? 120) - 1));
        this.stream.write(`\r${line}\x1b[K`);
    }

    finish(): void {
        if (this.shown) this.stream.write("\r\x1b[K");
    }
}

/** Time left at the pace so far: elapsed * (1 - f) / f; null while too little is done to tell. */
export function remainingMs(elapsedMs: number, fraction: number): number | null {
    if (fraction >= 1) return 0;
    if (fraction < ETA_AFTER_FRACTION || elapsedMs < ETA_AFTER_MS) return null;
    return elapsedMs * (1 - fraction) / fraction;
}
