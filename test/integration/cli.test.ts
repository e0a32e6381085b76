/**
 * The command line as a user meets it: every test spawns the built dist/cli.js, which loads real
 * GGUF models with the real node-llama-cpp. Runs are kept to about a second each (--threads 1,
 * small --max-tokens); --cache-dir points into a temporary folder so nothing is written to $HOME.
 */
import {strict as assert} from "node:assert";
import {mkdir, mkdtemp, open, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {assertBadInput, buildCli, describeRun, runCli, type CliResult} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

const STORIES = sharedModel("stories260K.gguf");
/** stories260K's trained context (llama.context_length in the GGUF). */
const STORIES_CONTEXT = 2048;
const PROMPT = "Once upon a time";

interface JsonSample {
    text: string;
    tokens: string[];
    finishReason: string;
    logProb: number;
    tokenCount: number;
}

interface JsonResult {
    method: string;
    params: {alpha: number; blockSize: number; mcmcSteps: number; maxTokens: number; samples: number; seed: number};
    samples: JsonSample[];
    stats: {
        proposedTokens: number;
        mcmcSteps: number;
        acceptedSteps: number;
        acceptanceRate: number | null;
        wallMs: number;
        loadMs: number;
        promptTokens: number;
    };
}

function assertOk(result: CliResult): void {
    assert.equal(result.code, 0, `expected exit 0\n${describeRun(result)}`);
}

/** stdout must be exactly one JSON object (and nothing else). */
function parseJson(result: CliResult): JsonResult {
    assertOk(result);
    let parsed: unknown;
    try {
        parsed = JSON.parse(result.stdout);
    } catch (error) {
        assert.fail(`stdout is not one JSON value: ${(error as Error).message}\n${describeRun(result)}`);
    }
    assert.ok(typeof parsed === "object" && parsed !== null && !Array.isArray(parsed), `stdout is not a JSON object\n${describeRun(result)}`);
    return parsed as JsonResult;
}

/** What params holds when no flag sets it. */
const DEFAULTS = {alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, samples: 1, particles: 16, resampleInterval: 16, essThreshold: 0.5,
    alphaRampTokens: 0, mode: "raw"};

function assertKeys(object: object, keys: readonly string[], what: string): void {
    assert.deepEqual(Object.keys(object).sort(), [...keys].sort(), `${what} keys`);
}

/** The documented JSON shape, field by field. */
function assertJsonShape(json: JsonResult): void {
    assertKeys(json, ["method", "params", "samples", "answerIndex", "groups", "stats", ...(json.method === "smc" ? ["smc"] : [])], "top-level");
    assertKeys(json.params, ["alpha", "blockSize", "mcmcSteps", "maxTokens", "samples", "particles", "resampleInterval", "essThreshold",
        "alphaRampTokens", "seed", "mode"], "params");
    assertKeys(json.stats, ["proposedTokens", "mcmcSteps", "acceptedSteps", "acceptanceRate", "resamplings", "wallMs", "loadMs", "queuedMs",
        "promptTokens"], "stats");
    assert.ok(Array.isArray(json.samples), "samples is an array");
    assert.equal(json.samples.length, json.params.samples, "one entry per requested sample");
    for (const [i, s] of json.samples.entries()) {
        const where = `samples[${i}]`;
        assertKeys(s, ["text", "tokens", "finishReason", "logProb", "tokenCount", "finalAnswer", "changedOffsets"], where);
        assert.equal(typeof s.text, "string", `${where}.text`);
        assert.ok(Array.isArray(s.tokens) && s.tokens.every((t) => typeof t === "string"), `${where}.tokens is an array of strings`);
        assert.ok(s.finishReason === "eos" || s.finishReason === "length", `${where}.finishReason is ${s.finishReason}`);
        assert.ok(Number.isFinite(s.logProb) && s.logProb < 0, `${where}.logProb ${s.logProb} is a finite negative number`);
        assert.equal(s.tokenCount, s.tokens.length, `${where}.tokenCount === tokens.length`);
        assert.ok(s.tokenCount <= json.params.maxTokens, `${where}.tokenCount ${s.tokenCount} <= maxTokens`);
        if (s.finishReason === "length") assert.equal(s.tokenCount, json.params.maxTokens, `${where} cut at max tokens has maxTokens tokens`);
    }
    const {stats} = json;
    for (const key of ["proposedTokens", "mcmcSteps", "acceptedSteps", "promptTokens"] as const)
        assert.ok(Number.isInteger(stats[key]) && stats[key] >= 0, `stats.${key} = ${stats[key]} is a count`);
    assert.ok(Number.isFinite(stats.wallMs) && stats.wallMs >= 0, `stats.wallMs = ${stats.wallMs}`);
    assert.ok(Number.isFinite(stats.loadMs) && stats.loadMs > 0, `stats.loadMs = ${stats.loadMs}`);
    assert.ok(stats.acceptedSteps <= stats.mcmcSteps, "acceptedSteps <= mcmcSteps");
    const kept = json.samples.reduce((sum, s) => sum + s.tokenCount, 0);
    assert.ok(stats.proposedTokens >= kept, `proposedTokens ${stats.proposedTokens} >= kept tokens ${kept}`);
}

describe("power-sampling command line (dist/cli.js, real llama.cpp)", function () {
    this.timeout(120_000);
    let dir: string;
    let cacheDir: string;

    /** `solve` on stories260K, one thread, cache in the temp folder. */
    const solveStories = (args: readonly string[], options: {stdin?: string} = {}) =>
        runCli(["solve", "--model", STORIES, "--threads", "1", "--cache-dir", cacheDir, ...args], options);
    const standardArgs = (seed: number) =>
        ["--json", "--method", "standard", "--max-tokens", "24", "--samples", "2", "--seed", String(seed)];

    before(async function () {
        this.timeout(180_000);
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "power-sampling-cli-test-"));
        cacheDir = join(dir, "cache");
    });
    after(async () => {
        if (dir) await rm(dir, {recursive: true, force: true});
    });

    describe("solve --json", () => {
        it("standard sampling on stories260K prints one JSON object of the documented shape", async () => {
            const json = parseJson(await solveStories([...standardArgs(5), PROMPT]));
            assertJsonShape(json);
            assert.equal(json.method, "standard");
            assert.deepEqual(json.params, {...DEFAULTS, maxTokens: 24, samples: 2, seed: 5});
            assert.equal(json.samples.length, 2);
            assert.equal(json.stats.acceptanceRate, null, "no MCMC for standard sampling");
            assert.equal(json.stats.mcmcSteps, 0);
            assert.equal(json.stats.acceptedSteps, 0);
            assert.equal(json.stats.promptTokens, 5, "BOS + 4 tokens for \"Once upon a time\"");
            for (const s of json.samples) assert.ok(s.text.length > 0, "stories260K writes something in 24 tokens");
        });

        it("each sample's tokens (piece strings) join to exactly its text", async () => {
            const json = parseJson(await solveStories([...standardArgs(5), PROMPT]));
            for (const [i, s] of json.samples.entries())
                assert.equal(s.tokens.join(""), s.text, `samples[${i}]: tokens ${JSON.stringify(s.tokens)} do not join to the text`);
        });

        it("the text continues the prompt: prompt + text is what the model wrote (SentencePiece spaces kept)", async () => {
            // Greedy after "Once upon a" is " time, there was ..." for stories260K.
            const json = parseJson(await solveStories(["--json", "--method", "greedy", "--max-tokens", "6", "--seed", "1", "Once upon a"]));
            assert.match(`Once upon a${json.samples[0]!.text}`, /^Once upon a time\b/, `text was ${JSON.stringify(json.samples[0]!.text)}`);
        });

        it("the same seed gives identical samples; another seed gives different text", async () => {
            const [first, again, other] = await Promise.all([5, 5, 6].map(async (seed) => parseJson(await solveStories([...standardArgs(seed), PROMPT]))));
            assert.deepEqual(again!.samples, first!.samples);
            assert.notDeepEqual(other!.samples.map((s) => s.text), first!.samples.map((s) => s.text));
        });

        for (const seed of [5, 11]) {
            it(`power sampling (seed ${seed}): 3 MCMC steps per block run, rates and counts consistent`, async () => {
                const json = parseJson(await solveStories(["--json", "--method", "power", "--alpha", "4", "--block-size", "8",
                    "--mcmc-steps", "3", "--max-tokens", "16", "--seed", String(seed), PROMPT]));
                assertJsonShape(json);
                assert.equal(json.method, "power");
                assert.deepEqual(json.params, {...DEFAULTS, blockSize: 8, mcmcSteps: 3, maxTokens: 16, samples: 1, seed});
                const {stats} = json;
                const sample = json.samples[0]!;
                assert.equal(stats.mcmcSteps % 3, 0, `mcmcSteps ${stats.mcmcSteps} is a multiple of 3`);
                const blocks = stats.mcmcSteps / 3;
                assert.ok(blocks === 1 || blocks === 2, `ran ${blocks} blocks, expected 1 or 2 (16 tokens / block 8)`);
                // Block 1 holds at most 8 tokens (EOS included), so 8 or more kept tokens mean block 2 ran.
                if (sample.tokenCount >= 8) assert.equal(blocks, 2, `${sample.tokenCount} tokens kept but only one block ran`);
                assert.ok(stats.acceptanceRate !== null && stats.acceptanceRate >= 0 && stats.acceptanceRate <= 1,
                    `acceptanceRate ${stats.acceptanceRate} in [0, 1]`);
                assert.ok(Math.abs(stats.acceptanceRate - stats.acceptedSteps / stats.mcmcSteps) < 1e-12, "acceptanceRate = accepted / steps");
                assert.ok(stats.proposedTokens >= sample.tokenCount, "proposedTokens >= kept tokens");
            });
        }
    });

    describe("solve, readable output", () => {
        it("prints the answer text and a stats line with the seed; stderr stays empty off a terminal", async () => {
            const args = ["--method", "standard", "--max-tokens", "24", "--seed", "5"];
            const [readable, jsonRun] = await Promise.all([solveStories([...args, PROMPT]), solveStories([...args, "--json", PROMPT])]);
            assertOk(readable);
            const text = parseJson(jsonRun).samples[0]!.text;
            assert.ok(readable.stdout.includes(text), `answer text ${JSON.stringify(text)} missing\n${describeRun(readable)}`);
            const statsLine = readable.stdout.trimEnd().split("\n").at(-1)!;
            assert.match(statsLine, /\bseed 5\b/, `last line: ${statsLine}`);
            assert.match(statsLine, /standard/);
            assert.match(statsLine, /tokens drawn/);
            assert.throws(() => JSON.parse(readable.stdout), "readable output is not JSON");
            assert.equal(readable.stderr, "", "stderr is not a TTY here: no progress line, nothing else");
        });
    });

    describe("solve, PROMPT forms", () => {
        it('"-" reads the prompt from stdin', async () => {
            const [piped, argument] = await Promise.all([
                solveStories([...standardArgs(5), "-"], {stdin: PROMPT}),
                solveStories([...standardArgs(5), PROMPT])
            ]);
            const fromStdin = parseJson(piped);
            assertJsonShape(fromStdin);
            assert.equal(fromStdin.stats.promptTokens, 5);
            assert.deepEqual(fromStdin.samples, parseJson(argument).samples, "stdin prompt samples like the same prompt given as an argument");
            assert.equal(piped.stderr, "");
        });

        it('"" starts right after BOS on the built-in pivotal-chain model (no --model)', async () => {
            const json = parseJson(await runCli(["solve", "--json", "--samples", "3", "--seed", "1", "--threads", "1", "--cache-dir", cacheDir, ""]));
            assertJsonShape(json);
            assert.equal(json.stats.promptTokens, 1, "BOS only");
            assert.equal(json.samples.length, 3);
            for (const s of json.samples) {
                assert.match(s.text, /^(A|B)/, `built-in chain text ${JSON.stringify(s.text)}`);
                assert.match(s.text, /^(Aa[0-9]|Bb)$/, `a complete path of the pivotal chain: ${JSON.stringify(s.text)}`);
                assert.equal(s.finishReason, "eos");
            }
            assert.deepEqual(await readdir(cacheDir), ["pivotal-chain-v1.gguf"], "the built-in model is written to --cache-dir");
        });
    });

    describe("bad input: exit 2, one line on stderr, nothing on stdout, no hang", () => {
        it("missing model file", async () => {
            const missing = join(dir, "no-such-model.gguf");
            assertBadInput(await solveStories(["--model", missing, PROMPT]), /not found/, missing);
        });

        it("a text file as model", async () => {
            const file = join(dir, "notes.txt");
            await writeFile(file, "this is not a model\n");
            assertBadInput(await solveStories(["--model", file, PROMPT]), /not a GGUF/, file);
        });

        it("a folder as model", async () => {
            const folder = join(dir, "a-folder");
            await mkdir(folder, {recursive: true});
            assertBadInput(await solveStories(["--model", folder, PROMPT]), /folder|director/i, folder);
        });

        it("a truncated GGUF (first 1000 bytes of stories260K)", async () => {
            const file = join(dir, "truncated.gguf");
            const source = await open(STORIES, "r");
            try {
                const head = Buffer.alloc(1000);
                await source.read(head, 0, 1000, 0);
                await writeFile(file, head);
            } finally {
                await source.close();
            }
            assertBadInput(await solveStories(["--model", file, PROMPT]), file);
        });

        const flagCases: [string, string[], ...RegExp[]][] = [
            ["--alpha 0.5", ["--alpha", "0.5"], /alpha/, /0\.5/],
            ["--alpha abc", ["--alpha", "abc"], /alpha/, /abc/],
            ["--block-size 0", ["--block-size", "0"], /block.?size/i, /\b0\b/],
            ["--mcmc-steps -1", ["--mcmc-steps", "-1"], /mcmc.?steps/i, /-1\b/],
            ["--mcmc-steps=-1", ["--mcmc-steps=-1"], /mcmc.?steps/i, /-1\b/],
            ["--max-tokens 0", ["--max-tokens", "0"], /max.?tokens/i, /\b0\b/],
            ["--samples -2", ["--samples", "-2"], /samples/, /-2\b/],
            ["--samples=-2", ["--samples=-2"], /samples/, /-2\b/],
            ["--seed -1", ["--seed", "-1"], /seed/, /-1\b/],
            ["--seed=-1", ["--seed=-1"], /seed/, /-1\b/],
            ["--method beam", ["--method", "beam"], /method/, /beam/],
            ["an unknown flag --bogus", ["--bogus"], /bogus/],
            ["no PROMPT", [], /PROMPT/i],
            ["two PROMPTs", ["one", "two"], /PROMPT/i]
        ];
        for (const [name, args, ...patterns] of flagCases) {
            it(name, async () => {
                // The prompt goes last so that it is a positional; "no PROMPT" and "two PROMPTs" bring their own.
                const prompt = name.includes("PROMPT") ? [] : [PROMPT];
                assertBadInput(await solveStories([...args, ...prompt]), ...patterns);
            });
        }

        it("an unknown command", async () => {
            assertBadInput(await runCli(["frobnicate", "--cache-dir", cacheDir]), /unknown command/i, /frobnicate/);
        });

        it("a prompt longer than the model's context", async () => {
            const long = "the little dog ran ".repeat(600); // ~3600 tokens for stories260K
            assertBadInput(await solveStories(["--method", "standard", "--max-tokens", "4", long]), /context/, String(STORIES_CONTEXT));
        });

        it("prompt + max tokens exceeding the model's context", async () => {
            assertBadInput(await solveStories(["--method", "standard", "--max-tokens", String(STORIES_CONTEXT), PROMPT]),
                /context/, /max.?tokens/i, String(STORIES_CONTEXT));
        });
    });

    describe("bench", () => {
        it("--quick --json writes its model into the cache once and prints every figure (what they are is not tested)", async function () {
            this.timeout(300_000);
            const json = parseJson(await runCli(["bench", "--quick", "--json", "--cache-dir", cacheDir], {timeoutMs: 280_000})) as unknown as BenchJson;
            const positive = (value: number, what: string) => assert.ok(Number.isFinite(value) && value > 0, `${what} = ${value}`);
            assert.equal(json.model, "smollm2-135m");
            positive(json.standard.tokensPerSecondOneChain, "one-chain decode rate");
            positive(json.standard.tokensPerSecondInStep, "in-step decode rate");
            positive(json.power.proposedTokens, "power's proposed tokens");
            positive(json.power.overheadVsIdeal, "overhead vs ideal");
            assert.equal(json.rounds.length, 1);
            assert.equal(json.rounds[0]!.overheadVsIdeal, json.power.overheadVsIdeal);
            positive(json.reference.proposedTokens, "reference's proposed tokens");
            positive(json.reference.speedupWall, "speed-up");
            assert.ok((await readdir(cacheDir)).includes("smollm2-135m-q8_0-seed1.gguf"));
        });
    });

    describe("make-test-model markov", () => {
        const spec = {
            tokens: ["sun", "rain"],
            transitions: {
                "<s>": {sun: 0.5, rain: 0.5},
                sun: {sun: 0.3, rain: 0.3, "</s>": 0.4},
                rain: {rain: 0.2, sun: 0.3, "</s>": 0.5}
            }
        };

        it("writes a GGUF that solve samples from, texts made only of the declared tokens", async () => {
            const specPath = join(dir, "weather.json");
            const out = join(dir, "weather.gguf");
            await writeFile(specPath, JSON.stringify(spec));
            const made = await runCli(["make-test-model", "markov", specPath, out]);
            assertOk(made);
            assert.equal(made.stdout, "");
            assert.match(made.stderr, /wrote/);
            assert.equal((await readFile(out)).subarray(0, 4).toString("latin1"), "GGUF");

            const json = parseJson(await runCli(["solve", "--model", out, "--json", "--method", "standard", "--samples", "20",
                "--seed", "3", "--threads", "1", "--cache-dir", cacheDir, ""]));
            assertJsonShape(json);
            assert.equal(json.samples.length, 20);
            for (const s of json.samples) {
                assert.match(s.text, /^(sun|rain)+$/, `text ${JSON.stringify(s.text)} uses only declared tokens`);
                assert.ok(s.tokens.every((t) => t === "sun" || t === "rain"), `tokens ${JSON.stringify(s.tokens)}`);
                assert.equal(s.tokens.join(""), s.text);
                assert.equal(s.finishReason, "eos");
            }
            const firsts = new Set(json.samples.map((s) => s.tokens[0]));
            assert.deepEqual([...firsts].sort(), ["rain", "sun"], "both first tokens (p 0.5 each) appear in 20 samples");
        });

        it("an invalid spec (a row summing to 0.9) exits 2 naming the row, and writes nothing", async () => {
            const specPath = join(dir, "bad-row.json");
            const out = join(dir, "bad-row.gguf");
            await writeFile(specPath, JSON.stringify({...spec, transitions: {...spec.transitions, sun: {sun: 0.3, rain: 0.3, "</s>": 0.3}}}));
            assertBadInput(await runCli(["make-test-model", "markov", specPath, out]), /sun/, /0\.9/);
            await assert.rejects(stat(out), "no output file for an invalid spec");
        });

        it("a missing spec file exits 2", async () => {
            const specPath = join(dir, "no-such-spec.json");
            assertBadInput(await runCli(["make-test-model", "markov", specPath, join(dir, "never.gguf")]), specPath);
        });

        it("a spec that is not JSON exits 2", async () => {
            const specPath = join(dir, "broken.json");
            await writeFile(specPath, "{tokens: [");
            assertBadInput(await runCli(["make-test-model", "markov", specPath, join(dir, "never.gguf")]), specPath);
        });
    });

    describe("--help", () => {
        it("exits 0 and prints the usage", async () => {
            const result = await runCli(["--help"]);
            assertOk(result);
            assert.match(result.stdout, /^usage:/);
            assert.match(result.stdout, /power-sampling solve \[options\] PROMPT/);
            for (const flag of ["--model", "--method", "--alpha", "--block-size", "--mcmc-steps", "--max-tokens", "--samples", "--seed", "--threads", "--json", "--cache-dir"])
                assert.ok(result.stdout.includes(flag), `usage mentions ${flag}`);
            assert.match(result.stdout, /make-test-model markov SPEC\.json OUT\.gguf/);
            assert.equal(result.stderr, "");
        });
    });
});

interface BenchJson {
    model: string;
    standard: {tokensPerSecondOneChain: number; tokensPerSecondInStep: number};
    power: {proposedTokens: number; overheadVsIdeal: number};
    rounds: {overheadVsIdeal: number}[];
    reference: {proposedTokens: number; speedupWall: number};
}
