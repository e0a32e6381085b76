/**
 * This workspace's runs: a list to reopen from (problem, method, answer, time), and the last
 * runs whole, so that a reopened run or an action on it still works after a window reload.
 * Kept in the workspace state.
 */
import type * as vscode from "vscode";
import type {HistoryEntry, RunInfo} from "../protocol/panel.js";
import type {SolveResult} from "../protocol/results.js";
import type {EditTarget} from "./edits.js";

/** A run as the host keeps it. */
export interface StoredRun {
    readonly info: RunInfo;
    readonly target: EditTarget | null;
    readonly status: HistoryEntry["status"];
    readonly result: SolveResult | null;
    /** A stopped run's partial text. */
    readonly partial: string | null;
    readonly finishedAt: number;
}

const RUNS_KEY = "powerSampling.history";
/** Whole runs kept: results can be large (many alternatives), so a few dozen. */
const MAX_RUNS = 30;

export class History {
    constructor(private readonly state: vscode.Memento) {}

    runs(): StoredRun[] {
        return this.state.get<StoredRun[]>(RUNS_KEY, []);
    }

    get(runId: string): StoredRun | undefined {
        return this.runs().find((run) => run.info.runId === runId);
    }

    async add(run: StoredRun): Promise<void> {
        const others = this.runs().filter((stored) => stored.info.runId !== run.info.runId);
        await this.state.update(RUNS_KEY, [run, ...others].slice(0, MAX_RUNS));
    }

    entries(): HistoryEntry[] {
        return this.runs().map(({info, status, result, finishedAt}) => ({
            runId: info.runId,
            prompt: info.prompt.length > 200 ? `${info.prompt.slice(0, 200)}…` : info.prompt,
            method: info.method,
            answer: result ? result.samples[result.answerIndex]?.finalAnswer ?? null : null,
            status,
            finishedAt,
            wallMs: result?.stats.wallMs ?? finishedAt - info.startedAt
        }));
    }
}
