/** Files of an output folder are replaced whole: a reader, or a kill, never meets half of one. */
import {rename, writeFile} from "node:fs/promises";

export async function writeAtomically(file: string, text: string): Promise<void> {
    const partial = `${file}.${process.pid}.partial`;
    await writeFile(partial, text);
    await rename(partial, file);
}
