/**
 * run.json: what an output folder's samples were drawn with. A run in a folder that has one
 * resumes it, and must ask for the same draws: same dataset file, model, prompt mode, samples,
 * sampling parameters and seed. Methods and --limit may differ (more methods, more problems).
 */
import {readFile} from "node:fs/promises";
import path from "node:path";
import {type NumericParamName, PARAMETERS, type PromptMode} from "../protocol/params.js";
import {InvalidInputError} from "../sampling/errors.js";
import type {DatasetFormat} from "./datasets.js";
import {writeAtomically} from "../fs/files.js";

export const RUN_FILE = "run.json";

/** The sampling parameters every method of a run shares (samples and seed are the run's own fields). */
export type RunParams = Readonly<Record<Exclude<NumericParamName, "samples" | "seed">, number>>;

export interface RunConfig {
    /** As given: a dataset name (math500, gsm8k, humaneval) or a file. */
    readonly dataset: string;
    readonly datasetFile: string;
    /** SHA-256 of the dataset file: the same path with other problems is another run. */
    readonly datasetSha256: string;
    readonly format: DatasetFormat;
    /** The engine's name for the model (a GGUF file's absolute path). */
    readonly model: string;
    readonly mode: PromptMode;
    /** Samples per problem and method (K). */
    readonly samples: number;
    /** The run's seed, from which every (problem, method)'s seed is derived (unitSeed). */
    readonly seed: number;
    readonly params: RunParams;
}

/** The RunParams of a run's sampling parameters. */
export function runParams(params: Readonly<Record<Exclude<NumericParamName, "seed">, number>>): RunParams {
    const fields = (Object.keys(PARAMETERS) as NumericParamName[]).filter((field) => field !== "samples" && field !== "seed");
    return Object.fromEntries(fields.map((field) => [field, params[field]])) as RunParams;
}

/** Fields of RunConfig whose change changes the draws, with how a user names them. */
const DRAW_FIELDS: readonly [keyof RunConfig, string][] = [
    ["datasetSha256", "the dataset file's content"], ["format", "the dataset format"], ["model", "--model"], ["mode", "--mode"],
    ["samples", "--samples"], ["seed", "--seed"], ["params", "the sampling options"]
];

/** The folder's run.json, or null when there is none. */
export async function readRunConfig(outDir: string): Promise<RunConfig | null> {
    const file = path.join(outDir, RUN_FILE);
    let text: string;
    try {
        text = await readFile(file, "utf8");
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
        throw new InvalidInputError(`cannot read ${file}: ${(error as Error).message}`);
    }
    try {
        const config = JSON.parse(text) as RunConfig;
        if (typeof config.seed !== "number" || typeof config.params !== "object" || config.params === null) throw new Error("fields are missing");
        return config;
    } catch (error) {
        throw new InvalidInputError(`${file} is damaged (${(error as Error).message}); use another --out folder`);
    }
}

/** Refuses to resume `stored` with `wanted` when they would draw differently, naming what differs. */
export function checkResumable(stored: RunConfig, wanted: RunConfig, outDir: string): void {
    for (const [field, name] of DRAW_FIELDS) {
        if (JSON.stringify(stored[field]) === JSON.stringify(wanted[field])) continue;
        const shown = (config: RunConfig) => (field === "params" ? differingParams(stored.params, wanted.params, config) : JSON.stringify(config[field]));
        throw new InvalidInputError(`${outDir} holds a run with ${name} ${shown(stored)}, not ${shown(wanted)}: `
            + "resume it with the same settings, or use another --out folder");
    }
}

function differingParams(stored: RunParams, wanted: RunParams, config: RunConfig): string {
    const fields = (Object.keys(stored) as (keyof RunParams)[]).filter((field) => stored[field] !== wanted[field]);
    return fields.map((field) => `${field} ${config.params[field]}`).join(", ");
}

export function writeRunConfig(outDir: string, config: RunConfig): Promise<void> {
    return writeAtomically(path.join(outDir, RUN_FILE), `${JSON.stringify(config, null, 2)}\n`);
}
