/**
 * Where an evaluation's dataset comes from: a name (math500, gsm8k, humaneval) is a file in the
 * datasets folder of the cache, which the user fills once (there is no download at run time);
 * anything else is a file's path, read as is.
 */
import {createHash} from "node:crypto";
import {readFile} from "node:fs/promises";
import path from "node:path";
import {exists} from "../fs/files.js";
import {InvalidInputError} from "../sampling/errors.js";
import {type Dataset, loadDataset} from "./datasets.js";

/** The published files, under the names the cache folder holds them by. */
export const NAMED_DATASETS = {
    math500: {file: "MATH500.json", url: "https://raw.githubusercontent.com/aakaran/reasoning-with-sampling/main/llm_experiments/data/MATH500.json"},
    gsm8k: {file: "gsm8k-test.jsonl", url: "https://raw.githubusercontent.com/openai/grade-school-math/master/grade_school_math/data/test.jsonl"},
    humaneval: {file: "HumanEval.jsonl.gz", url: "https://github.com/openai/human-eval/raw/master/data/HumanEval.jsonl.gz"}
} as const;

export type DatasetName = keyof typeof NAMED_DATASETS;

export function datasetsFolder(cacheDir: string): string {
    return path.join(cacheDir, "datasets");
}

/** The file `dataset` names: a named dataset's file in `folder` (which must be there), or the path itself. */
export async function resolveDatasetFile(dataset: string, folder: string): Promise<string> {
    if (dataset === "") throw new InvalidInputError("--dataset is empty: give math500, gsm8k, humaneval or a file's path");
    if (!Object.hasOwn(NAMED_DATASETS, dataset)) {
        const bare = !dataset.includes(path.sep) && path.extname(dataset) === "";
        if (bare && !await exists(dataset))
            throw new InvalidInputError(`unknown dataset "${dataset}": use ${Object.keys(NAMED_DATASETS).join(", ")} or a file's path`);
        return dataset;
    }
    const {file, url} = NAMED_DATASETS[dataset as DatasetName];
    const target = path.join(folder, file);
    if (await exists(target)) return target;
    throw new InvalidInputError(`dataset ${dataset} is not in ${folder}: get it once with `
        + `"curl -L --create-dirs -o ${target} ${url}", or give a copy's path with --dataset FILE`);
}

/** A dataset as an evaluation uses it: its problems, what the user called it, and its file's identity. */
export interface EvalDataset extends Dataset {
    /** As given: a name (math500, gsm8k, humaneval) or a file. */
    readonly name: string;
    readonly file: string;
    /** SHA-256 of the file: a resumed run must have the same problems. */
    readonly sha256: string;
}

/** Resolves `dataset` (resolveDatasetFile) and reads it. */
export async function openDataset(dataset: string, folder: string): Promise<EvalDataset> {
    const file = path.resolve(await resolveDatasetFile(dataset, folder));
    const loaded = await loadDataset(file);
    return {...loaded, name: dataset, file, sha256: createHash("sha256").update(await readFile(file)).digest("hex")};
}
