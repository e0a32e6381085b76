/** The cache folder for models the project writes (outside git), and the built-in demo model. */
import {mkdir, stat} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {exists, replaceAtomically} from "../fs/files.js";
import {InvalidInputError} from "../sampling/errors.js";
import {PIVOTAL_CHAIN, writeMarkovModel} from "../testmodels/markov.js";

export function defaultCacheDir(): string {
    const base = process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache");
    return path.join(base, "power-sampling");
}

/** --cache-dir or the default: an existing folder, or a path where one can be made. */
export async function cacheDirOption(value: string | undefined): Promise<string> {
    const dir = value ?? defaultCacheDir();
    let found;
    try {
        found = await stat(dir);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT") return dir;
        throw new InvalidInputError(`cannot use --cache-dir ${dir}: ${code === "ENOTDIR" ? "a folder on its path is a file" : (error as Error).message}`);
    }
    if (!found.isDirectory()) throw new InvalidInputError(`--cache-dir is not a folder: ${dir}`);
    return dir;
}

/** Writes `file` once with `write`, atomically, and returns its path. */
export async function cachedFile(cacheDir: string, file: string, write: (target: string) => Promise<void>): Promise<string> {
    const target = path.join(cacheDir, file);
    if (await exists(target)) return target;
    await mkdir(cacheDir, {recursive: true});
    await replaceAtomically(target, write);
    return target;
}

/** The pivotal two-branch chain of the power-sampling note, as a real GGUF file. */
export function builtinModelPath(cacheDir: string): Promise<string> {
    return cachedFile(cacheDir, "pivotal-chain-v1.gguf", (target) => writeMarkovModel(PIVOTAL_CHAIN, target));
}
