/**
 * The samplers on llama-server, with the statistical tests the local engine passes
 * (power-llama.test.ts, smc-llama.test.ts): Markov-chain GGUFs whose p^alpha is known by
 * enumeration; then the same model split between two ggml-rpc-server workers, which the sampler
 * must not notice.
 */
import {strict as assert} from "node:assert";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import {RemoteServerError} from "../../src/remote/http.js";
import {RemoteLanguageModel} from "../../src/remote/model.js";
import {empiricalDistribution, enumerateCompletions, powerDistribution, temperedDistribution, totalVariation} from "../../src/sampling/exact.js";
import {sample, sampleEach, type SamplingResult} from "../../src/sampling/run.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {MARKOV_EOS, markovVocabulary, PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {VARIABLE_LENGTH_SPEC} from "../support/chains.js";
import {RemoteFixture, type RpcServerProcess} from "../support/llama-server.js";
import {tvNoiseQuantile} from "../support/noise.js";


describe("power sampling on llama-server", function () {
    this.timeout(600_000);
    const fixture = new RemoteFixture();
    const maxTokens = 4;
    const next = markovNextTokenDistribution(VARIABLE_LENGTH_SPEC);
    const eos = markovVocabulary(VARIABLE_LENGTH_SPEC).indexOf(MARKOV_EOS);
    const target = powerDistribution(enumerateCompletions(next, eos, maxTokens), 4);
    let model: RemoteLanguageModel;
    let modelFile: string;

    before(async () => {
        await fixture.open();
        modelFile = await fixture.markovModel("variable-length", VARIABLE_LENGTH_SPEC);
        const server = await fixture.server({model: modelFile, slots: 8});
        model = await RemoteLanguageModel.connect([server.url]);
    });
    after(() => fixture.close());

    const completions = (result: SamplingResult) => result.samples.map((s) => (s.finishReason === "eos" ? [...s.tokens, eos] : s.tokens));
    const run = async (on: RemoteLanguageModel, params: Partial<SamplingParams>) => sample(on, await on.tokenize(""), resolveParams({seed: 11, ...params}));

    it("power draws p^alpha within the sampling-noise bound", async () => {
        const draws = 300;
        const result = await run(model, {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 50, samples: draws});
        const tv = totalVariation(target, empiricalDistribution(completions(result)));
        const bound = tvNoiseQuantile(target, draws);
        assert.ok(tv < bound, `TV ${tv.toFixed(4)} >= noise bound ${bound.toFixed(4)} (${draws} draws)`);
        assert.ok(result.stats.acceptanceRate! > 0 && result.stats.acceptanceRate! < 1);
    });

    it("low temperature lands on its own tempered distribution, standard on p, measurably away from p^alpha", async () => {
        const draws = 400;
        for (const [method, temperature] of [["low-temperature", 1 / 4], ["standard", 1]] as const) {
            const empirical = empiricalDistribution(completions(await run(model, {method, alpha: 4, maxTokens, samples: draws})));
            const own = temperedDistribution(next, eos, maxTokens, temperature);
            assert.ok(totalVariation(own, empirical) < tvNoiseQuantile(own, draws), `${method} TV to its own ${totalVariation(own, empirical)}`);
            assert.ok(totalVariation(target, empirical) > 3 * tvNoiseQuantile(target, draws), `${method} TV to p^alpha ${totalVariation(target, empirical)}`);
        }
    });

    it("logProb is exact, and log q is exact within the reported bound", async () => {
        const view = model.forRun();
        const result = await sample(view, await model.tokenize(""), resolveParams({method: "power", alpha: 4, blockSize: 2, maxTokens, mcmcSteps: 5, samples: 20, seed: 3}));
        for (const [i, tokens] of completions(result).entries()) {
            const exact = tokens.reduce((sum, token, k) => sum + Math.log(next(tokens.slice(0, k))[token]!), 0);
            assert.ok(Math.abs(result.samples[i]!.logProb - exact) < 1e-5, `${result.samples[i]!.logProb} vs ${exact}`);
        }
        const {logQErrorBound, warnings} = view.exactness();
        assert.ok(logQErrorBound < 1e-9, `bound ${logQErrorBound}`);
        assert.deepEqual(warnings, []);
    });

    it("Power-SMC: 200 runs of 16 particles draw p^alpha within the sampling-noise bound; one particle is low temperature", async () => {
        const runs = 200;
        const smc = (particles: number) => run(model, {method: "smc", alpha: 4, maxTokens, samples: runs, particles, resampleInterval: 1, seed: 13});
        const sixteen = totalVariation(target, empiricalDistribution(completions(await smc(16))));
        assert.ok(sixteen < tvNoiseQuantile(target, runs), `TV ${sixteen.toFixed(4)} (${runs} runs of 16 particles)`);
        const lowTemperature = temperedDistribution(next, eos, maxTokens, 1 / 4);
        const one = totalVariation(lowTemperature, empiricalDistribution(completions(await smc(1))));
        assert.ok(one < tvNoiseQuantile(lowTemperature, runs), `N = 1: TV to low temperature ${one.toFixed(4)}`);
    });

    it("the pivotal example: power picks B 99.5 %, low temperature 16.5 %", async () => {
        const server = await fixture.server({model: await fixture.markovModel("pivotal", PIVOTAL_CHAIN), slots: 8});
        const pivotal = await RemoteLanguageModel.connect([server.url]);
        const b = markovVocabulary(PIVOTAL_CHAIN).indexOf("B");
        const draws = 100;
        const shareOfB = (result: SamplingResult) => result.samples.filter((s) => s.tokens[0] === b).length / draws;
        const within = (share: number, p: number) => Math.abs(share - p) < 4 * Math.sqrt(p * (1 - p) / draws) + 0.005;
        const power = shareOfB(await run(pivotal, {method: "power", alpha: 4, blockSize: 8, maxTokens: 8, mcmcSteps: 100, samples: draws}));
        const low = shareOfB(await run(pivotal, {method: "low-temperature", alpha: 4, maxTokens: 8, samples: draws}));
        assert.ok(within(power, 0.995), `power B share ${power}`);
        assert.ok(within(low, 0.165), `low-temperature B share ${low}`);
    });

    describe("with the model split between two ggml-rpc-server workers (llama-server --rpc)", () => {
        let split: RemoteLanguageModel;
        let workers: RpcServerProcess[];
        before(async () => {
            workers = [await fixture.rpcWorker(), await fixture.rpcWorker()];
            const server = await fixture.server({model: modelFile, slots: 8, rpc: workers.map((worker) => worker.address)});
            split = await RemoteLanguageModel.connect([server.url], {recoveryMs: 1000});
        });

        it("draws exactly what the unsplit server draws for a seed, and p^alpha within the noise bound", async () => {
            const draws = 120;
            const params = {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 25, samples: draws} as const;
            const [onSplit, onOne] = [await run(split, params), await run(model, params)];
            assert.deepEqual(completions(onSplit), completions(onOne));
            const tv = totalVariation(target, empiricalDistribution(completions(onSplit)));
            assert.ok(tv < tvNoiseQuantile(target, draws), `TV ${tv.toFixed(4)} (${draws} draws)`);
        });

        it("needs both workers: with one gone, the run fails with a message naming the server", async () => {
            await workers[1]!.stop();
            await assert.rejects(run(split, {method: "standard", maxTokens, samples: 4}),
                (error: Error) => error instanceof RemoteServerError && error.message.includes(split.servers[0]!.url));
        });
    });

    it("several prompts in one batch (an evaluation): each draws what it draws alone, for MH and SMC", async () => {
        const prompts = [await model.tokenize(""), await model.tokenize("z"), await model.tokenize("xy")];
        for (const params of [{method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 6, samples: 3}, {method: "smc", alpha: 4, maxTokens, samples: 2, particles: 4}] as const) {
            const resolved = resolveParams(params);
            const together = await sampleEach(model, prompts.map((prompt, i) => ({prompt, seed: 40 + i})), resolved);
            for (const [i, prompt] of prompts.entries()) {
                const alone = await sample(model, prompt, {...resolved, seed: 40 + i});
                assert.deepEqual(completions(together[i]!), completions(alone), `${params.method}, prompt ${i}`);
            }
        }
    });

    it("chains spread over two servers holding the same model draw what one server draws", async () => {
        const other = await fixture.server({model: modelFile, slots: 4});
        const [first] = model.servers;
        const both = await RemoteLanguageModel.connect([first!.url, other.url]);
        assert.equal(both.pool.slots.length, 12);
        const params = {method: "power", alpha: 4, blockSize: maxTokens, maxTokens, mcmcSteps: 10, samples: 24} as const;
        assert.deepEqual(completions(await run(both, params)), completions(await run(model, params)));
    });
});
