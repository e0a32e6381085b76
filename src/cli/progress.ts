/** A one-line progress bar on stderr for long runs; silent when stderr is not a terminal. */
import type {SolveProgress} from "../protocol/results.js";

const SHOW_AFTER_MS = 500;
/** How often the bar is redrawn, and so how often a run reports its progress. */
export const REDRAW_EVERY_MS = 100;
const WIDTH = 24;

export class ProgressBar {
    private readonly start = performance.now();
    private shown = false;

    constructor(private readonly stream: NodeJS.WriteStream = process.stderr) {}

    update(progress: SolveProgress): void {
        const now = performance.now();
        if (!this.stream.isTTY || now - this.start < SHOW_AFTER_MS) return;
        this.shown = true;
        const filled = Math.round(progress.fraction * WIDTH);
        const parts: string[] = [];
        if (progress.power) {
            const {block, blocks, mcmcStep, mcmcSteps, acceptanceRate} = progress.power;
            parts.push(`block ${block}/${blocks}`);
            if (mcmcSteps > 0) parts.push(`step ${mcmcStep}/${mcmcSteps}`);
            if (acceptanceRate !== null) parts.push(`accepted ${Math.round(100 * acceptanceRate)}%`);
        }
        if (progress.smc) {
            const {token, maxTokens, ess, particles, resamplings} = progress.smc;
            parts.push(`token ${token}/${maxTokens}`);
            if (ess !== null) parts.push(`ESS ${ess.toFixed(1)}/${particles}`);
            parts.push(`${resamplings} resamplings`);
        }
        parts.push(`${progress.proposedTokens} tokens`, `${((now - this.start) / 1000).toFixed(1)} s`);
        this.stream.write(`\r[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${parts.join(" · ")}\x1b[K`);
    }

    finish(): void {
        if (this.shown) this.stream.write("\r\x1b[K");
    }
}
