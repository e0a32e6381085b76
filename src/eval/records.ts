/**
 * results.jsonl: one line per sample, appended as the run goes, so that a killed run keeps what it
 * finished. A (problem, method) counts as done when all its samples are there; on resume the lines
 * of unfinished ones (and a line cut off by the kill) are dropped and drawn again, with the same seeds.
 */
import {appendFile, readFile} from "node:fs/promises";
import {METHODS, type Method} from "../protocol/params.js";
import {InvalidInputError} from "../sampling/errors.js";
import {writeAtomically} from "../fs/files.js";
import type {SandboxOutcome} from "./sandbox.js";

export const RESULTS_FILE = "results.jsonl";

/** One distinct final particle of an SMC run, graded. */
export interface ParticleRecord {
    readonly answer: string | null;
    readonly correct: boolean;
    /** Normalised importance weight summed over its copies; a run's particles add up to 1. */
    readonly weight: number;
    readonly copies: number;
    readonly tokens: number;
    readonly logProb: number;
}

export interface SampleRecord {
    readonly problem: string;
    readonly method: Method;
    /** 0..K-1 within its (problem, method). */
    readonly sample: number;
    /** The (problem, method)'s seed (unitSeed): sample i is chain i of a solve with this seed. */
    readonly seed: number;
    readonly text: string;
    /** What was graded (Grade.answer); null when the completion has none. */
    readonly answer: string | null;
    readonly correct: boolean;
    /** HumanEval: how the tests ran, and why they failed. */
    readonly outcome?: SandboxOutcome;
    readonly detail?: string;
    /** Tokens in the completion (its end token excluded). */
    readonly tokens: number;
    readonly finishReason: "eos" | "length";
    /** Base-model log p of the completion. */
    readonly logProb: number;
    /** This sample's share of the tokens its (problem, method) drew: blocks, proposals, particles. */
    readonly drawnTokens: number;
    /** This sample's share of its call's wall time (a call decodes several problems' samples in step). */
    readonly wallMs: number;
    /** smc: the run's distinct final particles, heaviest first. */
    readonly particles?: readonly ParticleRecord[];
}

export function unitKey(problem: string, method: Method): string {
    return JSON.stringify([problem, method]);
}

/**
 * The complete (problem, method)s of `file` (samples 0..samples-1 each), in file order. When the
 * file holds anything else (unfinished ones, a line cut off by a kill) it is rewritten without it,
 * so appends start on a fresh line. A missing file is an empty run; a damaged line in the middle
 * is refused, naming it.
 */
export async function loadResults(file: string, samples: number): Promise<SampleRecord[]> {
    let text: string;
    try {
        text = await readFile(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
        throw new InvalidInputError(`cannot read ${file}: ${(error as Error).message}`);
    }
    const lines = text.split("\n");
    // After the last newline: nothing, or a line a kill cut off. Every earlier line must be whole.
    const cut = lines.at(-1) !== "";
    const records = lines.slice(0, -1).map((line, index) => parseRecord(line, `${file}:${index + 1}`));
    const byUnit = new Map<string, Set<number>>();
    for (const record of records) {
        const key = unitKey(record.problem, record.method);
        byUnit.set(key, (byUnit.get(key) ?? new Set()).add(record.sample));
    }
    const complete = (record: SampleRecord) => byUnit.get(unitKey(record.problem, record.method))!.size === samples;
    const kept = records.filter(complete);
    if (cut || kept.length < records.length) await writeAtomically(file, kept.map((record) => `${JSON.stringify(record)}\n`).join(""));
    return kept;
}

/** Appends whole lines in one write: a kill leaves at most the last one cut. */
export async function appendResults(file: string, records: readonly SampleRecord[]): Promise<void> {
    await appendFile(file, records.map((record) => `${JSON.stringify(record)}\n`).join(""));
}

function parseRecord(line: string, place: string): SampleRecord {
    let value: unknown;
    try {
        value = JSON.parse(line);
    } catch (error) {
        throw new InvalidInputError(`${place}: not a result line (${(error as Error).message}); move the file away to start over`);
    }
    const record = value as Partial<SampleRecord> | null;
    const valid = typeof record === "object" && record !== null && typeof record.problem === "string"
        && METHODS.includes(record.method as Method) && Number.isInteger(record.sample) && record.sample! >= 0
        && typeof record.correct === "boolean" && typeof record.drawnTokens === "number" && typeof record.wallMs === "number";
    if (!valid) throw new InvalidInputError(`${place}: not a result line (needs problem, method, sample, correct, drawnTokens, wallMs); move the file away to start over`);
    return record as SampleRecord;
}
