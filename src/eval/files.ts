/** Files replaced whole: a reader, or a kill, never meets half of one. */
import {rename, writeFile} from "node:fs/promises";

/** Has `write` fill a partial file beside `file`, then renames it into place. */
export async function replaceAtomically(file: string, write: (partial: string) => Promise<void>): Promise<void> {
    const partial = `${file}.${process.pid}.partial`;
    await write(partial);
    await rename(partial, file);
}

export function writeAtomically(file: string, text: string): Promise<void> {
    return replaceAtomically(file, (partial) => writeFile(partial, text));
}
