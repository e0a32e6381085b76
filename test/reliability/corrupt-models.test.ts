/**
 * Corrupt models, through the processes users run: every broken GGUF gets one line saying
 * "model is corrupt: ..." and the process that was asked to load it lives. Before the validator,
 * a split model whose parts repeat a tensor, or whose split.count is not uint16, made llama.cpp
 * abort (SIGABRT) and took the backend down with its queued jobs; a FIFO as the model hung.
 */
import {strict as assert} from "node:assert";
import {execFileSync} from "node:child_process";
import {mkdtemp, rm, truncate} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {ResponseError} from "vscode-jsonrpc/node";
import {ERROR_CODES, LOAD_MODEL_REQUEST, type LoadModelResult} from "../../src/protocol/backend.js";
import {markovModelFile, PIVOTAL_CHAIN, writeMarkovModel} from "../../src/testmodels/markov.js";
import {Backend} from "../support/backend.js";
import {buildCli, type CliResult, describeRun, runCli} from "../support/cli.js";
import {CORRUPT_GGUFS, withKey, writeSplit} from "../support/corrupt-ggufs.js";

/** Exit 2 with one "power-sampling: ..." line matching `patterns`, not killed by a signal, quick. */
function assertRefused(result: CliResult, ...patterns: RegExp[]): void {
    const context = describeRun(result);
    assert.equal(result.signal, null, `killed by ${result.signal}\n${context}`);
    assert.equal(result.code, 2, `expected exit 2\n${context}`);
    assert.match(result.stderr, /^power-sampling: [^\n]+\n$/, `stderr must be one line\n${context}`);
    for (const pattern of patterns) assert.match(result.stderr, pattern, context);
    assert.ok(result.ms < 15_000, `took ${Math.round(result.ms)} ms`);
}

describe("corrupt models: one clear error, and the loading process lives", function () {
    this.timeout(120_000);
    let dir: string;
    let good: string;
    /** The pivotal chain split 5 + 7 as gguf-split would, the second part repeating a tensor of the first. */
    let repeated: string;
    /** The same split with split.count written as uint32. */
    let wrongCountType: string;
    let truncated: string;

    before(async () => {
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "corrupt-models-"));
        good = join(dir, "pivotal.gguf");
        await writeMarkovModel(PIVOTAL_CHAIN, good);
        const model = markovModelFile(PIVOTAL_CHAIN);
        repeated = await writeSplit(join(dir, "repeated"), model, [5, 7], (parts) => {
            parts[1] = {...parts[1]!, tensors: [...parts[1]!.tensors, parts[0]!.tensors[3]!]};
        });
        wrongCountType = await writeSplit(join(dir, "count-u32"), model, [5, 7], (parts) => {
            parts[0] = withKey(parts[0]!, "split.count", {key: "split.count", type: "uint32", value: 2});
        });
        truncated = join(dir, "truncated.gguf");
        await writeMarkovModel(PIVOTAL_CHAIN, truncated);
        await truncate(truncated, 400_000);
    });

    after(async () => {
        await rm(dir, {recursive: true, force: true});
    });

    describe("the command line", () => {
        const solve = (model: string) => runCli(["solve", "--model", model, "--threads", "1", "--max-tokens", "4", "A"], {timeoutMs: 30_000});

        it("a split model whose parts repeat a tensor: exit 2, not SIGABRT", async () => {
            assertRefused(await solve(repeated), /model is corrupt: .*repeated-00002-of-00002\.gguf: tensor "blk\.0\.attn_norm\.weight" appears in part 1 and again in part 2 of 2/);
        });

        it("a split model whose split.count is uint32: exit 2, not SIGABRT", async () => {
            assertRefused(await solve(wrongCountType), /model is corrupt: .*split\.count is uint32/);
        });

        it("a model cut short", async () => {
            assertRefused(await solve(truncated), /model is corrupt: .*truncated\.gguf: the file is cut short: tensor "[^"]+" needs bytes \d+ to \d+, the file has 400000 bytes/);
        });

        it("a FIFO as the model: refused at once instead of waiting for a writer", async () => {
            const fifo = join(dir, "model.fifo");
            execFileSync("mkfifo", [fifo]);
            assertRefused(await solve(fifo), /model path is a FIFO \(named pipe\), not a GGUF file: .*model\.fifo/);
        });
    });

    describe("the backend", () => {
        let backend: Backend;

        before(async () => {
            backend = await Backend.start({cacheDir: join(dir, "cache")});
        });

        after(async () => {
            await backend?.stop();
        });

        const load = (model: string): Promise<LoadModelResult> => backend.connection.sendRequest(LOAD_MODEL_REQUEST, {model});

        it("answers each corrupt model with \"model is corrupt: ...\" and keeps serving", async () => {
            const cases: [string, string, readonly RegExp[]][] = [
                ["the pivotal chain split with a repeated tensor", repeated, [/appears in part 1 and again in part 2/]],
                ["the pivotal chain split with split.count uint32", wrongCountType, [/split\.count is uint32/]],
                ["the pivotal chain cut short", truncated, [/cut short/]],
            ];
            for (const [i, corrupt] of CORRUPT_GGUFS.entries()) cases.push([corrupt.what, await corrupt.write(dir, `corrupt-${i}`), corrupt.says]);
            for (const [what, model, says] of cases) {
                const error = await load(model).then(() => assert.fail(`${what}: loaded`), (e: unknown) => e);
                assert.ok(error instanceof ResponseError, `${what}: ${String(error)}`);
                assert.equal(error.code, ERROR_CODES.modelUnavailable, `${what}: ${error.message}`);
                assert.match(error.message, /^model is corrupt: /, what);
                assert.ok(!error.message.includes("\n"), `${what}: not one line`);
                for (const pattern of says) assert.match(error.message, pattern, what);
                assert.equal(backend.process.exitCode, null, `the backend died on ${what}`);
            }
            const loaded = await load(good);
            assert.equal(loaded.model, good);
            assert.equal(backend.process.exitCode, null);
            assert.equal(backend.process.signalCode, null);
        });
    });
});
