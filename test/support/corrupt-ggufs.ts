/**
 * GGUF models broken in every way the validator refuses (src/gguf/validate.ts), each with what
 * its error says: the unit tests check the messages, the reliability suite that a process loading
 * them answers with that error and lives.
 */
import {rm, writeFile} from "node:fs/promises";
import {join} from "node:path";
import {splitGgufFile, splitPartPath} from "../../src/gguf/split.js";
import {writeGguf, type GgufFile, type GgufMetadataEntry} from "../../src/gguf/writer.js";
import {entry, rawGguf, type RawGguf, str, TYPE, u32, u64, VALUE} from "./raw-gguf.js";

export interface CorruptGguf {
    readonly what: string;
    /** Writes the broken model into `dir`, its files named after `id`; returns the path to load. */
    readonly write: (dir: string, id: string) => Promise<string>;
    /** What its error message says besides "model is corrupt: FILE: ". */
    readonly says: readonly RegExp[];
}

/** A small llama-like model: the hyperparameters a memory estimate reads, and F32 tensors t0, t1, ... */
export function smallModel(tensorCount = 6): GgufFile {
    const metadata: GgufMetadataEntry[] = [
        {key: "general.architecture", type: "string", value: "llama"},
        {key: "llama.block_count", type: "uint32", value: 2},
        {key: "llama.embedding_length", type: "uint32", value: 64},
        {key: "llama.attention.head_count", type: "uint32", value: 4},
        {key: "llama.context_length", type: "uint32", value: 512},
    ];
    const tensors = Array.from({length: tensorCount}, (_, i) => ({name: `t${i}`, shape: [32, i + 1], type: "F32" as const, data: new Float32Array(32 * (i + 1))}));
    return {metadata, tensors};
}

/** Writes `file` split into parts of `tensorsPerPart` tensors, after `change` has altered the parts; returns the first part. */
export async function writeSplit(prefix: string, file: GgufFile, tensorsPerPart: readonly number[], change: (parts: GgufFile[]) => void = () => {}): Promise<string> {
    const parts = splitGgufFile(file, tensorsPerPart);
    change(parts);
    for (const [i, part] of parts.entries()) await writeGguf(splitPartPath(prefix, i, parts.length), part);
    return splitPartPath(prefix, 0, parts.length);
}

/** `part` with metadata `key` replaced by `value`, or removed. */
export function withKey(part: GgufFile, key: string, value: GgufMetadataEntry | null): GgufFile {
    return {...part, metadata: [...part.metadata.filter((e) => e.key !== key), ...(value ? [value] : [])]};
}

async function writeBytes(dir: string, id: string, content: Buffer): Promise<string> {
    const path = join(dir, `${id}.gguf`);
    await writeFile(path, content);
    return path;
}

const bytes = (what: string, content: Buffer, ...says: RegExp[]): CorruptGguf => ({what, says, write: (dir, id) => writeBytes(dir, id, content)});
const raw = (what: string, spec: RawGguf, ...says: RegExp[]): CorruptGguf => bytes(what, rawGguf(spec), ...says);
/** smallModel() split 3 + 3, after `change`. */
const split = (what: string, change: (parts: GgufFile[]) => void, ...says: RegExp[]): CorruptGguf =>
    ({what, says, write: (dir, id) => writeSplit(join(dir, id), smallModel(), [3, 3], change)});

export const CORRUPT_GGUFS: readonly CorruptGguf[] = [
    bytes("a file shorter than the magic", Buffer.from("GG"), /not a GGUF file \(2 bytes\)/),
    bytes("a text file", Buffer.from("this is not a model\n"), /not a GGUF file \(it starts with "this"/),
    raw("bad magic", {magic: "GGML"}, /not a GGUF file/, /"GGML"/),
    raw("GGUF version 1", {version: 1}, /unsupported GGUF version 1\b/),
    raw("a newer GGUF version", {version: 4}, /unsupported GGUF version 4\b/),
    raw("the other byte order", {version: 0x03000000}, /byte order/),
    raw("a tensor count that cannot fit the file", {tensorCount: 1n << 40n}, /1099511627776 tensors cannot fit/),
    raw("a negative metadata count", {entryCount: -1n}, /-1 metadata entries/),
    raw("a string value longer than the file", {entries: [{key: "general.name", type: VALUE.string, value: u64(1n << 50n)}]}, /metadata "general.name" at byte \d+ is 1125899906842624 bytes long/),
    raw("an array longer than the file", {entries: [entry.array("tokenizer.ggml.scores", VALUE.float32, 1n << 40n)]}, /array of 1099511627776 float32 items, which cannot fit/),
    raw("an array of arrays", {entries: [entry.array("a", VALUE.array, 1)]}, /metadata "a" is an array of arrays/),
    raw("an unknown value type", {entries: [{key: "x", type: 13, value: u32(0)}]}, /metadata "x" has unknown value type 13/),
    raw("an empty key", {entries: [entry.uint32("", 1)]}, /empty key/),
    raw("a key twice", {entries: [entry.uint32("a", 1), entry.uint32("a", 2)]}, /metadata key "a" appears twice/),
    raw("general.alignment of the wrong type", {entries: [entry.int32("general.alignment", 32)]}, /general\.alignment is int32, not uint32/),
    raw("general.alignment not a power of 2", {entries: [entry.uint32("general.alignment", 48)], alignment: 48}, /general\.alignment 48 is not a power of 2/),
    raw("a tensor name of 64 bytes", {tensors: [{name: "n".repeat(64), shape: [8]}]}, /the name of tensor 0 is 64 bytes/),
    raw("an unknown tensor type", {tensors: [{name: "w", shape: [8], type: 31}]}, /tensor "w" has unknown tensor type 31/),
    raw("five dimensions", {tensors: [{name: "w", shape: [1, 1, 1, 1, 8]}]}, /tensor "w" has 5 dimensions/),
    raw("a negative dimension", {tensors: [{name: "w", shape: [8, -2n]}], dataBytes: 64}, /tensor "w" has a negative dimension -2/),
    raw("too many elements", {tensors: [{name: "w", shape: [1n << 32n, 1n << 32n], bytes: 0}]}, /tensor "w" has shape \[4294967296, 4294967296\]: too many elements/),
    raw("a Q8_0 row that is not whole blocks", {tensors: [{name: "w", shape: [33], type: TYPE.Q8_0, bytes: 34}]}, /tensor "w" has rows of 33 elements, not a multiple of the q8_0 block size 32/),
    raw("a tensor name twice", {tensors: [{name: "w", shape: [8]}, {name: "w", shape: [8]}]}, /tensor "w" appears twice \(tensors 0 and 1\)/),
    raw("misaligned tensor data", {tensors: [{name: "a", shape: [8]}, {name: "b", shape: [8], offset: 40}]}, /tensor "b" data at offset 40 is not aligned to 32 bytes/),
    raw("overlapping tensor data", {tensors: [{name: "a", shape: [16]}, {name: "b", shape: [8], offset: 32}]}, /tensor "b" data at offset 32 overlaps the previous tensor \(expected offset 64\)/),
    raw("tensor data beyond the end of the file", {tensors: [{name: "a", shape: [8]}, {name: "b", shape: [8], offset: 1n << 40n}], dataBytes: 64}, /tensor "b" data at offset 1099511627776 leaves a gap/),
    raw("a file cut short in the tensor data", {tensors: [{name: "a", shape: [64]}, {name: "b", shape: [64]}], truncateTo: 500}, /the file is cut short: tensor "b" needs bytes 416 to 672, the file has 500 bytes/),
    raw("a file cut short in the tensor infos", {tensors: [{name: "a", shape: [64]}, {name: "b", shape: [64]}], truncateTo: 90}, /cut short|cannot fit/),
    raw("a vocabulary string longer than the file", {entries: [entry.array("tokenizer.ggml.tokens", VALUE.string, 5000,
        Buffer.concat(Array.from({length: 5000}, (_, i) => (i === 4321 ? u64(1n << 40n) : str(`w${i}`)))))]},
    /item 4321 of metadata "tokenizer\.ggml\.tokens" at byte \d+ is 1099511627776 bytes long, but only \d+ bytes follow/),
    bytes("a key length beyond the file", Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(1), u64(1n << 40n), Buffer.alloc(64)]),
        /the key of metadata entry 0 at byte 24 is 1099511627776 bytes long, but only 64 bytes follow/),
    split("a split model whose second part repeats a tensor of the first (llama.cpp aborts on it)",
        (parts) => { parts[1] = {...parts[1]!, tensors: [...parts[1]!.tensors, parts[0]!.tensors[1]!]}; },
        /-00002-of-00002\.gguf: tensor "t1" appears in part 1 and again in part 2 of 2/),
    split("split.count of another type than uint16 (llama.cpp asserts the type)",
        (parts) => { parts[0] = withKey(parts[0]!, "split.count", {key: "split.count", type: "uint32", value: 2}); },
        /split\.count is uint32, llama\.cpp reads it as uint16/),
    split("split.no of another type in a later part",
        (parts) => { parts[1] = withKey(parts[1]!, "split.no", {key: "split.no", type: "int32", value: 1}); },
        /-00002-of-00002\.gguf: split\.no is int32/),
    split("a split part that names another position",
        (parts) => { parts[1] = withKey(parts[1]!, "split.no", {key: "split.no", type: "uint16", value: 0}); },
        /part 2 of 2 has split\.no 0, expected 1/),
    split("split parts that disagree on the count",
        (parts) => { parts[1] = withKey(parts[1]!, "split.count", {key: "split.count", type: "uint16", value: 3}); },
        /part 2 has split\.count 3, the first part 2/),
    split("split.tensors.count that does not match the parts",
        (parts) => { parts[0] = withKey(parts[0]!, "split.tensors.count", {key: "split.tensors.count", type: "int32", value: 7}); },
        /split\.tensors\.count is 7, but the 2 parts hold 6 tensors/),
    split("split.tensors.count missing",
        (parts) => { parts[0] = withKey(parts[0]!, "split.tensors.count", null); },
        /split\.tensors\.count is missing/),
    {
        what: "a missing split part",
        says: [/part 2 of 2 is missing: .*-00002-of-00002\.gguf/],
        write: async (dir, id) => {
            const first = await writeSplit(join(dir, id), smallModel(), [3, 3]);
            await rm(splitPartPath(join(dir, id), 1, 2));
            return first;
        },
    },
    {
        what: "split metadata in a file not named as a part",
        says: [/split into 2 files \(split\.count\), but the file is not named PREFIX-00001-of-00002\.gguf/],
        write: (dir, id) => writeGguf(join(dir, `${id}.gguf`), splitGgufFile(smallModel(), [3, 3])[0]!).then(() => join(dir, `${id}.gguf`)),
    },
];
