/** Small file-system questions and whole-file replacement, shared by every layer that writes files. */
import {rename, stat, writeFile} from "node:fs/promises";

/** Whether anything is at `file` (false for any error, a missing folder included). */
export async function exists(file: string): Promise<boolean> {
    return stat(file).then(() => true, () => false);
}

/** Whether `file` is a regular file (following links). */
export async function isFile(file: string): Promise<boolean> {
    return stat(file).then((info) => info.isFile(), () => false);
}

/** Has `write` fill a partial file beside `file`, then renames it into place: a reader, or a kill, never meets half of one. */
export async function replaceAtomically(file: string, write: (partial: string) => Promise<void>): Promise<void> {
    const partial = `${file}.${process.pid}.partial`;
    await write(partial);
    await rename(partial, file);
}

export function writeAtomically(file: string, text: string): Promise<void> {
    return replaceAtomically(file, (partial) => writeFile(partial, text));
}
