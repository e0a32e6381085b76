/**
 * The command line's output is complete or the run fails: through a pipe larger than the pipe's
 * buffer, to a full device, to a reader that goes away. Every case runs the built dist/cli.js on
 * real models.
 */
import {strict as assert} from "node:assert";
import {closeSync, openSync} from "node:fs";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {buildCli, type CliResult, describeRun, runCli, startCli} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");
/** 200 samples of 64 tokens: about 245 KB of JSON, several times a pipe's 64 KiB buffer. */
const LARGE_SOLVE = ["solve", "--model", STORIES, "--threads", "1", "--method", "standard", "--samples", "200", "--max-tokens", "64", "--seed", "1"];
const PROMPT = "Once upon a time";

/** Failed with exit 1 and exactly one line on stderr: "power-sampling: cannot write output to stdout: <why>". */
function assertOutputFailure(result: CliResult): void {
    const context = describeRun(result);
    assert.ok(!result.timedOut, `hung\n${context}`);
    assert.equal(result.signal, null, `killed by a signal\n${context}`);
    assert.equal(result.code, 1, `expected exit 1\n${context}`);
    assert.match(result.stderr, /^power-sampling: cannot write output to stdout: [^\n]+\n$/, `one line on stderr\n${context}`);
}

describe("command-line output: complete or a failure (dist/cli.js)", function () {
    this.timeout(120_000);
    let dir: string;
    let cacheDir: string;
    let fullDevice: number;

    before(async function () {
        this.timeout(180_000);
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "power-sampling-output-"));
        cacheDir = join(dir, "cache");
        fullDevice = openSync("/dev/full", "w");
    });
    after(async () => {
        closeSync(fullDevice);
        if (dir) await rm(dir, {recursive: true, force: true});
    });

    describe("larger than a pipe's buffer", () => {
        it("solve --json: all of it arrives through a pipe, the same JSON as written to a file", async () => {
            const file = join(dir, "large.json");
            const fd = openSync(file, "w");
            const [piped, toFile] = await Promise.all([
                runCli([...LARGE_SOLVE, "--cache-dir", cacheDir, "--json", PROMPT]),
                runCli([...LARGE_SOLVE, "--cache-dir", cacheDir, "--json", PROMPT], {stdoutFd: fd}).finally(() => closeSync(fd))
            ]);
            assert.equal(piped.code, 0, describeRun(piped));
            assert.equal(toFile.code, 0, describeRun(toFile));
            const written = await readFile(file, "utf8");
            assert.ok(written.length > 3 * 65_536, `the file holds ${written.length} bytes, want several pipe buffers`);
            // Same seed, same samples: only the timings in stats differ between the two runs.
            const [fromPipe, fromFile] = [JSON.parse(piped.stdout), JSON.parse(written)];
            assert.equal(fromPipe.samples.length, 200);
            assert.deepEqual(fromPipe.samples, fromFile.samples);
        });

        it("solve, readable text: all 200 samples arrive through a pipe", async () => {
            // About 45 KB: under a pipe's nominal buffer, and still cut before the fix.
            const result = await runCli([...LARGE_SOLVE, "--cache-dir", cacheDir, PROMPT]);
            assert.equal(result.code, 0, describeRun(result));
            assert.equal(result.stdout.match(/^── sample \d+\/200 /gm)?.length, 200, "a heading per sample");
            assert.match(result.stdout.trimEnd().split("\n").at(-1)!, /\bseed 1\b/, "ends with the stats line");
        });
    });

    describe("stdout on a full device (/dev/full): exit 1 and one line saying so", () => {
        const cases: [string, () => string[]][] = [
            ["solve --json", () => ["solve", "--model", STORIES, "--threads", "1", "--cache-dir", cacheDir, "--method", "standard", "--max-tokens", "8", "--json", PROMPT]],
            ["solve, readable", () => ["solve", "--model", STORIES, "--threads", "1", "--cache-dir", cacheDir, "--method", "standard", "--max-tokens", "8", PROMPT]],
            ["demo", () => ["demo", "--samples", "20", "--cache-dir", cacheDir]],
            ["--help", () => ["--help"]]
        ];
        for (const [name, args] of cases) {
            it(name, async () => {
                assertOutputFailure(await runCli(args(), {stdoutFd: fullDevice}));
            });
        }

        it("demo stops at its first failed line rather than running to the end", async () => {
            // Its three sampling runs take seconds; the header is written before the first.
            const result = await runCli(["demo", "--samples", "2000", "--cache-dir", cacheDir], {stdoutFd: fullDevice, env: {POWER_SAMPLING_DEBUG: "1"}});
            assertOutputFailure({...result, stderr: result.stderr.replace(/^power-sampling: debug: [^\n]*\n/gm, "")});
            assert.doesNotMatch(result.stderr, /model loaded/, "stopped before loading the model");
        });
    });

    describe("a reader that closes the pipe early (as `| head -c 100`): exit 1 and one line saying so", () => {
        it("solve --json, 200 samples", async () => {
            const run = startCli([...LARGE_SOLVE, "--cache-dir", cacheDir, "--json", PROMPT]);
            run.child.stdout!.once("data", () => run.child.stdout!.destroy());
            assertOutputFailure(await run.result);
        });

        it("--help, the reader gone before the first write", async () => {
            const run = startCli(["--help"]);
            run.child.stdout!.destroy();
            assertOutputFailure(await run.result);
        });
    });

    describe("stderr, where make-test-model says what it wrote", () => {
        it("make-test-model markov with stderr on a full device exits 1 (the message was lost)", async () => {
            const spec = join(dir, "spec.json");
            await writeFile(spec, JSON.stringify({tokens: ["x"], transitions: {"<s>": {x: 1}, x: {"</s>": 1}}}));
            const result = await runCli(["make-test-model", "markov", spec, join(dir, "x.gguf")], {stderrFd: fullDevice});
            assert.equal(result.code, 1, describeRun(result));
        });

        it("make-test-model markov with stdout on a full device succeeds (it writes nothing there)", async () => {
            const spec = join(dir, "spec.json");
            await writeFile(spec, JSON.stringify({tokens: ["x"], transitions: {"<s>": {x: 1}, x: {"</s>": 1}}}));
            const result = await runCli(["make-test-model", "markov", spec, join(dir, "y.gguf")], {stdoutFd: fullDevice});
            assert.equal(result.code, 0, describeRun(result));
            assert.match(result.stderr, /^wrote /);
        });
    });
});
