/** A one-line progress bar on stderr for long runs; silent when stderr is not a terminal. */
import type {SamplingProgress} from "../sampling/run.js";

const SHOW_AFTER_MS = 500;
const REDRAW_EVERY_MS = 100;
const WIDTH = 24;

export class ProgressBar {
    private readonly start = performance.now();
    private lastDraw = 0;
    private shown = false;

    constructor(private readonly mcmcStepsPerBlock: number, private readonly stream: NodeJS.WriteStream = process.stderr) {}

    update(progress: SamplingProgress): void {
        const now = performance.now();
        if (!this.stream.isTTY || now - this.start < SHOW_AFTER_MS || now - this.lastDraw < REDRAW_EVERY_MS) return;
        this.lastDraw = now;
        this.shown = true;
        const stepsPerBlock = this.mcmcStepsPerBlock + 1;
        const done = progress.blocks === 0 ? 0 : ((progress.block - 1) * stepsPerBlock + progress.mcmcStep) / (progress.blocks * stepsPerBlock);
        const filled = Math.round(done * WIDTH);
        const parts = [`block ${progress.block}/${progress.blocks}`];
        if (this.mcmcStepsPerBlock > 0) parts.push(`step ${progress.mcmcStep}/${this.mcmcStepsPerBlock}`);
        if (progress.mcmcSteps > 0) parts.push(`accepted ${Math.round(100 * progress.acceptedSteps / progress.mcmcSteps)}%`);
        parts.push(`${progress.proposedTokens} tokens`, `${((now - this.start) / 1000).toFixed(1)} s`);
        this.stream.write(`\r[${"#".repeat(filled)}${"-".repeat(WIDTH - filled)}] ${parts.join(" · ")}\x1b[K`);
    }

    finish(): void {
        if (this.shown) this.stream.write("\r\x1b[K");
    }
}
