/**
 * Decode rates measured on this machine: after each run, the tokens a second it drew, per model,
 * method and width (many sequences in step draw more tokens a second than one), so that the next
 * run's estimate has a time. Kept in the extension's global state.
 */
import type * as vscode from "vscode";
import type {SamplingParams} from "../protocol/params.js";
import type {SolveResult} from "../protocol/results.js";

const RATES_KEY = "powerSampling.decodeRates";
/** Rates kept, most recent first. */
const MAX_RATES = 100;

type Rates = Record<string, {tokensPerSecond: number; at: number}>;

export class RateBook {
    constructor(private readonly state: vscode.Memento) {}

    /** tokens a second measured for this model, method and width; null before the first run. */
    rate(model: string, params: SamplingParams): number | null {
        return this.rates()[key(model, params)]?.tokensPerSecond ?? null;
    }

    /** Records a finished run; runs too short to time (under a second) are left out. */
    async record(model: string, result: SolveResult): Promise<void> {
        const {stats} = result;
        if (stats.wallMs < 1000 || stats.proposedTokens === 0) return;
        const params = {...result.params, method: result.method};
        const rates = {...this.rates(), [key(model, params)]: {tokensPerSecond: stats.proposedTokens / (stats.wallMs / 1000), at: Date.now()}};
        const recent = Object.entries(rates).sort(([, a], [, b]) => b.at - a.at).slice(0, MAX_RATES);
        await this.state.update(RATES_KEY, Object.fromEntries(recent));
    }

    private rates(): Rates {
        return this.state.get<Rates>(RATES_KEY, {});
    }
}

/** The width a method decodes at: its particles (smc), else its samples. */
function key(model: string, params: Pick<SamplingParams, "method" | "samples" | "particles">): string {
    const width = params.method === "smc" ? params.particles * params.samples : params.samples;
    return `${model}\u0000${params.method}\u0000${width}`;
}
