/**
 * `power-sampling eval --server URL --server URL`: an evaluation spread over two llama-servers,
 * graded against exact numbers. The model answers \boxed{42} with p 0.7 and \boxed{40} with 0.3,
 * so standard decoding is right 70 % of the time and p^4 (power) 0.7^4 / (0.7^4 + 0.3^4) = 96.7 %.
 */
import {strict as assert} from "node:assert";
import {writeFile} from "node:fs/promises";
import type {EvalSummary} from "../../src/eval/summary.js";
import {parseMarkovSpec} from "../../src/testmodels/markov.js";
import {assertBadInput, buildCli, describeRun, runCli} from "../support/cli.js";
import {type LlamaServerProcess, RemoteFixture} from "../support/llama-server.js";

const RIGHT = 0.7;
const ALPHA = 4;
const EXPECTED = {standard: RIGHT, power: RIGHT ** ALPHA / (RIGHT ** ALPHA + (1 - RIGHT) ** ALPHA)};
const PROBLEMS = 2;
const SAMPLES = 80;

describe("eval on llama-servers", function () {
    this.timeout(300_000);
    const fixture = new RemoteFixture();
    let servers: LlamaServerProcess[];
    let dataset: string;

    before(async () => {
        await fixture.open();
        await buildCli();
        const model = await fixture.markovModel("answers", parseMarkovSpec({
            tokens: ["The answer is ", "\\boxed{42}", "\\boxed{40}"],
            transitions: {
                "<s>": {"The answer is ": 1}, "*": {"The answer is ": 1},
                "The answer is ": {"\\boxed{42}": RIGHT, "\\boxed{40}": 1 - RIGHT},
                "\\boxed{42}": {"</s>": 1}, "\\boxed{40}": {"</s>": 1}
            }
        }));
        servers = [await fixture.server({model, slots: 4}), await fixture.server({model, slots: 4})];
        dataset = fixture.file("problems.jsonl");
        await writeFile(dataset, Array.from({length: PROBLEMS}, (_, i) => JSON.stringify({id: `p${i}`, prompt: `Problem ${i}.`, answer: "42"})).join("\n"));
    });
    after(() => fixture.close());

    it("runs on two servers; each method's accuracy is within binomial noise of its exact value", async () => {
        const run = await runCli(["eval", "--dataset", dataset, "--server", servers[0]!.url, "--server", servers[1]!.url, "--methods", "standard,power",
            "--samples", String(SAMPLES), "--alpha", String(ALPHA), "--max-tokens", "4", "--block-size", "2", "--mcmc-steps", "2", "--seed", "5",
            "--out", fixture.file("out"), "--json"], {timeoutMs: 280_000});
        assert.equal(run.code, 0, describeRun(run));
        const summary = JSON.parse(run.stdout) as EvalSummary;
        assert.match(summary.model, new RegExp(`on ${servers[0]!.url}, ${servers[1]!.url}$`));
        // Four standard deviations of a mean of 160 draws: each fails by chance about once in 16,000 runs.
        const bound = (exact: number) => 4 * Math.sqrt(exact * (1 - exact) / (PROBLEMS * SAMPLES));
        for (const method of ["standard", "power"] as const) {
            const exact = EXPECTED[method];
            const accuracy = summary.methods[method]!.accuracy;
            assert.ok(Math.abs(accuracy - exact) <= bound(exact), `${method}: accuracy ${accuracy}, exact ${exact.toFixed(3)} ± ${bound(exact).toFixed(3)}`);
        }
        assert.ok(EXPECTED.power - EXPECTED.standard > bound(EXPECTED.power) + bound(EXPECTED.standard), "the methods' exact accuracies are further apart than the bounds");
    });

    it("--model with --server, or --threads with --server, is one clear error", async () => {
        const base = ["eval", "--dataset", dataset, "--out", fixture.file("bad"), "--server", servers[0]!.url];
        assertBadInput(await runCli([...base, "--model", "x.gguf"]), "--model and --server: give one; a server holds its own model");
        assertBadInput(await runCli([...base, "--threads", "2"]), "--threads and --server: the server sets its own threads");
        assertBadInput(await runCli(["eval", "--dataset", dataset, "--out", fixture.file("bad")]), "eval needs --model: the path of a GGUF file, or --server URL");
    });
});
