/**
 * `power-sampling eval` as a user runs it (dist/cli.js, real llama.cpp): a smoke run on
 * stories260K over the shared MATH500, GSM8K and HumanEval copies; a run killed mid-way and
 * resumed gives exactly the uninterrupted run's samples; bad input gets one line and exit 2.
 */
import {strict as assert} from "node:assert";
import {spawn} from "node:child_process";
import {mkdtemp, readFile, rm, stat} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import type {SampleRecord} from "../../src/eval/records.js";
import type {EvalSummary} from "../../src/eval/summary.js";
import {buildCli, CLI_PATH, describeRun, REPO_ROOT, runCli} from "../support/cli.js";
import {SHARED_DIR, sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");
const MATH500 = path.join(SHARED_DIR, "datasets", "MATH500.json");

describe("power-sampling eval", function () {
    this.timeout(180_000);
    let folder: string;
    before(async () => {
        await buildCli();
        folder = await mkdtemp(path.join(tmpdir(), "eval-cli-"));
    });
    after(() => rm(folder, {recursive: true, force: true}));

    const evalArgs = (out: string, ...args: string[]) => ["eval", "--model", STORIES, "--out", path.join(folder, out), "--threads", "1",
        "--cache-dir", path.join(folder, "cache"), ...args];
    const results = async (out: string) => (await readFile(path.join(folder, out, "results.jsonl"), "utf8")).trim().split("\n")
        .map((line) => JSON.parse(line) as SampleRecord);
    /** The samples drawn, without the times they took, in a canonical order. */
    const drawn = async (out: string) => (await results(out)).map(({wallMs: _, ...rest}) => JSON.stringify(rest)).sort();

    it("smoke: every method on MATH500 with stories260K writes the three files and prints summary.json", async () => {
        const run = await runCli(evalArgs("smoke", "--dataset", MATH500, "--limit", "2", "--samples", "2", "--max-tokens", "16", "--block-size", "8",
            "--mcmc-steps", "2", "--particles", "4", "--methods", "power,smc,low-temperature,standard", "--seed", "3", "--json"));
        assert.equal(run.code, 0, describeRun(run));
        const summary = JSON.parse(run.stdout) as EvalSummary;
        assert.deepEqual(JSON.parse(await readFile(path.join(folder, "smoke", "summary.json"), "utf8")), summary);
        assert.equal(summary.dataset, MATH500);
        assert.equal(summary.problems, 2);
        assert.deepEqual(Object.keys(summary.methods), ["power", "smc", "low-temperature", "standard"]);
        for (const [method, figures] of Object.entries(summary.methods)) {
            assert.deepEqual(Object.keys(figures!.passAtK), ["1", "2"], method);
            for (const field of ["accuracy", "majorityAccuracy", "tokensPerProblem", "wallMsPerProblem"] as const)
                assert.ok(Number.isFinite(figures![field]), `${method}.${field}`);
            assert.ok(figures!.tokensPerProblem >= 2 * 1, `${method} drew tokens`);
        }
        assert.ok(summary.methods.smc!.weightVoteAccuracy !== undefined);
        assert.equal(summary.methods.standard!.costVsStandard!.tokens, 1);
        const lines = await results("smoke");
        assert.equal(lines.length, 2 * 2 * 4);
        assert.ok(lines.every((line) => line.text.length > 0 && line.tokens > 0 && line.seed >= 0));
        assert.ok(lines.filter((line) => line.method === "smc").every((line) => line.particles!.length >= 1));
        const report = await readFile(path.join(folder, "smoke", "report.html"), "utf8");
        assert.equal(report.match(/<svg /g)?.length, 3);
    });

    it("prints a readable table without --json", async () => {
        const run = await runCli(evalArgs("table", "--dataset", path.join(SHARED_DIR, "datasets", "gsm8k-test.jsonl"), "--limit", "1",
            "--max-tokens", "8", "--methods", "standard,greedy"));
        assert.equal(run.code, 0, describeRun(run));
        const lines = run.stdout.trimEnd().split("\n");
        assert.match(lines[0]!, /gsm8k-test\.jsonl: 1 problems, 1 sample each, model .*stories260K\.gguf, seed \d+/);
        assert.match(lines[1]!, /^method\s+accuracy\s+95 % interval\s+pass@1\s+majority/);
        assert.match(lines[2]!, /^standard\s+\d+\.\d %/);
        assert.match(lines[3]!, /^greedy\s+/);
        assert.match(lines.at(-1)!, /^files: .*results\.jsonl, .*summary\.json, .*report\.html$/);
    });

    it("HumanEval: warns that generated code runs, and grades in the sandbox", async () => {
        const run = await runCli(evalArgs("humaneval", "--dataset", path.join(SHARED_DIR, "datasets", "HumanEval.jsonl.gz"), "--limit", "1",
            "--max-tokens", "8", "--methods", "standard", "--json"));
        assert.equal(run.code, 0, describeRun(run));
        assert.match(run.stderr, /power-sampling: warning: Generated code runs on this machine with python3\. It /);
        const [line] = await results("humaneval");
        assert.equal(line!.problem, "HumanEval/0");
        assert.ok(line!.outcome !== undefined && line!.outcome !== "passed", `stories260K does not write Python: ${line!.outcome}`);
    });

    it("a run killed mid-way resumes to exactly the uninterrupted run's samples, with the same seeds", async () => {
        const args = ["--dataset", MATH500, "--limit", "8", "--samples", "2", "--max-tokens", "32", "--block-size", "16", "--mcmc-steps", "2",
            "--methods", "standard,power", "--seed", "9", "--parallel", "2"];
        const whole = await runCli(evalArgs("whole", ...args));
        assert.equal(whole.code, 0, describeRun(whole));
        const killedAfter = await killOnceWritten(evalArgs("resumed", ...args), path.join(folder, "resumed", "results.jsonl"), 4);
        assert.ok(killedAfter.lines >= 4 && killedAfter.lines < 8 * 2 * 2, `killed after ${killedAfter.lines} lines`);
        assert.equal(killedAfter.signal, "SIGKILL");
        const resumed = await runCli(evalArgs("resumed", ...args.filter((arg, i) => arg !== "--seed" && args[i - 1] !== "--seed")));
        assert.equal(resumed.code, 0, describeRun(resumed));
        assert.match(resumed.stdout, /seed 9 \(\d+ of 16 method runs resumed/);
        assert.deepEqual(await drawn("resumed"), await drawn("whole"));
    });

    it("refuses to resume a folder with other sampling settings", async () => {
        const run = await runCli(evalArgs("whole", "--dataset", MATH500, "--limit", "8", "--samples", "2", "--max-tokens", "24",
            "--block-size", "16", "--mcmc-steps", "2", "--methods", "standard,power"));
        assert.equal(run.code, 2, describeRun(run));
        assert.match(run.stderr, /^power-sampling: .*whole holds a run with the sampling options maxTokens 32, not maxTokens 24: resume it with the same settings, or use another --out folder\n$/);
    });

    const badInput: [string, string[], RegExp][] = [
        ["a named dataset not in the cache folder", ["--dataset", "math500"], /dataset math500 is not in .*cache\/datasets: get it once with "curl -L --create-dirs -o .*MATH500\.json https:\/\/raw\.githubusercontent\.com\/aakaran\/reasoning-with-sampling\//],
        ["an unknown method", ["--dataset", MATH500, "--methods", "power,beam"], /--methods: "beam" is not one of power, smc, low-temperature, standard, greedy/],
        ["a method twice", ["--dataset", MATH500, "--methods", "power,power"], /--methods names power twice/],
        ["no dataset", [], /eval needs --dataset/],
        ["chat mode without a chat template", ["--dataset", MATH500, "--mode", "chat", "--limit", "1"], /the model has no chat template: use --mode raw/],
        ["a prompt mode eval does not take", ["--dataset", MATH500, "--mode", "math"], /--mode must be raw or chat for eval/],
        ["a limit of 0", ["--dataset", MATH500, "--limit", "0"], /--limit must be an integer >= 1, got 0/],
        ["bad sampling options", ["--dataset", MATH500, "--alpha", "0.5"], /--alpha must be a number in 1\.\.64, got 0\.5/],
        ["too many tokens for the context", ["--dataset", MATH500, "--max-tokens", "4000", "--limit", "1"], /problem test\/precalculus\/807\.json: prompt \(\d+ tokens\) \+ max tokens \(4000\) exceed the model's context of 2048 tokens/],
        ["a dataset that is not one", ["--dataset", STORIES], /stories260K\.gguf: neither a JSON array nor JSON lines/],
        ["a stray argument", ["--dataset", MATH500, "extra"], /eval takes no arguments, got "extra"/]
    ];
    for (const [what, args, message] of badInput) {
        it(`refuses ${what} with one line and exit 2`, async () => {
            const run = await runCli(evalArgs(`bad-${what.replace(/\W+/g, "-")}`, ...args));
            assert.equal(run.code, 2, describeRun(run));
            assert.match(run.stderr, new RegExp(`^power-sampling: ${message.source}.*\\n$`));
            assert.equal(run.stdout, "");
        });
    }

    it("refuses an --out that is a file", async () => {
        const run = await runCli(["eval", "--model", STORIES, "--dataset", MATH500, "--limit", "1", "--out", path.join(MATH500, "out")]);
        assert.equal(run.code, 2, describeRun(run));
        assert.match(run.stderr, /cannot use --out .*MATH500\.json\/out: it, or a folder on its path, is a file/);
    });
});

/** Starts the command and kills it (SIGKILL) once `file` holds at least `lines` lines. */
function killOnceWritten(args: readonly string[], file: string, lines: number): Promise<{lines: number; signal: NodeJS.Signals | null}> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [CLI_PATH, ...args], {cwd: REPO_ROOT, stdio: "ignore"});
        const count = async () => (await readFile(file, "utf8").catch(() => "")).split("\n").length - 1;
        const timer = setInterval(() => {
            void stat(file).then(async () => {
                if (await count() >= lines) child.kill("SIGKILL");
            }, () => undefined);
        }, 10);
        child.on("error", reject);
        child.on("exit", async (_code, signal) => {
            clearInterval(timer);
            resolve({lines: await count(), signal});
        });
    });
}
