/**
 * The GGUF reader and validator: every way a file can be broken is refused with one line naming
 * the file and the fault, and good files (ours, the shared real ones, split ones) pass with their
 * metadata read.
 */
import {strict as assert} from "node:assert";
import {execFileSync} from "node:child_process";
import {mkdir, mkdtemp, rm, symlink, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {InvalidGgufError, readGgufFile} from "../../src/gguf/reader.js";
import {parseSplitPartPath, splitGgufFile, splitPartPath} from "../../src/gguf/split.js";
import {validateGgufModel} from "../../src/gguf/validate.js";
import {writeGguf, type GgufFile, type GgufMetadataEntry} from "../../src/gguf/writer.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import {entry, i32, rawGguf, type RawGguf, str, TYPE, u32, u64, VALUE} from "../support/raw-gguf.js";
import {sharedModel} from "../support/shared.js";

/** A small llama-like file: the hyperparameters a memory estimate reads, and F32 tensors. */
function smallModel(tensorCount = 6): GgufFile {
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

describe("GGUF reader and validator", () => {
    let dir: string;
    let n = 0;

    before(async () => {
        dir = await mkdtemp(join(tmpdir(), "gguf-reader-"));
    });

    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });

    async function file(bytes: Buffer, name = `case-${n++}.gguf`): Promise<string> {
        const path = join(dir, name);
        await writeFile(path, bytes);
        return path;
    }

    async function assertCorrupt(path: string, ...patterns: RegExp[]): Promise<void> {
        await assert.rejects(validateGgufModel(path), (error: Error) => {
            assert.ok(error instanceof InvalidGgufError, `expected InvalidGgufError, got ${error.name}: ${error.message}`);
            assert.ok(error.message.startsWith("model is corrupt: "), error.message);
            assert.ok(!error.message.includes("\n"), `not one line: ${JSON.stringify(error.message)}`);
            for (const pattern of patterns) assert.match(error.message, pattern);
            return true;
        });
    }

    describe("accepts good files", () => {
        it("a file from the project's writer, with the metadata a memory estimate needs", async () => {
            const path = join(dir, "small.gguf");
            await writeGguf(path, smallModel());
            const model = await validateGgufModel(path);
            assert.equal(model.files.length, 1);
            assert.deepEqual(model.files[0]!.tensors.map((t) => t.name), ["t0", "t1", "t2", "t3", "t4", "t5"]);
            assert.deepEqual(model.files[0]!.tensors[2], {name: "t2", shape: [32, 3], type: "f32", offset: 128 + 256, byteSize: 384});
            assert.deepEqual(model.info, {
                architecture: "llama", blockCount: 2, embeddingLength: 64, headCount: 4, headCountKv: 4, contextLength: 512,
                keyLength: null, valueLength: null, tensorBytes: 4 * 32 * 21, fileBytes: model.files[0]!.size,
            });
        });

        it("the shared real models", async () => {
            const stories = await validateGgufModel(sharedModel("stories260K.gguf"));
            assert.equal(stories.info.architecture, "llama");
            assert.equal(stories.info.blockCount, 5);
            assert.equal(stories.info.embeddingLength, 64);
            assert.equal(stories.info.headCount, 8);
            assert.equal(stories.info.headCountKv, 4);
            assert.equal(stories.info.contextLength, 2048);
            assert.equal(stories.files[0]!.tensors.length, 48);
            const tiny = await validateGgufModel(sharedModel("llama-2-tiny-random.gguf"));
            assert.equal(tiny.info.embeddingLength, 8);
            assert.equal(tiny.files[0]!.metadata.get("tokenizer.ggml.tokens")?.type, "array");
        });

        it("per-layer head counts give the largest", async () => {
            const path = await file(rawGguf({entries: [
                entry.string("general.architecture", "openelm"),
                entry.array("openelm.attention.head_count", VALUE.int32, 3, Buffer.concat([i32(4), i32(12), i32(8)])),
            ]}));
            const {info} = await validateGgufModel(path);
            assert.equal(info.headCount, 12);
            assert.equal(info.headCountKv, 12);
        });

        it("a split model: every part read, tensors and sizes summed", async () => {
            const parts = splitGgufFile(smallModel(), [2, 3, 1]);
            for (const [i, part] of parts.entries()) await writeGguf(splitPartPath(join(dir, "split"), i, 3), part);
            const model = await validateGgufModel(join(dir, "split-00001-of-00003.gguf"));
            assert.deepEqual(model.files.map((f) => f.tensors.length), [2, 3, 1]);
            assert.equal(model.info.tensorBytes, 4 * 32 * 21);
            assert.equal(model.info.blockCount, 2);
        });

        it("names split parts as llama.cpp does", () => {
            assert.equal(splitPartPath("/m/model", 0, 3), "/m/model-00001-of-00003.gguf");
            assert.deepEqual(parseSplitPartPath("/m/model-00003-of-00003.gguf"), {prefix: "/m/model", index: 2, count: 3});
            assert.equal(parseSplitPartPath("/m/model-00004-of-00003.gguf"), null);
            assert.equal(parseSplitPartPath("/m/model.gguf"), null);
            assert.throws(() => splitGgufFile(smallModel(), [2, 3]), /tensors per part \[2, 3\] do not add up to the model's 6 tensors/);
        });
    });

    describe("refuses broken files with one line naming the file and the fault", () => {
        const cases: [string, RawGguf, ...RegExp[]][] = [
            ["bad magic", {magic: "GGML"}, /not a GGUF file/, /"GGML"/],
            ["GGUF version 1", {version: 1}, /unsupported GGUF version 1\b/],
            ["a newer GGUF version", {version: 4}, /unsupported GGUF version 4\b/],
            ["the other byte order", {version: 0x03000000}, /byte order/],
            ["a tensor count that cannot fit the file", {tensorCount: 1n << 40n}, /1099511627776 tensors cannot fit/],
            ["a negative metadata count", {entryCount: -1n}, /-1 metadata entries/],
            ["a string value longer than the file", {entries: [{key: "general.name", type: VALUE.string, value: u64(1n << 50n)}]}, /metadata "general.name" at byte \d+ is 1125899906842624 bytes long/],
            ["an array longer than the file", {entries: [entry.array("tokenizer.ggml.scores", VALUE.float32, 1n << 40n)]}, /array of 1099511627776 float32 items, which cannot fit/],
            ["an array of arrays", {entries: [entry.array("a", VALUE.array, 1)]}, /metadata "a" is an array of arrays/],
            ["an unknown value type", {entries: [{key: "x", type: 13, value: u32(0)}]}, /metadata "x" has unknown value type 13/],
            ["an empty key", {entries: [entry.uint32("", 1)]}, /empty key/],
            ["a key twice", {entries: [entry.uint32("a", 1), entry.uint32("a", 2)]}, /metadata key "a" appears twice/],
            ["general.alignment of the wrong type", {entries: [entry.int32("general.alignment", 32)]}, /general\.alignment is int32, not uint32/],
            ["general.alignment not a power of 2", {entries: [entry.uint32("general.alignment", 48)], alignment: 48}, /general\.alignment 48 is not a power of 2/],
            ["a tensor name of 64 bytes", {tensors: [{name: "n".repeat(64), shape: [8]}]}, /the name of tensor 0 is 64 bytes/],
            ["an unknown tensor type", {tensors: [{name: "w", shape: [8], type: 31}]}, /tensor "w" has unknown tensor type 31/],
            ["five dimensions", {tensors: [{name: "w", shape: [1, 1, 1, 1, 8]}]}, /tensor "w" has 5 dimensions/],
            ["a negative dimension", {tensors: [{name: "w", shape: [8, -2n]}], dataBytes: 64}, /tensor "w" has a negative dimension -2/],
            ["too many elements", {tensors: [{name: "w", shape: [1n << 32n, 1n << 32n], bytes: 0}]}, /tensor "w" has shape \[4294967296, 4294967296\]: too many elements/],
            ["a Q8_0 row that is not whole blocks", {tensors: [{name: "w", shape: [33], type: TYPE.Q8_0, bytes: 34}]}, /tensor "w" has rows of 33 elements, not a multiple of the q8_0 block size 32/],
            ["a tensor name twice", {tensors: [{name: "w", shape: [8]}, {name: "w", shape: [8]}]}, /tensor "w" appears twice \(tensors 0 and 1\)/],
            ["misaligned tensor data", {tensors: [{name: "a", shape: [8]}, {name: "b", shape: [8], offset: 40}]}, /tensor "b" data at offset 40 is not aligned to 32 bytes/],
            ["overlapping tensor data", {tensors: [{name: "a", shape: [16]}, {name: "b", shape: [8], offset: 32}]}, /tensor "b" data at offset 32 overlaps the previous tensor \(expected offset 64\)/],
            ["tensor data beyond the end of the file", {tensors: [{name: "a", shape: [8]}, {name: "b", shape: [8], offset: 1n << 40n}], dataBytes: 64}, /tensor "b" data at offset 1099511627776 leaves a gap/],
            ["a file cut short in the tensor data", {tensors: [{name: "a", shape: [64]}, {name: "b", shape: [64]}], truncateTo: 500}, /the file is cut short: tensor "b" needs bytes 416 to 672, the file has 500 bytes/],
            ["a file cut short in the tensor infos", {tensors: [{name: "a", shape: [64]}, {name: "b", shape: [64]}], truncateTo: 90}, /cut short|cannot fit/],
        ];
        for (const [what, spec, ...patterns] of cases) {
            it(what, async () => {
                const path = await file(rawGguf(spec));
                await assertCorrupt(path, ...patterns, new RegExp(path.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")));
            });
        }

        it("a key length beyond the file", async () => {
            const path = await file(Buffer.concat([Buffer.from("GGUF"), u32(3), u64(0), u64(1), u64(1n << 40n), Buffer.alloc(64)]));
            await assertCorrupt(path, /the key of metadata entry 0 at byte 24 is 1099511627776 bytes long, but only 64 bytes follow/);
        });

        it("a file shorter than the magic", async () => {
            await assertCorrupt(await file(Buffer.from("GG")), /not a GGUF file \(2 bytes\)/);
        });

        it("a text file", async () => {
            await assertCorrupt(await file(Buffer.from("this is not a model\n")), /not a GGUF file \(it starts with "this"/);
        });
    });

    describe("split models", () => {
        let case_ = 0;
        /** Writes `smallModel()` split 3 / 3 after `corrupt` has changed the parts; returns the first part's path. */
        async function split(corrupt: (parts: GgufFile[]) => void): Promise<string> {
            const parts = splitGgufFile(smallModel(), [3, 3]);
            corrupt(parts);
            const prefix = join(dir, `split-case-${case_++}`);
            for (const [i, part] of parts.entries()) await writeGguf(splitPartPath(prefix, i, parts.length), part);
            return splitPartPath(prefix, 0, parts.length);
        }
        const replace = (part: GgufFile, key: string, value: GgufMetadataEntry | null): GgufFile =>
            ({...part, metadata: [...part.metadata.filter((e) => e.key !== key), ...(value ? [value] : [])]});

        it("a tensor repeated in another part (llama.cpp aborts on it)", async () => {
            const path = await split((parts) => { parts[1] = {...parts[1]!, tensors: [...parts[1]!.tensors, parts[0]!.tensors[1]!]}; });
            await assertCorrupt(path, /-00002-of-00002\.gguf: tensor "t1" appears in part 1 and again in part 2 of 2/);
        });

        it("split.count of another type than uint16 (llama.cpp asserts the type)", async () => {
            const path = await split((parts) => { parts[0] = replace(parts[0]!, "split.count", {key: "split.count", type: "uint32", value: 2}); });
            await assertCorrupt(path, /split\.count is uint32, llama\.cpp reads it as uint16/);
        });

        it("split.no of another type in a later part", async () => {
            const path = await split((parts) => { parts[1] = replace(parts[1]!, "split.no", {key: "split.no", type: "int32", value: 1}); });
            await assertCorrupt(path, /-00002-of-00002\.gguf: split\.no is int32/);
        });

        it("a missing part", async () => {
            const path = await split(() => {});
            await rm(path.replace("-00001-of-", "-00002-of-"));
            await assertCorrupt(path, /part 2 of 2 is missing: .*-00002-of-00002\.gguf/);
        });

        it("a part that names another position", async () => {
            const path = await split((parts) => { parts[1] = replace(parts[1]!, "split.no", {key: "split.no", type: "uint16", value: 0}); });
            await assertCorrupt(path, /part 2 of 2 has split\.no 0, expected 1/);
        });

        it("parts that disagree on the count", async () => {
            const path = await split((parts) => { parts[1] = replace(parts[1]!, "split.count", {key: "split.count", type: "uint16", value: 3}); });
            await assertCorrupt(path, /part 2 has split\.count 3, the first part 2/);
        });

        it("split.tensors.count that does not match the parts", async () => {
            const path = await split((parts) => { parts[0] = replace(parts[0]!, "split.tensors.count", {key: "split.tensors.count", type: "int32", value: 7}); });
            await assertCorrupt(path, /split\.tensors\.count is 7, but the 2 parts hold 6 tensors/);
        });

        it("split.tensors.count missing", async () => {
            const path = await split((parts) => { parts[0] = replace(parts[0]!, "split.tensors.count", null); });
            await assertCorrupt(path, /split\.tensors\.count is missing/);
        });

        it("split metadata in a file not named as a part", async () => {
            const [first] = splitGgufFile(smallModel(), [3, 3]);
            const path = join(dir, "renamed.gguf");
            await writeGguf(path, first!);
            await assertCorrupt(path, /split into 2 files \(split\.count\), but the file is not named PREFIX-00001-of-00002\.gguf/);
        });

        it("a later part given as the model says which file to load", async () => {
            const path = await split(() => {});
            const second = path.replace("-00001-of-", "-00002-of-");
            await assert.rejects(validateGgufModel(second), (error: Error) => {
                assert.ok(error instanceof InvalidInputError && !(error instanceof InvalidGgufError), `${error.name}: ${error.message}`);
                assert.match(error.message, /is part 2 of a model split into 2 files: load the first part, split-case-\d+-00001-of-00002\.gguf/);
                return true;
            });
        });
    });

    describe("paths that are not regular files fail at once", () => {
        it("a FIFO (opening it for reading would block until a writer came)", async () => {
            const fifo = join(dir, "fifo.gguf");
            execFileSync("mkfifo", [fifo]);
            await assert.rejects(readGgufFile(fifo), /model path is a FIFO \(named pipe\), not a GGUF file: .*fifo\.gguf/);
        });

        it("a character device", async () => {
            await assert.rejects(validateGgufModel("/dev/zero"), /model path is a character device, not a GGUF file: \/dev\/zero/);
        });

        it("a folder, a missing file and a dangling link", async () => {
            const folder = join(dir, "folder.gguf");
            await mkdir(folder);
            await assert.rejects(validateGgufModel(folder), /model path is a folder, not a GGUF file/);
            await assert.rejects(validateGgufModel(join(dir, "missing.gguf")), /^InvalidInputError: model file not found: .*missing\.gguf$/);
            const link = join(dir, "dangling.gguf");
            await symlink(join(dir, "nowhere.gguf"), link);
            await assert.rejects(validateGgufModel(link), /model file not found: .*dangling\.gguf/);
        });
    });

    it("reads a vocabulary-sized string array without keeping it", async () => {
        const words = Array.from({length: 10_000}, (_, i) => str(`word${i}`));
        const path = await file(rawGguf({entries: [entry.array("tokenizer.ggml.tokens", VALUE.string, words.length, Buffer.concat(words))]}));
        const [info] = (await validateGgufModel(path)).files;
        assert.deepEqual(info!.metadata.get("tokenizer.ggml.tokens"), {type: "array", itemType: "string", length: 10_000, values: null});
    });
});
