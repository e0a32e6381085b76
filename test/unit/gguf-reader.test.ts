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
import {writeGguf} from "../../src/gguf/writer.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import {CORRUPT_GGUFS, smallModel, writeSplit} from "../support/corrupt-ggufs.js";
import {entry, i32, rawGguf, str, VALUE} from "../support/raw-gguf.js";
import {sharedModel} from "../support/shared.js";

function escape(text: string): string {
    return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
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

    async function file(bytes: Buffer): Promise<string> {
        const path = join(dir, `case-${n++}.gguf`);
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
            const model = await validateGgufModel(await writeSplit(join(dir, "split"), smallModel(), [2, 3, 1]));
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
        for (const [i, corrupt] of CORRUPT_GGUFS.entries()) {
            it(corrupt.what, async () => {
                const path = await corrupt.write(dir, `corrupt-${i}`);
                await assertCorrupt(path, ...corrupt.says, new RegExp(`^model is corrupt: ${escape(dir)}/corrupt-${i}[.-]`));
            });
        }

        it("a later part of a split model given as the model: says which file to load", async () => {
            const first = await writeSplit(join(dir, "later-part"), smallModel(), [3, 3]);
            const second = first.replace("-00001-of-", "-00002-of-");
            await assert.rejects(validateGgufModel(second), (error: Error) => {
                assert.ok(error instanceof InvalidInputError && !(error instanceof InvalidGgufError), `${error.name}: ${error.message}`);
                assert.equal(error.message, `${second} is part 2 of a model split into 2 files: load the first part, later-part-00001-of-00002.gguf`);
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
