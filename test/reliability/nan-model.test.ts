/**
 * A model whose weights are NaN passes every structural check and loads, then produces NaN
 * logits. Sampling must say so, not return samples with a log-probability of null and exit 0.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {writeGguf} from "../../src/gguf/writer.js";
import {markovModelFile, PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {buildCli, describeRun, runCli} from "../support/cli.js";

describe("a model with NaN weights", function () {
    this.timeout(120_000);
    let dir: string;
    let nan: string;

    before(async () => {
        await buildCli();
        dir = await mkdtemp(join(tmpdir(), "power-sampling-nan-"));
        nan = join(dir, "nan.gguf");
        const file = markovModelFile(PIVOTAL_CHAIN);
        await writeGguf(nan, {
            ...file,
            tensors: file.tensors.map((tensor) => tensor.name === "output.weight"
                ? {...tensor, data: new Float32Array((tensor.data as Float32Array).length).fill(Number.NaN)}
                : tensor)
        });
    });
    after(() => rm(dir, {recursive: true, force: true}));

    for (const method of ["standard", "power", "smc"]) {
        it(`${method}: exit 2 with "model is corrupt", no JSON with a null log-probability`, async () => {
            const result = await runCli(["solve", "--model", nan, "--method", method, "--max-tokens", "4", "--json", ""]);
            assert.equal(result.code, 2, describeRun(result));
            assert.match(result.stderr, /^power-sampling: model is corrupt: its output is not a number/, describeRun(result));
            assert.equal(result.stdout, "", "nothing on stdout");
        });
    }
});
