/**
 * Models split into several GGUF files, as llama.cpp's gguf-split writes and llama.cpp loads them:
 * PREFIX-00001-of-0000N.gguf ... PREFIX-0000N-of-0000N.gguf. The first part holds all metadata;
 * every part holds `split.no` (uint16, 0-based), `split.count` (uint16) and `split.tensors.count`
 * (int32, the tensors of all parts together), and its own share of the tensors.
 */
import type {GgufFile, GgufMetadataEntry} from "./writer.js";

export const SPLIT_NO_KEY = "split.no";
export const SPLIT_COUNT_KEY = "split.count";
export const SPLIT_TENSORS_COUNT_KEY = "split.tensors.count";

/** llama.cpp stores split.count as uint16. */
export const MAX_SPLIT_COUNT = 0xffff;

/** The path of part `index` (0-based) of `count`: llama.cpp's "%s-%05d-of-%05d.gguf". */
export function splitPartPath(prefix: string, index: number, count: number): string {
    return `${prefix}-${String(index + 1).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.gguf`;
}

/** Every part's path, in order, for a split model whose parts start with `prefix`. */
export function splitPartPaths(prefix: string, count: number): string[] {
    return Array.from({length: count}, (_, index) => splitPartPath(prefix, index, count));
}

/** The prefix, part index (0-based) and count a split part's path names, or null if it names none. */
export function parseSplitPartPath(filePath: string): {prefix: string; index: number; count: number} | null {
    const match = /^(.+)-(\d{5})-of-(\d{5})\.gguf$/.exec(filePath);
    if (!match) return null;
    const number = Number(match[2]);
    const count = Number(match[3]);
    if (number < 1 || number > count) return null;
    return {prefix: match[1]!, index: number - 1, count};
}

/**
 * `file` as the parts gguf-split would write: `tensorsPerPart[i]` tensors in part i, in order; the
 * first part keeps all metadata. Write each with `writeGguf` at `splitPartPath(prefix, i, n)`.
 */
export function splitGgufFile(file: GgufFile, tensorsPerPart: readonly number[]): GgufFile[] {
    const count = tensorsPerPart.length;
    if (count < 1 || count > MAX_SPLIT_COUNT) throw new Error(`a split model has 1 to ${MAX_SPLIT_COUNT} parts, not ${count}`);
    if (tensorsPerPart.some((n) => !Number.isInteger(n) || n < 0) || tensorsPerPart.reduce((a, b) => a + b, 0) !== file.tensors.length)
        throw new Error(`tensors per part [${tensorsPerPart.join(", ")}] do not add up to the model's ${file.tensors.length} tensors`);
    const inherited = file.metadata.filter((entry) => !entry.key.startsWith("split."));
    let start = 0;
    return tensorsPerPart.map((n, index) => {
        const split: GgufMetadataEntry[] = [
            {key: SPLIT_NO_KEY, type: "uint16", value: index},
            {key: SPLIT_COUNT_KEY, type: "uint16", value: count},
            {key: SPLIT_TENSORS_COUNT_KEY, type: "int32", value: file.tensors.length},
        ];
        const tensors = file.tensors.slice(start, start + n);
        start += n;
        return {metadata: index === 0 ? [...inherited, ...split] : split, tensors};
    });
}
