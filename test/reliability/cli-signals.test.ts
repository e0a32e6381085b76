/**
 * Ctrl-C and SIGTERM at each stage of a real run (dist/cli.js on stories260K): one line
 * "power-sampling: interrupted", the model freed, exit 130 (SIGTERM: 143); a second Ctrl-C exits
 * at once. POWER_SAMPLING_DEBUG=1 makes the CLI name each stage on stderr, so the signal is sent
 * when the stage has begun rather than after a guessed delay.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {buildCli, type CliProcess, type CliResult, describeRun, makePipe, startCli} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");
const PROMPT = "Once upon a time";
/** Power sampling with many long chains: it runs far longer than any test waits. */
const LONG_SOLVE = ["--method", "power", "--samples", "64", "--max-tokens", "1000", "--block-size", "50", "--mcmc-steps", "20", "--seed", "1"];
const DEBUG = {POWER_SAMPLING_DEBUG: "1"};

/** stderr without the debug stage lines. */
function reportLines(result: CliResult): string[] {
    return result.stderr.split("\n").filter((line) => line !== "" && !line.startsWith("power-sampling: debug: "));
}

/** Ended by its own exit (not killed by the signal) with the signal's code and one line saying so. */
function assertInterrupted(result: CliResult, signal: "SIGINT" | "SIGTERM"): void {
    const context = describeRun(result);
    assert.ok(!result.timedOut, `hung\n${context}`);
    assert.equal(result.signal, null, `killed by ${result.signal}: the CLI's handler did not run\n${context}`);
    assert.equal(result.code, signal === "SIGINT" ? 130 : 143, context);
    assert.deepEqual(reportLines(result), [signal === "SIGINT" ? "power-sampling: interrupted" : "power-sampling: interrupted (SIGTERM)"], context);
}

/** The model (or the llama.cpp instance alone) was freed before the run reported its end. */
function assertFreedFirst(result: CliResult): void {
    const freed = result.stderr.indexOf("power-sampling: debug: model freed");
    assert.ok(freed >= 0 && freed < result.stderr.indexOf("power-sampling: interrupted"), `not freed before the end\n${describeRun(result)}`);
}

describe("command-line signals at each stage (dist/cli.js, stories260K)", function () {
    this.timeout(120_000);
    let dir: string;
    const solve = (args: readonly string[], options: {keepStdinOpen?: boolean} = {}): CliProcess =>
        startCli(["solve", "--model", STORIES, "--threads", "1", "--cache-dir", join(dir, "cache"), ...args], {env: DEBUG, ...options});

    before(async function () {
        this.timeout(180_000);
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "power-sampling-signals-"));
    });
    after(async () => {
        if (dir) await rm(dir, {recursive: true, force: true});
    });

    it("Ctrl-C while llama.cpp loads, before the model: interrupted, nothing loaded", async () => {
        const run = solve([...LONG_SOLVE, PROMPT]);
        await run.waitForStderr(/debug: loading llama\.cpp/);
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        assert.doesNotMatch(result.stderr, /model loaded/, "stopped before loading the model");
        assertFreedFirst(result);
    });

    it("Ctrl-C as the model starts loading", async () => {
        const run = solve([...LONG_SOLVE, PROMPT]);
        await run.waitForStderr(/debug: loading model /);
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        assertFreedFirst(result);
        assert.equal(result.stdout, "");
    });

    it("Ctrl-C while sampling: the model is freed, nothing on stdout", async () => {
        const run = solve(["--json", ...LONG_SOLVE, PROMPT]);
        await run.waitForStderr(/debug: model loaded/);
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        assertFreedFirst(result);
        assert.equal(result.stdout, "", "no partial result");
    });

    it("SIGTERM while sampling: the same, exit 143", async () => {
        const run = solve(["--json", ...LONG_SOLVE, PROMPT]);
        await run.waitForStderr(/debug: model loaded/);
        run.child.kill("SIGTERM");
        const result = await run.result;
        assertInterrupted(result, "SIGTERM");
        assertFreedFirst(result);
    });

    it("Ctrl-C while the output waits for a reader that has stopped reading", async () => {
        // About 245 KB of JSON into a pipe nobody reads: the write waits once the pipe is full.
        const pipe = makePipe(dir, "unread-stdout");
        try {
            const run = startCli(["solve", "--model", STORIES, "--threads", "1", "--cache-dir", join(dir, "cache"), "--json", "--method", "standard",
                "--samples", "200", "--max-tokens", "64", "--seed", "1", PROMPT], {env: DEBUG, stdoutFd: pipe.writeFd});
            await run.waitForStderr(/debug: waiting for stdout to take \d+ more bytes/);
            run.child.kill("SIGINT");
            const result = await run.result;
            assertInterrupted(result, "SIGINT");
            assertFreedFirst(result);
        } finally {
            pipe.close();
        }
    });

    it("Ctrl-C while reading the prompt from stdin", async () => {
        const run = solve(["-"], {keepStdinOpen: true});
        await run.waitForStderr(/debug: reading the prompt from stdin/);
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        run.child.stdin!.destroy();
    });

    it("a second Ctrl-C exits at once, without waiting for the first one's cleanup", async () => {
        // The first waits for llama.cpp to finish loading (a second or more); the second does not.
        const run = solve([...LONG_SOLVE, PROMPT]);
        await run.waitForStderr(/debug: loading llama\.cpp/);
        run.child.kill("SIGINT");
        await new Promise((resolve) => setTimeout(resolve, 20));
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        assert.doesNotMatch(result.stderr, /model freed/, `the second signal waited for cleanup\n${describeRun(result)}`);
    });

    it("demo: Ctrl-C while sampling", async () => {
        const run = startCli(["demo", "--samples", "300", "--cache-dir", join(dir, "cache")], {env: DEBUG});
        await run.waitForStderr(/debug: model loaded/);
        run.child.kill("SIGINT");
        const result = await run.result;
        assertInterrupted(result, "SIGINT");
        assertFreedFirst(result);
    });
});
