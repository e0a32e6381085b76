/**
 * Reads the header, metadata and tensor infos of one GGUF file and checks them the way llama.cpp
 * (node-llama-cpp 3.22.1's build) would, so a broken file gets one clear error here instead of an
 * abort or a misread there. Every count and length read from the file is checked against the bytes
 * left before anything is allocated or skipped, and the file is read in bounded windows: a
 * header that claims terabytes costs nothing. Tensor data is never read, only its bounds checked.
 */
import {constants} from "node:fs";
import {type FileHandle, open} from "node:fs/promises";
import {InvalidInputError} from "../sampling/errors.js";

/** A model file that is not GGUF, or whose GGUF structure is broken; the message is one line. */
export class InvalidGgufError extends InvalidInputError {
    override name = "InvalidGgufError";

    /** `problem`: what is wrong, and where in the file. */
    constructor(readonly file: string, readonly problem: string) {
        super(`model is corrupt: ${file}: ${problem}`);
    }
}

export type GgufScalarType =
    | "uint8" | "int8" | "uint16" | "int16" | "uint32" | "int32" | "float32" | "bool" | "string" | "uint64" | "int64" | "float64";

export type GgufScalar = number | bigint | boolean | string;

export type GgufMetadataValue =
    | {readonly type: GgufScalarType; readonly value: GgufScalar}
    | {
        readonly type: "array";
        readonly itemType: GgufScalarType;
        readonly length: number;
        /** The items, for arrays of at most MAX_KEPT_ARRAY_LENGTH items; null for longer ones (a vocabulary). */
        readonly values: readonly GgufScalar[] | null;
    };

export interface GgufTensorInfo {
    readonly name: string;
    /** ne0 first (the row length), as stored. */
    readonly shape: readonly number[];
    /** ggml's name for the type, e.g. "q8_0". */
    readonly type: string;
    /** From the start of the data section. */
    readonly offset: number;
    readonly byteSize: number;
}

export interface GgufFileInfo {
    readonly path: string;
    /** Bytes in the file. */
    readonly size: number;
    readonly version: number;
    readonly alignment: number;
    readonly metadata: ReadonlyMap<string, GgufMetadataValue>;
    readonly tensors: readonly GgufTensorInfo[];
    /** Where the tensor data section starts in the file. */
    readonly dataOffset: number;
}

/** Arrays up to this length keep their items (per-layer hyperparameters); longer ones only their length. */
export const MAX_KEPT_ARRAY_LENGTH = 4096;

const GGUF_MAGIC = "GGUF";
const DEFAULT_ALIGNMENT = 32;
/** llama.cpp's limits (gguf.cpp, ggml.h). */
const MAX_STRING_LENGTH = 1024 * 1024 * 1024;
const MAX_ARRAY_ELEMENTS = 1024 * 1024 * 1024;
const MAX_TENSOR_NAME_BYTES = 63;
const MAX_DIMS = 4;
const INT64_MAX = (1n << 63n) - 1n;
/** The fewest bytes a metadata entry takes (1-byte key, type, 1-byte value) and a tensor info (empty name, no dimensions). */
const MIN_ENTRY_BYTES = 8 + 1 + 4 + 1;
const MIN_TENSOR_INFO_BYTES = 8 + 4 + 4 + 8;
/** Bytes read from the file at a time. */
const WINDOW_BYTES = 1 << 20;

/** GGUF value type ids (gguf_type) and their sizes; string (8) and array (9) are variable. */
const VALUE_TYPES: readonly (GgufScalarType | "array" | undefined)[] = [
    "uint8", "int8", "uint16", "int16", "uint32", "int32", "float32", "bool", "string", "array", "uint64", "int64", "float64",
];
const VALUE_SIZE: Readonly<Record<Exclude<GgufScalarType, "string">, number>> = {
    uint8: 1, int8: 1, uint16: 2, int16: 2, uint32: 4, int32: 4, float32: 4, bool: 1, uint64: 8, int64: 8, float64: 8,
};

/**
 * ggml types as the shipped libggml-base reports them (ggml_type_name, ggml_blck_size,
 * ggml_type_size); ids missing here were removed from ggml and llama.cpp refuses them.
 */
const GGML_TYPES: ReadonlyMap<number, {readonly name: string; readonly blockSize: number; readonly typeSize: number}> = new Map(
    ([
        [0, "f32", 1, 4], [1, "f16", 1, 2], [2, "q4_0", 32, 18], [3, "q4_1", 32, 20], [6, "q5_0", 32, 22], [7, "q5_1", 32, 24],
        [8, "q8_0", 32, 34], [9, "q8_1", 32, 36], [10, "q2_K", 256, 84], [11, "q3_K", 256, 110], [12, "q4_K", 256, 144],
        [13, "q5_K", 256, 176], [14, "q6_K", 256, 210], [15, "q8_K", 256, 292], [16, "iq2_xxs", 256, 66], [17, "iq2_xs", 256, 74],
        [18, "iq3_xxs", 256, 98], [19, "iq1_s", 256, 50], [20, "iq4_nl", 32, 18], [21, "iq3_s", 256, 110], [22, "iq2_s", 256, 82],
        [23, "iq4_xs", 256, 136], [24, "i8", 1, 1], [25, "i16", 1, 2], [26, "i32", 1, 4], [27, "i64", 1, 8], [28, "f64", 1, 8],
        [29, "iq1_m", 256, 56], [30, "bf16", 1, 2], [34, "tq1_0", 256, 54], [35, "tq2_0", 256, 66], [39, "mxfp4", 32, 17],
        [40, "nvfp4", 64, 36], [41, "q1_0", 128, 18], [42, "q2_0", 64, 18],
    ] as const).map(([id, name, blockSize, typeSize]) => [id, {name, blockSize, typeSize}]),
);

/**
 * Opens `filePath` for reading without blocking on a FIFO (O_NONBLOCK), and refuses anything but
 * a regular file: reading a FIFO or a device would hang or never end.
 */
export async function openRegularFile(filePath: string): Promise<{handle: FileHandle; size: number}> {
    let handle: FileHandle;
    try {
        handle = await open(filePath, constants.O_RDONLY | constants.O_NONBLOCK);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") throw new InvalidInputError(`model file not found: ${filePath}`);
        if (code === "EISDIR") throw new InvalidInputError(`model path is a folder, not a GGUF file: ${filePath}`);
        throw new InvalidInputError(`cannot read model file ${filePath}: ${firstLine((error as Error).message)}`);
    }
    try {
        const stats = await handle.stat();
        if (stats.isDirectory()) throw new InvalidInputError(`model path is a folder, not a GGUF file: ${filePath}`);
        if (!stats.isFile()) {
            const kind = stats.isFIFO() ? "a FIFO (named pipe)" : stats.isCharacterDevice() ? "a character device"
                : stats.isBlockDevice() ? "a block device" : stats.isSocket() ? "a socket" : "not a regular file";
            throw new InvalidInputError(`model path is ${kind}, not a GGUF file: ${filePath}`);
        }
        return {handle, size: stats.size};
    } catch (error) {
        await handle.close();
        throw error;
    }
}

/** Reads and checks one GGUF file's header, metadata and tensor infos (see the module comment). */
export async function readGgufFile(filePath: string): Promise<GgufFileInfo> {
    const {handle, size} = await openRegularFile(filePath);
    try {
        return await parse(new BoundedReader(handle, size, filePath), filePath);
    } finally {
        await handle.close();
    }
}

async function parse(r: BoundedReader, file: string): Promise<GgufFileInfo> {
    const corrupt = (what: string) => new InvalidGgufError(file, what);

    if (r.size < 4) throw corrupt(`not a GGUF file (${r.size} bytes)`);
    await r.need(4, "the magic");
    const magic = r.bytes(4);
    if (magic.toString("latin1") !== GGUF_MAGIC) throw corrupt(`not a GGUF file (it starts with ${JSON.stringify(magic.toString("latin1"))}, not "GGUF")`);

    await r.need(4 + 8 + 8, "the header");
    const version = r.u32();
    if (version !== 0 && (version & 0xffff) === 0) throw corrupt(`GGUF version 0x${version.toString(16)}: written for the other byte order`);
    if (version !== 2 && version !== 3) throw corrupt(`unsupported GGUF version ${version} (llama.cpp reads versions 2 and 3)`);
    const tensorCount = r.i64();
    const entryCount = r.i64();
    if (tensorCount < 0 || entryCount < 0 || tensorCount * MIN_TENSOR_INFO_BYTES + entryCount * MIN_ENTRY_BYTES > r.remaining)
        throw corrupt(`${entryCount} metadata entries and ${tensorCount} tensors cannot fit in the file's ${r.size} bytes`);

    const metadata = new Map<string, GgufMetadataValue>();
    for (let i = 0; i < entryCount; i++) {
        const where = `metadata entry ${i}`;
        const key = await readString(r, `the key of ${where}`, corrupt);
        if (key === "") throw corrupt(`${where} has an empty key`);
        if (metadata.has(key)) throw corrupt(`metadata key "${key}" appears twice`);
        metadata.set(key, await readValue(r, `metadata "${key}"`, corrupt));
    }

    const alignmentEntry = metadata.get("general.alignment");
    let alignment = DEFAULT_ALIGNMENT;
    if (alignmentEntry !== undefined) {
        if (alignmentEntry.type !== "uint32") throw corrupt(`general.alignment is ${describeType(alignmentEntry)}, not uint32`);
        alignment = alignmentEntry.value as number;
        if (alignment === 0 || (alignment & (alignment - 1)) !== 0) throw corrupt(`general.alignment ${alignment} is not a power of 2`);
    }

    const tensors: GgufTensorInfo[] = [];
    const tensorIndex = new Map<string, number>();
    for (let i = 0; i < tensorCount; i++) {
        const name = await readString(r, `the name of tensor ${i}`, corrupt);
        const what = `tensor "${name}"`;
        if (Buffer.byteLength(name) > MAX_TENSOR_NAME_BYTES) throw corrupt(`the name of tensor ${i} is ${Buffer.byteLength(name)} bytes (at most ${MAX_TENSOR_NAME_BYTES})`);
        const earlier = tensorIndex.get(name);
        if (earlier !== undefined) throw corrupt(`${what} appears twice (tensors ${earlier} and ${i})`);
        tensorIndex.set(name, i);

        await r.need(4, `the dimension count of ${what}`);
        const dims = r.u32();
        if (dims > MAX_DIMS) throw corrupt(`${what} has ${dims} dimensions (at most ${MAX_DIMS})`);
        await r.need(8 * dims + 4 + 8, `the shape, type and offset of ${what}`);
        const shape: bigint[] = [];
        for (let d = 0; d < dims; d++) {
            const ne = r.i64Exact();
            if (ne < 0n) throw corrupt(`${what} has a negative dimension ${ne}`);
            shape.push(ne);
        }
        let elements = 1n;
        for (const ne of shape) elements *= ne;
        if (elements > INT64_MAX) throw corrupt(`${what} has shape [${shape.join(", ")}]: too many elements`);
        const typeId = r.i32();
        const type = GGML_TYPES.get(typeId);
        if (type === undefined) throw corrupt(`${what} has unknown tensor type ${typeId}`);
        const rowLength = shape[0] ?? 1n;
        if (rowLength % BigInt(type.blockSize) !== 0n)
            throw corrupt(`${what} has rows of ${rowLength} elements, not a multiple of the ${type.name} block size ${type.blockSize}`);
        const byteSize = (elements / BigInt(type.blockSize)) * BigInt(type.typeSize);
        const offset = r.u64Exact();
        // Anything larger than the file fails the bounds check below; Number() keeps that true.
        tensors.push({name, shape: shape.map(Number), type: type.name, offset: Number(offset), byteSize: Number(byteSize)});
    }

    const dataOffset = tensorCount > 0 ? alignUp(r.position, alignment) : r.position;
    if (dataOffset > r.size) throw corrupt(`the file is cut short: the tensor data should start at byte ${dataOffset}, the file has ${r.size} bytes`);
    // llama.cpp requires each tensor right after the previous one, padded to the alignment; with
    // the offsets in order, data past the end of the file means the file was cut short.
    let expected = 0;
    for (const tensor of tensors) {
        const what = `tensor "${tensor.name}"`;
        if (tensor.offset % alignment !== 0) throw corrupt(`${what} data at offset ${tensor.offset} is not aligned to ${alignment} bytes`);
        if (tensor.offset !== expected)
            throw corrupt(`${what} data at offset ${tensor.offset} ${tensor.offset < expected ? "overlaps the previous tensor" : "leaves a gap after the previous tensor"} (expected offset ${expected})`);
        const end = dataOffset + tensor.offset + tensor.byteSize;
        if (end > r.size)
            throw corrupt(`the file is cut short: ${what} needs bytes ${dataOffset + tensor.offset} to ${end}, the file has ${r.size} bytes`);
        expected = alignUp(tensor.offset + tensor.byteSize, alignment);
    }

    return {path: file, size: r.size, version, alignment, metadata, tensors, dataOffset};
}

async function readString(r: BoundedReader, what: string, corrupt: (what: string) => Error): Promise<string> {
    await r.need(8, what);
    const length = r.u64();
    if (length > MAX_STRING_LENGTH || length > r.remaining)
        throw corrupt(`${what} at byte ${r.position - 8} is ${length} bytes long, but only ${r.remaining} bytes follow`);
    await r.need(length, what);
    return r.bytes(length).toString("utf8");
}

async function readValue(r: BoundedReader, what: string, corrupt: (what: string) => Error): Promise<GgufMetadataValue> {
    await r.need(4, `the type of ${what}`);
    const typeId = r.u32();
    const type = VALUE_TYPES[typeId];
    if (type === undefined) throw corrupt(`${what} has unknown value type ${typeId}`);
    if (type !== "array") return {type, value: await readScalar(r, type, what, corrupt)};

    await r.need(4 + 8, `the item type and length of ${what}`);
    const itemTypeId = r.u32();
    const itemType = VALUE_TYPES[itemTypeId];
    if (itemType === undefined || itemType === "array") throw corrupt(`${what} is an array of ${itemType === "array" ? "arrays" : `unknown value type ${itemTypeId}`}`);
    const length = r.u64();
    const itemBytes = itemType === "string" ? 8 : VALUE_SIZE[itemType];
    if (length > MAX_ARRAY_ELEMENTS || length * itemBytes > r.remaining)
        throw corrupt(`${what} is an array of ${length} ${itemType} items, which cannot fit in the ${r.remaining} bytes after byte ${r.position}`);
    if (length <= MAX_KEPT_ARRAY_LENGTH) {
        const values: GgufScalar[] = [];
        for (let i = 0; i < length; i++) values.push(await readScalar(r, itemType, `item ${i} of ${what}`, corrupt));
        return {type: "array", itemType, length, values};
    }
    if (itemType !== "string") {
        r.skip(length * itemBytes);
    } else {
        // A vocabulary: only the lengths matter, so each string is skipped without decoding it.
        for (let i = 0; i < length; i++) {
            if (!r.has(8)) await r.need(8, `item ${i} of ${what}`);
            const bytes = r.u64();
            if (bytes > MAX_STRING_LENGTH || bytes > r.remaining)
                throw corrupt(`item ${i} of ${what} at byte ${r.position - 8} is ${bytes} bytes long, but only ${r.remaining} bytes follow`);
            r.skip(bytes);
        }
    }
    return {type: "array", itemType, length, values: null};
}

async function readScalar(r: BoundedReader, type: GgufScalarType, what: string, corrupt: (what: string) => Error): Promise<GgufScalar> {
    if (type === "string") return readString(r, what, corrupt);
    if (!r.has(VALUE_SIZE[type])) await r.need(VALUE_SIZE[type], what);
    switch (type) {
        case "uint8": return r.u8();
        case "int8": return r.i8();
        case "uint16": return r.u16();
        case "int16": return r.i16();
        case "uint32": return r.u32();
        case "int32": return r.i32();
        case "float32": return r.f32();
        case "bool": return r.u8() !== 0;
        case "uint64": return r.u64Exact();
        case "int64": return r.i64Exact();
        case "float64": return r.f64();
    }
}

function describeType(value: GgufMetadataValue): string {
    return value.type === "array" ? `an array of ${value.itemType}` : value.type;
}

function alignUp(value: number, alignment: number): number {
    return Math.ceil(value / alignment) * alignment;
}

function firstLine(text: string): string {
    return text.split("\n")[0]!.trim();
}

/**
 * Little-endian reads from a window of the file. `need(n)` makes the next n bytes readable and
 * fails as "cut short" when the file ends first; the read methods then take them synchronously.
 */
class BoundedReader {
    position = 0;
    private window = Buffer.alloc(0);
    private windowStart = 0;

    constructor(private readonly handle: FileHandle, readonly size: number, private readonly file: string) {}

    get remaining(): number {
        return this.size - this.position;
    }

    /** Whether the next `n` bytes are already in the window. */
    has(n: number): boolean {
        const at = this.position - this.windowStart;
        return at >= 0 && at + n <= this.window.length;
    }

    async need(n: number, what: string): Promise<void> {
        if (n > this.remaining)
            throw new InvalidGgufError(this.file, `the file is cut short: ${what} at byte ${this.position} needs ${n} bytes, ${this.remaining} follow`);
        if (this.has(n)) return;
        const length = Math.min(Math.max(n, WINDOW_BYTES), this.remaining);
        const window = Buffer.allocUnsafe(length);
        let filled = 0;
        while (filled < length) {
            const {bytesRead} = await this.handle.read(window, filled, length - filled, this.position + filled);
            if (bytesRead === 0) throw new InvalidGgufError(this.file, `the file shrank to ${this.position + filled} bytes while it was read`);
            filled += bytesRead;
        }
        this.window = window;
        this.windowStart = this.position;
    }

    /** Moves past `n` bytes, which the caller has checked fit in the file. */
    skip(n: number): void {
        this.position += n;
    }

    bytes(n: number): Buffer {
        const at = this.take(n);
        return this.window.subarray(at, at + n);
    }
    u8(): number { return this.window.readUInt8(this.take(1)); }
    i8(): number { return this.window.readInt8(this.take(1)); }
    u16(): number { return this.window.readUInt16LE(this.take(2)); }
    i16(): number { return this.window.readInt16LE(this.take(2)); }
    u32(): number { return this.window.readUInt32LE(this.take(4)); }
    i32(): number { return this.window.readInt32LE(this.take(4)); }
    f32(): number { return this.window.readFloatLE(this.take(4)); }
    f64(): number { return this.window.readDoubleLE(this.take(8)); }
    u64Exact(): bigint { return this.window.readBigUInt64LE(this.take(8)); }
    i64Exact(): bigint { return this.window.readBigInt64LE(this.take(8)); }
    /**
     * A uint64 as a number, without a BigInt (a vocabulary has 100k+ string lengths): exact below
     * 2^53; anything larger exceeds every file size, which is all it is compared with.
     */
    u64(): number {
        const at = this.take(8);
        return this.window.readUInt32LE(at + 4) * 2 ** 32 + this.window.readUInt32LE(at);
    }
    /** An int64 count as a number (see u64). */
    i64(): number {
        const at = this.take(8);
        return this.window.readInt32LE(at + 4) * 2 ** 32 + this.window.readUInt32LE(at);
    }

    private take(n: number): number {
        const at = this.position - this.windowStart;
        this.position += n;
        return at;
    }
}
