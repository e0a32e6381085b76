/**
 * A small GGUF v3 writer: typed metadata plus F32, F16 and Q8_0 tensors.
 *
 * Tensor data is streamed to disk tensor by tensor (and chunk by chunk), so files of hundreds of
 * megabytes can be written without holding them in memory. Layout (little-endian throughout):
 *   "GGUF", version, tensor count, metadata count, metadata, tensor infos, padding to the
 *   alignment, then each tensor's data, each padded to the alignment.
 * The file is written under a temporary name and renamed at the end, so a reader never sees a
 * half-written model under the final name.
 */
import {open, rename, rm} from "node:fs/promises";
import {endianness} from "node:os";

/** Data offsets are multiples of this; also written as `general.alignment`. */
export const GGUF_ALIGNMENT = 32;
/** Elements per Q8_0 block; a block is one f16 scale then 32 int8 values. */
export const Q8_0_BLOCK_SIZE = 32;
/** Bytes per Q8_0 block. */
export const Q8_0_BLOCK_BYTES = 2 + Q8_0_BLOCK_SIZE;

export type GgufTensorType = "F32" | "F16" | "Q8_0";

/** ggml's numeric ids for the tensor types this writer supports. */
export const GGML_TYPE_ID: Readonly<Record<GgufTensorType, number>> = {F32: 0, F16: 1, Q8_0: 8};

/** GGUF metadata value type ids (gguf_type). */
const GGUF_VALUE_TYPE = {
    uint16: 2,
    uint32: 4,
    int32: 5,
    float32: 6,
    bool: 7,
    string: 8,
    array: 9,
    uint64: 10,
} as const;

/** One metadata key and its typed value. */
export type GgufMetadataEntry = {key: string} & (
    | {type: "uint16"; value: number}
    | {type: "uint32"; value: number}
    | {type: "int32"; value: number}
    | {type: "float32"; value: number}
    | {type: "uint64"; value: number | bigint}
    | {type: "bool"; value: boolean}
    | {type: "string"; value: string}
    | {type: "string[]"; value: readonly string[]}
    | {type: "int32[]"; value: ArrayLike<number>}
    | {type: "float32[]"; value: ArrayLike<number>}
);

/**
 * Tensor data: the whole tensor, or a function returning chunks in order (row-major, ne0 fastest).
 * The writer encodes each chunk before asking for the next, so a generator may reuse one buffer.
 * For Q8_0 every chunk's length must be a multiple of 32.
 */
export type GgufTensorData = Float32Array | (() => Iterable<Float32Array>);

export interface GgufTensor {
    name: string;
    /** GGUF order: shape[0] (ne0) is the row length, i.e. the fastest-varying dimension. */
    shape: readonly number[];
    type: GgufTensorType;
    data: GgufTensorData;
}

export interface GgufFile {
    metadata: readonly GgufMetadataEntry[];
    tensors: readonly GgufTensor[];
}

/** Bytes that `count` elements of `type` take in the file (without alignment padding). */
export function tensorByteSize(type: GgufTensorType, count: number): number {
    switch (type) {
        case "F32":
            return count * 4;
        case "F16":
            return count * 2;
        case "Q8_0":
            if (count % Q8_0_BLOCK_SIZE !== 0)
                throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} elements, got ${count}`);
            return (count / Q8_0_BLOCK_SIZE) * Q8_0_BLOCK_BYTES;
    }
}

/** Writes `file` as GGUF v3 to `path` (replacing it). */
export async function writeGguf(path: string, file: GgufFile): Promise<void> {
    const metadata = withAlignment(file.metadata);
    checkTensors(file.tensors);

    // Offsets are relative to the start of the data section, each aligned.
    const offsets: number[] = [];
    let dataSize = 0;
    for (const tensor of file.tensors) {
        offsets.push(dataSize);
        dataSize = alignUp(dataSize + tensorByteSize(tensor.type, elementCount(tensor.shape)), GGUF_ALIGNMENT);
    }

    const header = new ByteWriter();
    header.bytes(Buffer.from("GGUF", "latin1"));
    header.u32(3);
    header.u64(file.tensors.length);
    header.u64(metadata.length);
    for (const entry of metadata) writeMetadataEntry(header, entry);
    file.tensors.forEach((tensor, i) => {
        header.string(tensor.name);
        header.u32(tensor.shape.length);
        for (const dim of tensor.shape) header.u64(dim);
        header.u32(GGML_TYPE_ID[tensor.type]);
        header.u64(offsets[i]!);
    });
    header.padTo(GGUF_ALIGNMENT);

    const tmpPath = `${path}.tmp-${process.pid}`;
    const handle = await open(tmpPath, "w");
    try {
        await handle.write(header.toBuffer());
        for (const tensor of file.tensors) {
            const expected = elementCount(tensor.shape);
            let elements = 0;
            let written = 0;
            for (const chunk of tensorChunks(tensor)) {
                elements += chunk.length;
                // Checked before writing so a long generator cannot overrun into the next tensor.
                if (elements > expected) break;
                const encoded = encodeChunk(tensor, chunk);
                await handle.write(encoded);
                written += encoded.length;
            }
            if (elements !== expected)
                throw new Error(
                    `tensor "${tensor.name}": data has ${elements > expected ? "more than " + expected : elements} elements, shape [${tensor.shape.join(", ")}] needs ${expected}`,
                );
            const padding = alignUp(written, GGUF_ALIGNMENT) - written;
            if (padding > 0) await handle.write(Buffer.alloc(padding));
        }
        await handle.close();
    } catch (error) {
        await handle.close().catch(() => undefined);
        await rm(tmpPath, {force: true});
        throw error;
    }
    await rename(tmpPath, path);
}

/** Rounds `value` up to a multiple of `alignment`. */
export function alignUp(value: number, alignment: number): number {
    return Math.ceil(value / alignment) * alignment;
}

function elementCount(shape: readonly number[]): number {
    return shape.reduce((a, b) => a * b, 1);
}

/** Adds `general.alignment` unless present; a different alignment is refused (offsets assume 32). */
function withAlignment(metadata: readonly GgufMetadataEntry[]): GgufMetadataEntry[] {
    const keys = new Set<string>();
    for (const entry of metadata) {
        if (keys.has(entry.key)) throw new Error(`metadata key "${entry.key}" appears twice`);
        keys.add(entry.key);
    }
    const given = metadata.find((entry) => entry.key === "general.alignment");
    if (given === undefined)
        return [...metadata, {key: "general.alignment", type: "uint32", value: GGUF_ALIGNMENT}];
    if (given.type !== "uint32" || given.value !== GGUF_ALIGNMENT)
        throw new Error(`general.alignment must be uint32 ${GGUF_ALIGNMENT}`);
    return [...metadata];
}

function checkTensors(tensors: readonly GgufTensor[]): void {
    const names = new Set<string>();
    for (const tensor of tensors) {
        if (names.has(tensor.name)) throw new Error(`tensor "${tensor.name}" appears twice`);
        names.add(tensor.name);
        if (tensor.shape.length < 1 || tensor.shape.length > 4)
            throw new Error(`tensor "${tensor.name}": ${tensor.shape.length} dimensions, expected 1 to 4`);
        if (!tensor.shape.every((dim) => Number.isSafeInteger(dim) && dim > 0))
            throw new Error(`tensor "${tensor.name}": shape [${tensor.shape.join(", ")}] must be positive integers`);
        // ggml quantises whole rows, so a Q8_0 row must be whole blocks.
        if (tensor.type === "Q8_0" && tensor.shape[0]! % Q8_0_BLOCK_SIZE !== 0)
            throw new Error(`tensor "${tensor.name}": Q8_0 row length ${tensor.shape[0]} is not a multiple of ${Q8_0_BLOCK_SIZE}`);
    }
}

/** Chunks of at most this many elements are encoded at a time (bounds memory for whole arrays). */
const MAX_CHUNK = 1 << 20;

function* tensorChunks(tensor: GgufTensor): Iterable<Float32Array> {
    const source = tensor.data instanceof Float32Array ? [tensor.data] : tensor.data();
    for (const chunk of source) {
        for (let start = 0; start < chunk.length; start += MAX_CHUNK)
            yield chunk.subarray(start, Math.min(chunk.length, start + MAX_CHUNK));
    }
}

const littleEndian = endianness() === "LE";

function encodeChunk(tensor: GgufTensor, chunk: Float32Array): Buffer {
    switch (tensor.type) {
        case "F32": {
            // Copy: the caller may reuse the chunk's buffer once we return.
            const out = Buffer.from(Float32Array.from(chunk).buffer);
            return littleEndian ? out : out.swap32();
        }
        case "F16": {
            const out = Buffer.allocUnsafe(chunk.length * 2);
            for (let i = 0; i < chunk.length; i++) out.writeUInt16LE(f32ToF16Bits(chunk[i]!), 2 * i);
            return out;
        }
        case "Q8_0":
            if (chunk.length % Q8_0_BLOCK_SIZE !== 0)
                throw new Error(`tensor "${tensor.name}": Q8_0 data chunk of ${chunk.length} elements is not a multiple of ${Q8_0_BLOCK_SIZE}`);
            return quantizeQ8_0(chunk);
    }
}

/**
 * Q8_0 as llama.cpp's quantize_row_q8_0_ref: d = max|x|/127, q = roundf(x * (1/d)), in float32
 * arithmetic, so the bytes match what llama.cpp's own quantiser writes.
 */
export function quantizeQ8_0(values: Float32Array): Buffer {
    if (values.length % Q8_0_BLOCK_SIZE !== 0)
        throw new Error(`Q8_0 needs a multiple of ${Q8_0_BLOCK_SIZE} values, got ${values.length}`);
    const blocks = values.length / Q8_0_BLOCK_SIZE;
    const out = Buffer.allocUnsafe(blocks * Q8_0_BLOCK_BYTES);
    const fround = Math.fround;
    for (let b = 0; b < blocks; b++) {
        const base = b * Q8_0_BLOCK_SIZE;
        let amax = 0;
        for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
            const a = Math.abs(values[base + i]!);
            if (a > amax) amax = a;
        }
        const d = fround(amax / 127);
        const id = d !== 0 ? fround(1 / d) : 0;
        const o = b * Q8_0_BLOCK_BYTES;
        const dBits = f32ToF16Bits(d);
        out[o] = dBits & 0xff;
        out[o + 1] = dBits >>> 8;
        for (let i = 0; i < Q8_0_BLOCK_SIZE; i++) {
            const v = fround(values[base + i]! * id);
            // C roundf: halves away from zero (Math.round rounds -2.5 to -2).
            const q = v < 0 ? -Math.round(-v) : Math.round(v);
            out[o + 2 + i] = q & 0xff;
        }
    }
    return out;
}

const f32Scratch = new Float32Array(1);
const u32Scratch = new Uint32Array(f32Scratch.buffer);

/** IEEE half-precision bits of `value`, rounded to nearest even (as the C conversion does). */
export function f32ToF16Bits(value: number): number {
    f32Scratch[0] = value;
    const x = u32Scratch[0]!;
    const sign = (x >>> 16) & 0x8000;
    const exponent = (x >>> 23) & 0xff;
    const mantissa = x & 0x7fffff;
    if (exponent === 0xff) return sign | 0x7c00 | (mantissa !== 0 ? 0x200 : 0); // inf, NaN
    const e = exponent - 127 + 15;
    if (e >= 0x1f) return sign | 0x7c00; // too large: inf
    if (e <= 0) {
        // Subnormal half: value / 2^-24, from the 24-bit significand.
        const shift = 14 - e;
        if (shift > 25) return sign;
        const significand = mantissa | 0x800000;
        let half = significand >>> shift;
        const rest = significand & ((1 << shift) - 1);
        const halfway = 1 << (shift - 1);
        if (rest > halfway || (rest === halfway && (half & 1) === 1)) half++;
        return sign | half;
    }
    let half = (e << 10) | (mantissa >>> 13);
    const rest = mantissa & 0x1fff;
    // A carry out of the mantissa correctly bumps the exponent (up to inf).
    if (rest > 0x1000 || (rest === 0x1000 && (half & 1) === 1)) half++;
    return sign | half;
}

/** Value of IEEE half-precision bits. */
export function f16BitsToF32(bits: number): number {
    const sign = bits & 0x8000 ? -1 : 1;
    const exponent = (bits >>> 10) & 0x1f;
    const mantissa = bits & 0x3ff;
    if (exponent === 0) return sign * mantissa * 2 ** -24;
    if (exponent === 0x1f) return mantissa !== 0 ? NaN : sign * Infinity;
    return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

function writeMetadataEntry(w: ByteWriter, entry: GgufMetadataEntry): void {
    w.string(entry.key);
    const where = `metadata "${entry.key}"`;
    switch (entry.type) {
        case "uint16":
            w.u32(GGUF_VALUE_TYPE.uint16);
            w.u16(checkedInt(entry.value, 0, 0xffff, where));
            return;
        case "uint32":
            w.u32(GGUF_VALUE_TYPE.uint32);
            w.u32(checkedInt(entry.value, 0, 0xffffffff, where));
            return;
        case "int32":
            w.u32(GGUF_VALUE_TYPE.int32);
            w.i32(checkedInt(entry.value, -0x80000000, 0x7fffffff, where));
            return;
        case "float32":
            w.u32(GGUF_VALUE_TYPE.float32);
            w.f32(entry.value);
            return;
        case "uint64":
            w.u32(GGUF_VALUE_TYPE.uint64);
            w.u64(entry.value);
            return;
        case "bool":
            w.u32(GGUF_VALUE_TYPE.bool);
            w.u8(entry.value ? 1 : 0);
            return;
        case "string":
            w.u32(GGUF_VALUE_TYPE.string);
            w.string(entry.value);
            return;
        case "string[]":
            w.u32(GGUF_VALUE_TYPE.array);
            w.u32(GGUF_VALUE_TYPE.string);
            w.u64(entry.value.length);
            for (const s of entry.value) w.string(s);
            return;
        case "int32[]":
            w.u32(GGUF_VALUE_TYPE.array);
            w.u32(GGUF_VALUE_TYPE.int32);
            w.u64(entry.value.length);
            for (let i = 0; i < entry.value.length; i++)
                w.i32(checkedInt(entry.value[i]!, -0x80000000, 0x7fffffff, `${where}[${i}]`));
            return;
        case "float32[]":
            w.u32(GGUF_VALUE_TYPE.array);
            w.u32(GGUF_VALUE_TYPE.float32);
            w.u64(entry.value.length);
            for (let i = 0; i < entry.value.length; i++) w.f32(entry.value[i]!);
            return;
    }
}

function checkedInt(value: number, min: number, max: number, where: string): number {
    if (!Number.isInteger(value) || value < min || value > max)
        throw new Error(`${where}: ${value} is not an integer in [${min}, ${max}]`);
    return value;
}

/** Growable little-endian byte buffer for the header (metadata can be a few MB of vocabulary). */
class ByteWriter {
    private buffer = Buffer.allocUnsafe(1 << 16);
    private length = 0;

    /** Grows the buffer if needed (replacing this.buffer: read it only after calling this). */
    private reserve(n: number): number {
        if (this.length + n > this.buffer.length) {
            const grown = Buffer.allocUnsafe(Math.max(this.buffer.length * 2, this.length + n));
            this.buffer.copy(grown, 0, 0, this.length);
            this.buffer = grown;
        }
        const at = this.length;
        this.length += n;
        return at;
    }

    u8(v: number): void {
        const at = this.reserve(1);
        this.buffer.writeUInt8(v, at);
    }
    u16(v: number): void {
        const at = this.reserve(2);
        this.buffer.writeUInt16LE(v, at);
    }
    u32(v: number): void {
        const at = this.reserve(4);
        this.buffer.writeUInt32LE(v, at);
    }
    i32(v: number): void {
        const at = this.reserve(4);
        this.buffer.writeInt32LE(v, at);
    }
    f32(v: number): void {
        const at = this.reserve(4);
        this.buffer.writeFloatLE(v, at);
    }
    u64(v: number | bigint): void {
        const at = this.reserve(8);
        this.buffer.writeBigUInt64LE(BigInt(v), at);
    }
    bytes(b: Uint8Array): void {
        const at = this.reserve(b.length);
        this.buffer.set(b, at);
    }
    /** gguf_string: uint64 byte length, then UTF-8 bytes (no terminator). */
    string(s: string): void {
        const b = Buffer.from(s, "utf8");
        this.u64(b.length);
        this.bytes(b);
    }
    padTo(alignment: number): void {
        const padding = alignUp(this.length, alignment) - this.length;
        const at = this.reserve(padding);
        this.buffer.fill(0, at, this.length);
    }
    toBuffer(): Buffer {
        return this.buffer.subarray(0, this.length);
    }
}
