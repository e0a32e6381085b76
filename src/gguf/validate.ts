/**
 * Checks a GGUF model, one file or every part of a split model, for what would make llama.cpp
 * abort or misread it, before llama.cpp sees it. A native abort takes the whole process down
 * (the backend with its queued jobs); here the same fault is one InvalidGgufError. What
 * node-llama-cpp 3.22.1 aborts on besides what readGgufFile checks: a tensor name repeated across
 * split parts (gguf_add_tensor while merging the parts' metadata) and split.* keys of another
 * type than llama.cpp reads them with (gguf_get_val_u16 asserts the type).
 */
import {stat} from "node:fs/promises";
import path from "node:path";
import {InvalidInputError} from "../sampling/errors.js";
import {type GgufFileInfo, type GgufMetadataValue, type GgufScalarType, InvalidGgufError, readGgufFile} from "./reader.js";
import {parseSplitPartPath, SPLIT_COUNT_KEY, SPLIT_NO_KEY, SPLIT_TENSORS_COUNT_KEY, splitPartPath} from "./split.js";

/** What a memory estimate needs, from the model's metadata; null where the model does not say. */
export interface GgufModelInfo {
    /** general.architecture, e.g. "llama"; the other keys are read under this prefix. */
    readonly architecture: string | null;
    /** Transformer layers. */
    readonly blockCount: number | null;
    /** Model width. */
    readonly embeddingLength: number | null;
    /** Attention heads; the largest when set per layer. */
    readonly headCount: number | null;
    /** Key/value heads; the largest when set per layer; headCount when missing, as llama.cpp does. */
    readonly headCountKv: number | null;
    /** Context the model was trained for. */
    readonly contextLength: number | null;
    /** Key and value width per head when the model sets them (else embeddingLength / headCount). */
    readonly keyLength: number | null;
    readonly valueLength: number | null;
    /** Tensor data in all parts together: the weights' size once loaded. */
    readonly tensorBytes: number;
    /** All parts together on disk. */
    readonly fileBytes: number;
}

export interface GgufModel {
    /** Every file of the model, the first part (the one to load) first. */
    readonly files: readonly GgufFileInfo[];
    readonly info: GgufModelInfo;
}

/**
 * Reads and checks the model at `modelPath` and, when it is the first part of a split model, every
 * other part. Throws InvalidInputError for a missing file or one that is not a regular file, and
 * InvalidGgufError ("model is corrupt: ...") for anything llama.cpp would abort on or misread.
 */
export async function validateGgufModel(modelPath: string): Promise<GgufModel> {
    const first = await readGgufFile(modelPath);
    const corrupt = (what: string) => new InvalidGgufError(modelPath, what);
    const files = [first];

    const count = splitKey(first, SPLIT_COUNT_KEY, "uint16");
    if (count !== null && count > 1) {
        const index = splitKey(first, SPLIT_NO_KEY, "uint16");
        if (index === null) throw corrupt(`split.count is ${count} but split.no is missing`);
        const named = parseSplitPartPath(modelPath);
        if (index !== 0) {
            const firstPart = named ? path.basename(splitPartPath(named.prefix, 0, count)) : `the file with split.no 0`;
            throw new InvalidInputError(`${modelPath} is part ${index + 1} of a model split into ${count} files: load the first part, ${firstPart}`);
        }
        if (named === null || named.index !== 0 || named.count !== count)
            throw corrupt(`the model is split into ${count} files (split.count), but the file is not named PREFIX-00001-of-${String(count).padStart(5, "0")}.gguf, so its other parts cannot be found`);
        const tensorsCount = splitKey(first, SPLIT_TENSORS_COUNT_KEY, "int32");
        if (tensorsCount === null) throw corrupt(`split.tensors.count is missing`);

        const owner = new Map(first.tensors.map((tensor) => [tensor.name, 1]));
        for (let i = 1; i < count; i++) {
            const partPath = splitPartPath(named.prefix, i, count);
            if (!(await exists(partPath))) throw corrupt(`part ${i + 1} of ${count} is missing: ${partPath}`);
            const part = await readGgufFile(partPath);
            const partCorrupt = (what: string) => new InvalidGgufError(partPath, what);
            const partIndex = splitKey(part, SPLIT_NO_KEY, "uint16");
            if (partIndex !== i) throw partCorrupt(`part ${i + 1} of ${count} has split.no ${partIndex ?? "missing"}, expected ${i}`);
            const partCount = splitKey(part, SPLIT_COUNT_KEY, "uint16");
            if (partCount !== count) throw partCorrupt(`part ${i + 1} has split.count ${partCount ?? "missing"}, the first part ${count}`);
            splitKey(part, SPLIT_TENSORS_COUNT_KEY, "int32");
            for (const tensor of part.tensors) {
                const earlier = owner.get(tensor.name);
                if (earlier !== undefined) throw partCorrupt(`tensor "${tensor.name}" appears in part ${earlier} and again in part ${i + 1} of ${count}`);
                owner.set(tensor.name, i + 1);
            }
            files.push(part);
        }
        if (owner.size !== tensorsCount)
            throw corrupt(`split.tensors.count is ${tensorsCount}, but the ${count} parts hold ${owner.size} tensors`);
    }
    return {files, info: modelInfo(files)};
}

async function exists(filePath: string): Promise<boolean> {
    try {
        await stat(filePath);
        return true;
    } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return false;
        throw new InvalidInputError(`cannot read model file ${filePath}: ${(error as Error).message.split("\n")[0]}`);
    }
}

/** An integer split.* key, checked to have the type llama.cpp reads it with (another type aborts there). */
function splitKey(file: GgufFileInfo, key: string, type: "uint16" | "int32"): number | null {
    const entry = file.metadata.get(key);
    if (entry === undefined) return null;
    if (entry.type !== type) throw new InvalidGgufError(file.path, `${key} is ${entry.type === "array" ? "an array" : entry.type}, llama.cpp reads it as ${type}`);
    return entry.value as number;
}

function modelInfo(files: readonly GgufFileInfo[]): GgufModelInfo {
    const metadata = files[0]!.metadata;
    const architectureEntry = metadata.get("general.architecture");
    const architecture = architectureEntry?.type === "string" ? (architectureEntry.value as string) : null;
    const integer = (key: string) => (architecture === null ? null : integerValue(metadata.get(`${architecture}.${key}`)));
    const headCount = integer("attention.head_count");
    const tensorBytes = files.reduce((sum, file) => sum + file.tensors.reduce((bytes, tensor) => bytes + tensor.byteSize, 0), 0);
    return {
        architecture,
        blockCount: integer("block_count"),
        embeddingLength: integer("embedding_length"),
        headCount,
        headCountKv: integer("attention.head_count_kv") ?? headCount,
        contextLength: integer("context_length"),
        keyLength: integer("attention.key_length"),
        valueLength: integer("attention.value_length"),
        tensorBytes,
        fileBytes: files.reduce((sum, file) => sum + file.size, 0),
    };
}

const INTEGER_TYPES: ReadonlySet<GgufScalarType> = new Set(["uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]);

/** An integer metadata value as a number; for a per-layer array, its largest item. */
function integerValue(entry: GgufMetadataValue | undefined): number | null {
    if (entry === undefined || !INTEGER_TYPES.has(entry.type === "array" ? entry.itemType : entry.type)) return null;
    const items = entry.type === "array" ? entry.values : [entry.value];
    if (items === null || items.length === 0) return null;
    let largest: number | null = null;
    for (const item of items) {
        const value = Number(item);
        if (!Number.isSafeInteger(value)) return null;
        largest = largest === null ? value : Math.max(largest, value);
    }
    return largest;
}
