/**
 * Bad flags and values for every command: each is refused with exit 2 and one line on stderr
 * that names what is wrong, before any model loads or any long run starts. (Solve's sampling
 * parameters and model files are covered in test/integration/cli.test.ts.)
 */
import {mkdtemp, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {assertBadInput, buildCli, runCli} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");

describe("bad flags and values for every command: exit 2, one line (dist/cli.js)", function () {
    this.timeout(120_000);
    let dir: string;

    before(async function () {
        this.timeout(180_000);
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "power-sampling-bad-input-"));
        await writeFile(join(dir, "a-file"), "not a folder\n");
        await writeFile(join(dir, "spec.json"), JSON.stringify({tokens: ["x"], transitions: {"<s>": {x: 1}, x: {"</s>": 1}}}));
    });
    after(async () => {
        if (dir) await rm(dir, {recursive: true, force: true});
    });

    /** [name, argv (the temp folder is `dir`), patterns the one line must match] */
    const cases: [string, (dir: string) => string[], ...RegExp[]][] = [
        ["solve --threads 0", () => ["solve", "--model", STORIES, "--threads", "0", "x"], /--threads/, /\b0\b/],
        ["solve --threads 1.5", () => ["solve", "--model", STORIES, "--threads", "1.5", "x"], /--threads/, /1\.5/],
        ["solve --threads two", () => ["solve", "--model", STORIES, "--threads", "two", "x"], /--threads/, /two/],
        ["solve --max-tokens 1.5", () => ["solve", "--model", STORIES, "--max-tokens", "1.5", "x"], /--max-tokens/, /1\.5/],
        ["solve --samples 0", () => ["solve", "--model", STORIES, "--samples", "0", "x"], /--samples/],
        ["solve --seed 1.5", () => ["solve", "--model", STORIES, "--seed", "1.5", "x"], /--seed/],
        ["solve --seed 2^32", () => ["solve", "--model", STORIES, "--seed", "4294967296", "x"], /--seed/, /4294967296/],
        ["solve --alpha Infinity", () => ["solve", "--model", STORIES, "--alpha", "Infinity", "x"], /--alpha/, /Infinity/],
        ["solve --alpha NaN", () => ["solve", "--model", STORIES, "--alpha", "NaN", "x"], /--alpha/, /NaN/],
        ["solve --block-size 1e400", () => ["solve", "--model", STORIES, "--block-size", "1e400", "x"], /--block-size/],
        ["solve --method with no value", () => ["solve", "--model", STORIES, "x", "--method"], /--method/],
        ["solve --method \"\"", () => ["solve", "--model", STORIES, "--method", "", "x"], /--method/],
        ["solve --json=yes (a switch given a value)", () => ["solve", "--model", STORIES, "--json=yes", "x"], /--json/],
        ["solve -x (an unknown short flag)", () => ["solve", "--model", STORIES, "-x", "x"], /-x/],
        ["solve --model \"\"", () => ["solve", "--model", "", "x"], /--model is empty/],
        ["solve --cache-dir naming a file", (d) => ["solve", "--cache-dir", join(d, "a-file"), ""], /--cache-dir/, /not a folder/],
        ["solve --cache-dir under a file", (d) => ["solve", "--cache-dir", join(d, "a-file", "cache"), ""], /--cache-dir/, /is a file/],
        ["demo --bogus", () => ["demo", "--bogus"], /--bogus/],
        ["demo --samples abc", () => ["demo", "--samples", "abc"], /--samples/, /abc/],
        ["demo --samples 0", () => ["demo", "--samples", "0"], /--samples/, /\b0\b/],
        ["demo --samples 2.5", () => ["demo", "--samples", "2.5"], /--samples/, /2\.5/],
        ["demo --seed -1", () => ["demo", "--seed", "-1"], /--seed/, /-1\b/],
        ["demo with a stray argument", () => ["demo", "extra"], /demo takes no arguments/, /extra/],
        ["demo --cache-dir naming a file", (d) => ["demo", "--cache-dir", join(d, "a-file")], /--cache-dir/, /not a folder/],
        ["bench --bogus", () => ["bench", "--bogus"], /--bogus/],
        ["bench --threads 0", () => ["bench", "--threads", "0"], /--threads/],
        ["bench --quick=no (a switch given a value)", () => ["bench", "--quick=no"], /--quick/],
        ["bench with a stray argument", () => ["bench", "quick"], /bench takes no arguments/, /quick/],
        ["bench --cache-dir naming a file", (d) => ["bench", "--cache-dir", join(d, "a-file")], /--cache-dir/, /not a folder/],
        ["make-test-model with no arguments", () => ["make-test-model"], /make-test-model takes/],
        ["make-test-model with four arguments", (d) => ["make-test-model", "markov", join(d, "spec.json"), join(d, "o.gguf"), "extra"], /make-test-model takes/],
        ["make-test-model with an unknown kind", (d) => ["make-test-model", "lstm", join(d, "spec.json"), join(d, "o.gguf")], /unknown kind "lstm"/],
        ["make-test-model shape with an unknown shape", (d) => ["make-test-model", "shape", "gpt-5", join(d, "o.gguf")], /unknown shape "gpt-5"/, /smollm2-135m/],
        ["make-test-model shape --seed abc", (d) => ["make-test-model", "shape", "smollm2-135m", join(d, "o.gguf"), "--seed", "abc"], /--seed/, /abc/],
        ["make-test-model shape into a missing folder", (d) => ["make-test-model", "shape", "smollm2-135m", join(d, "missing", "o.gguf")], /cannot write/, /folder does not exist/],
        ["make-test-model markov --bogus", (d) => ["make-test-model", "markov", join(d, "spec.json"), join(d, "o.gguf"), "--bogus"], /--bogus/],
        ["serve without --stdio", () => ["serve"], /--stdio/],
        ["serve --stdio --threads 0", () => ["serve", "--stdio", "--threads", "0"], /--threads/],
        ["serve --stdio --bogus", () => ["serve", "--stdio", "--bogus"], /--bogus/],
        ["serve --stdio with a stray argument", () => ["serve", "--stdio", "extra"], /serve takes no arguments/],
        ["serve --stdio --cache-dir naming a file", (d) => ["serve", "--stdio", "--cache-dir", join(d, "a-file")], /--cache-dir/, /not a folder/],
        ["an unknown command that looks like a flag", () => ["--version"], /unknown command "--version"/]
    ];
    for (const [name, args, ...patterns] of cases) {
        it(name, async () => {
            assertBadInput(await runCli(args(dir), {timeoutMs: 30_000}), ...patterns);
        });
    }
});
