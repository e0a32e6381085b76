import {strict as assert} from "node:assert";
import {existsSync} from "node:fs";
import {mkdtemp, readFile, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {
    f16BitsToF32,
    f32ToF16Bits,
    GGML_TYPE_ID,
    quantizeQ8_0,
    writeGguf,
    type GgufMetadataEntry,
} from "../../src/gguf/writer.js";

/** A minimal GGUF reader, independent of the writer, for the values the tests use. */
function readGguf(bytes: Buffer) {
    let at = 0;
    const u32 = () => ((at += 4), bytes.readUInt32LE(at - 4));
    const u64 = () => ((at += 8), Number(bytes.readBigUInt64LE(at - 8)));
    const str = () => {
        const n = u64();
        at += n;
        return bytes.toString("utf8", at - n, at);
    };
    const scalar = (type: number): unknown => {
        switch (type) {
            case 2: return (at += 2), bytes.readUInt16LE(at - 2);
            case 4: return u32();
            case 5: return (at += 4), bytes.readInt32LE(at - 4);
            case 6: return (at += 4), bytes.readFloatLE(at - 4);
            case 7: return (at += 1), bytes[at - 1] === 1;
            case 8: return str();
            case 10: return (at += 8), bytes.readBigUInt64LE(at - 8);
            default: throw new Error(`test reader: value type ${type}`);
        }
    };
    const magic = bytes.toString("latin1", 0, 4);
    at = 4;
    const version = u32();
    const tensorCount = u64();
    const kvCount = u64();
    const metadata = new Map<string, {type: number; value: unknown}>();
    for (let i = 0; i < kvCount; i++) {
        const key = str();
        const type = u32();
        if (type === 9) {
            const elementType = u32();
            const n = u64();
            metadata.set(key, {type: 9, value: Array.from({length: n}, () => scalar(elementType))});
        } else metadata.set(key, {type, value: scalar(type)});
    }
    const tensors: {name: string; shape: number[]; type: number; offset: number}[] = [];
    for (let i = 0; i < tensorCount; i++) {
        const name = str();
        const shape = Array.from({length: u32()}, () => u64());
        tensors.push({name, shape, type: u32(), offset: u64()});
    }
    const headerEnd = at;
    const dataStart = Math.ceil(headerEnd / 32) * 32;
    return {magic, version, tensorCount, kvCount, metadata, tensors, headerEnd, dataStart};
}

describe("GGUF writer", function () {
    let dir: string;
    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "gguf-writer-test-"));
    });
    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });

    // Block 0: x_i = (i - 15) / 2, so max|x| = 8 and d = 8/127.
    // Block 1: max|x| = 127 gives d = 1, so ±2.5 is an exact tie: C roundf gives ±3 (Math.round: -2).
    // Block 2: all zeros gives d = 0 and q = 0.
    const q8Vector = new Float32Array(96);
    for (let i = 0; i < 32; i++) q8Vector[i] = (i - 15) / 2;
    q8Vector.set([127, -2.5, 2.5, 0.49, -126.6], 32);

    const metadata: GgufMetadataEntry[] = [
        {key: "general.architecture", type: "string", value: "llama"},
        {key: "test.u16", type: "uint16", value: 65535},
        {key: "test.u32", type: "uint32", value: 4096},
        {key: "test.i32", type: "int32", value: -5},
        {key: "test.f32", type: "float32", value: 0.25},
        {key: "test.bool", type: "bool", value: true},
        {key: "test.u64", type: "uint64", value: 2n ** 40n},
        {key: "test.utf8", type: "string", value: "héllo ▁wörld"},
        {key: "test.strings", type: "string[]", value: ["<s>", "", "▁a"]},
        {key: "test.ints", type: "int32[]", value: [1, -2, 3]},
        {key: "test.floats", type: "float32[]", value: new Float32Array([0.5, -1])},
    ];

    it("writes a header, metadata and aligned tensor data that a reader parses back", async () => {
        const path = join(dir, "small.gguf");
        const f32 = new Float32Array([1, 2, 3, 4, 5, 6]);
        await writeGguf(path, {
            metadata,
            tensors: [
                {name: "a", shape: [3, 2], type: "F32", data: f32}, // 24 bytes: the next offset needs padding
                // Generator in two chunks, exercising the streaming path.
                {name: "q", shape: [32, 3], type: "Q8_0", data: function* () {
                    yield q8Vector.subarray(0, 64);
                    yield q8Vector.subarray(64);
                }},
                {name: "h", shape: [5], type: "F16", data: new Float32Array([1, -2, 0.1, 65504, 1e-8])},
            ],
        });
        const bytes = await readFile(path);
        const file = readGguf(bytes);

        assert.equal(file.magic, "GGUF");
        assert.equal(file.version, 3);
        assert.equal(file.tensorCount, 3);
        assert.equal(file.kvCount, metadata.length + 1); // + general.alignment, added by the writer
        assert.deepEqual(file.metadata.get("general.alignment"), {type: 4, value: 32});
        assert.deepEqual(file.metadata.get("general.architecture"), {type: 8, value: "llama"});
        assert.deepEqual(file.metadata.get("test.utf8"), {type: 8, value: "héllo ▁wörld"});
        assert.deepEqual(file.metadata.get("test.u16"), {type: 2, value: 65535});
        assert.deepEqual(file.metadata.get("test.u32"), {type: 4, value: 4096});
        assert.deepEqual(file.metadata.get("test.i32"), {type: 5, value: -5});
        assert.deepEqual(file.metadata.get("test.f32"), {type: 6, value: 0.25});
        assert.deepEqual(file.metadata.get("test.bool"), {type: 7, value: true});
        assert.deepEqual(file.metadata.get("test.u64"), {type: 10, value: 2n ** 40n});
        assert.deepEqual(file.metadata.get("test.strings"), {type: 9, value: ["<s>", "", "▁a"]});
        assert.deepEqual(file.metadata.get("test.ints"), {type: 9, value: [1, -2, 3]});
        assert.deepEqual(file.metadata.get("test.floats"), {type: 9, value: [0.5, -1]});

        assert.deepEqual(
            file.tensors.map(({name, shape, type, offset}) => ({name, shape, type, offset})),
            [
                {name: "a", shape: [3, 2], type: GGML_TYPE_ID.F32, offset: 0},
                {name: "q", shape: [32, 3], type: GGML_TYPE_ID.Q8_0, offset: 32},
                {name: "h", shape: [5], type: GGML_TYPE_ID.F16, offset: 32 + 3 * 34 + 26},
            ],
        );
        assert.equal(file.dataStart % 32, 0);
        assert.ok(bytes.subarray(file.headerEnd, file.dataStart).every((b) => b === 0), "header padding is zeros");
        assert.equal(bytes.length, file.dataStart + 160 + 32); // last tensor (10 bytes) padded to 32

        const data = (offset: number, length: number) => bytes.subarray(file.dataStart + offset, file.dataStart + offset + length);
        assert.deepEqual(Array.from(new Float32Array(new Uint8Array(data(0, 24)).buffer)), [1, 2, 3, 4, 5, 6]);

        const q = data(32, 3 * 34);
        // Block 0: scale f16(8/127) = 0x2c08, q_i = roundf((i - 15)/2 * 127/8).
        assert.equal(q.readUInt16LE(0), 0x2c08);
        const block0 = Array.from(q.subarray(2, 34), (b) => (b << 24) >> 24);
        assert.deepEqual(block0.slice(0, 4), [-119, -111, -103, -95]);
        assert.equal(block0[15], 0);
        assert.equal(block0[16], 8); // 0.5 * 15.875 = 7.94
        assert.equal(block0[31], 127);
        // Block 1: scale 1.0 = 0x3c00; ties round away from zero.
        assert.equal(q.readUInt16LE(34), 0x3c00);
        assert.deepEqual(Array.from(q.subarray(36, 41), (b) => (b << 24) >> 24), [127, -3, 3, 0, -127]);
        // Block 2: all zero.
        assert.ok(q.subarray(68, 102).every((b) => b === 0));

        const h = data(32 + 3 * 34 + 26, 10);
        assert.deepEqual([0, 2, 4, 6, 8].map((o) => h.readUInt16LE(o)), [0x3c00, 0xc000, 0x2e66, 0x7bff, 0x0000]);
    });

    it("quantizeQ8_0 matches the writer's bytes and decodes back within half a step", () => {
        const bytes = quantizeQ8_0(q8Vector);
        assert.equal(bytes.length, 3 * 34);
        for (let b = 0; b < 3; b++) {
            const d = f16BitsToF32(bytes.readUInt16LE(b * 34));
            for (let i = 0; i < 32; i++) {
                const decoded = d * bytes.readInt8(b * 34 + 2 + i);
                assert.ok(Math.abs(decoded - q8Vector[b * 32 + i]!) <= d / 2 + 1e-3 * d + 1e-12);
            }
        }
    });

    it("converts every finite half value to f32 and back exactly, and rounds to nearest even", () => {
        for (let bits = 0; bits < 0x10000; bits++) {
            if ((bits & 0x7c00) === 0x7c00) continue; // inf, NaN
            assert.equal(f32ToF16Bits(f16BitsToF32(bits)), bits);
        }
        assert.equal(f32ToF16Bits(1 + 2 ** -11), 0x3c00); // tie: to even (down)
        assert.equal(f32ToF16Bits(1 + 3 * 2 ** -11), 0x3c02); // tie: to even (up)
        assert.equal(f32ToF16Bits(65520), 0x7c00); // rounds up to inf
        assert.equal(f32ToF16Bits(2 ** -24), 0x0001); // smallest subnormal
        assert.equal(f32ToF16Bits(2 ** -25), 0x0000); // tie with 0: to even
        assert.equal(f32ToF16Bits(-Infinity), 0xfc00);
    });

    it("rejects a Q8_0 row that is not whole blocks, and a wrong element count, leaving no file", async () => {
        const path = join(dir, "bad.gguf");
        await assert.rejects(
            writeGguf(path, {metadata: [], tensors: [{name: "x", shape: [20, 2], type: "Q8_0", data: new Float32Array(40)}]}),
            /tensor "x": Q8_0 row length 20 is not a multiple of 32/,
        );
        await assert.rejects(
            writeGguf(path, {metadata: [], tensors: [{name: "y", shape: [4, 2], type: "F32", data: new Float32Array(7)}]}),
            /tensor "y": data has 7 elements, shape \[4, 2\] needs 8/,
        );
        await assert.rejects(
            writeGguf(path, {metadata: [{key: "k", type: "uint32", value: -1}], tensors: []}),
            /metadata "k": -1 is not an integer/,
        );
        await assert.rejects(
            writeGguf(path, {metadata: [{key: "k", type: "uint16", value: 65536}], tensors: []}),
            /metadata "k": 65536 is not an integer in \[0, 65535\]/,
        );
        assert.equal(existsSync(path), false);
        assert.deepEqual((await readdir(dir)).filter((f) => f.startsWith("bad.gguf")), []);
    });
});
