/**
 * GGUF bytes with any field set to any value, valid or not: the project's writer refuses to write
 * a broken file, and the reader's tests need every kind of broken file. By default the result is
 * a valid GGUF v3 file; each option breaks one thing.
 */

/** GGUF value type ids. */
export const VALUE = {uint8: 0, uint16: 2, uint32: 4, int32: 5, float32: 6, bool: 7, string: 8, array: 9, uint64: 10} as const;
/** ggml type ids used here. */
export const TYPE = {F32: 0, Q8_0: 8} as const;

export interface RawEntry {
    readonly key: string;
    readonly type: number;
    /** The encoded value, after the type id. */
    readonly value: Buffer;
}

export interface RawTensor {
    readonly name: string;
    readonly shape: readonly (number | bigint)[];
    /** F32 by default. */
    readonly type?: number;
    /** Default: right after the previous tensor, padded to the alignment. */
    readonly offset?: number | bigint;
    /** Bytes of data (default: 4 per element, as F32). */
    readonly bytes?: number;
}

export interface RawGguf {
    readonly magic?: string;
    readonly version?: number;
    /** Written instead of the real counts. */
    readonly tensorCount?: bigint;
    readonly entryCount?: bigint;
    readonly entries?: readonly RawEntry[];
    readonly tensors?: readonly RawTensor[];
    /** The alignment the layout uses (general.alignment is only written as an entry). */
    readonly alignment?: number;
    /** Bytes of tensor data written (default: what the tensors need). */
    readonly dataBytes?: number;
    /** Cut the file to this many bytes. */
    readonly truncateTo?: number;
}

export function u64(value: number | bigint): Buffer {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt.asUintN(64, BigInt(value)));
    return b;
}

export function u32(value: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(value >>> 0);
    return b;
}

export function u16(value: number): Buffer {
    const b = Buffer.alloc(2);
    b.writeUInt16LE(value);
    return b;
}

export function i32(value: number): Buffer {
    const b = Buffer.alloc(4);
    b.writeInt32LE(value);
    return b;
}

export function str(text: string): Buffer {
    const bytes = Buffer.from(text, "utf8");
    return Buffer.concat([u64(bytes.length), bytes]);
}

export const entry = {
    string: (key: string, value: string): RawEntry => ({key, type: VALUE.string, value: str(value)}),
    uint32: (key: string, value: number): RawEntry => ({key, type: VALUE.uint32, value: u32(value)}),
    uint16: (key: string, value: number): RawEntry => ({key, type: VALUE.uint16, value: u16(value)}),
    int32: (key: string, value: number): RawEntry => ({key, type: VALUE.int32, value: i32(value)}),
    /** An array of `count` items of `itemType`, with `items` as the encoded items. */
    array: (key: string, itemType: number, count: number | bigint, items: Buffer = Buffer.alloc(0)): RawEntry =>
        ({key, type: VALUE.array, value: Buffer.concat([u32(itemType), u64(count), items])}),
};

/** The file's bytes. */
export function rawGguf(spec: RawGguf = {}): Buffer {
    const alignment = spec.alignment ?? 32;
    const entries = spec.entries ?? [entry.string("general.architecture", "llama")];
    const tensors = spec.tensors ?? [{name: "t", shape: [8]}];
    const parts: Buffer[] = [
        Buffer.from(spec.magic ?? "GGUF", "latin1"),
        u32(spec.version ?? 3),
        u64(spec.tensorCount ?? tensors.length),
        u64(spec.entryCount ?? entries.length),
    ];
    for (const e of entries) parts.push(str(e.key), u32(e.type), e.value);
    let next = 0;
    let dataSize = 0;
    for (const t of tensors) {
        const bytes = t.bytes ?? 4 * t.shape.reduce<number>((a, b) => a * Number(b), 1);
        const offset = t.offset ?? next;
        parts.push(str(t.name), u32(t.shape.length), ...t.shape.map(u64), u32(t.type ?? TYPE.F32), u64(offset));
        next = Math.ceil((Number(offset) + bytes) / alignment) * alignment;
        dataSize = Math.max(dataSize, next);
    }
    const header = Buffer.concat(parts);
    const dataStart = tensors.length > 0 ? Math.ceil(header.length / alignment) * alignment : header.length;
    const file = Buffer.concat([header, Buffer.alloc(dataStart - header.length + (spec.dataBytes ?? dataSize))]);
    return spec.truncateTo === undefined ? file : file.subarray(0, spec.truncateTo);
}
