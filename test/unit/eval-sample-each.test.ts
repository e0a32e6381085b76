/**
 * sampleEach, which lets an evaluation decode several problems in one batch: each job's samples
 * are exactly those `sample` draws for its prompt and seed alone, whatever shares the batch and
 * however the batch is split into waves, and each job gets its own statistics.
 */
import {strict as assert} from "node:assert";
import {resolveParams, type SamplingParams} from "../../src/protocol/params.js";
import type {Continuation, ContinueRequest, DrawOptions, LanguageModel, OpenBatchOptions, SequenceBatch, Token} from "../../src/sampling/model.js";
import {sample, sampleEach, type SamplingResult} from "../../src/sampling/run.js";
import {EOS} from "../support/chains.js";

/**
 * A model whose next token depends on the last prompt token and the generated ones, so a sequence
 * given the wrong prompt draws visibly wrong tokens. Tokens: 0 EOS, 1..4 words; prompts end in 10 or 20.
 */
class PromptedModel implements LanguageModel {
    /** Per opened batch: each sequence's prompt. */
    readonly batches: (readonly (readonly Token[])[])[] = [];
    drawnTokens = 0;

    constructor(private readonly capacity = Infinity) {}

    isEnd(token: Token): boolean {
        return token === EOS;
    }

    batchCapacity(_promptTokens: number, _maxTokens: number, groupSize: number): number {
        return Math.floor(Math.min(this.capacity, 1e6) / groupSize) * groupSize;
    }

    async openBatch(prompt: readonly Token[], size: number, _maxTokens: number, options: OpenBatchOptions = {}): Promise<SequenceBatch> {
        const groupSize = options.groupSize ?? 1;
        const prompts = Array.from({length: size}, (_, s) => options.groupPrompts?.[Math.floor(s / groupSize)] ?? prompt);
        this.batches.push(prompts);
        return {size, continue: (requests, drawOptions) => this.continue(prompts, requests, drawOptions), copy: async () => {}, dispose: async () => {}};
    }

    /** After a prompt ending in 10: mostly 1 and 2; after 20: mostly 3 and 4; EOS more likely as the text grows. */
    next(prompt: readonly Token[], prefix: readonly Token[]): number[] {
        const end = Math.min(0.9, 0.2 + 0.2 * prefix.length);
        const low = prompt.at(-1) === 10;
        const rest = 1 - end;
        return [end, low ? 0.6 * rest : 0.05 * rest, low ? 0.3 * rest : 0.05 * rest, low ? 0.05 * rest : 0.6 * rest, low ? 0.05 * rest : 0.3 * rest];
    }

    private async continue(prompts: readonly (readonly Token[])[], requests: readonly ContinueRequest[], options: DrawOptions): Promise<Continuation[]> {
        return requests.map((request) => {
            const result: Continuation = {tokens: [], logP: [], logQ: []};
            while (result.tokens.length < request.maxTokens && !(result.tokens.length > 0 && this.isEnd(result.tokens.at(-1)!))) {
                const p = this.next(prompts[request.sequence]!, [...request.prefix, ...result.tokens]);
                const q = temper(p, options.temperature);
                let u = request.random.float();
                let token = 0;
                while (token < q.length - 1 && u >= q[token]!) u -= q[token++]!;
                result.tokens.push(token);
                result.logP.push(Math.log(p[token]!));
                result.logQ.push(options.temperature === 0 ? 0 : Math.log(q[token]!));
                this.drawnTokens++;
                options.onStep?.(1);
            }
            return result;
        });
    }
}

function temper(p: readonly number[], temperature: number): number[] {
    if (temperature === 0) return p.map((x) => (x === Math.max(...p) ? 1 : 0));
    const w = p.map((x) => x ** (1 / temperature));
    const total = w.reduce((a, b) => a + b, 0);
    return w.map((x) => x / total);
}

const PROMPT_LOW = [1, 7, 10];
const PROMPT_HIGH = [1, 20];

function params(overrides: Partial<SamplingParams>): Omit<SamplingParams, "seed"> {
    return resolveParams({maxTokens: 6, samples: 5, blockSize: 3, mcmcSteps: 3, particles: 4, resampleInterval: 2, ...overrides});
}

/** What a result drew and reported, comparable with deepEqual. */
function drawnOf(result: SamplingResult): unknown {
    return {samples: result.samples, smc: result.smc, stats: result.stats};
}

describe("sampleEach: several prompts in one batch", () => {
    const jobs = [{prompt: PROMPT_LOW, seed: 11}, {prompt: PROMPT_HIGH, seed: 12}, {prompt: PROMPT_LOW, seed: 13}];

    for (const method of ["power", "standard", "low-temperature", "smc"] as const) {
        it(`${method}: each job draws what sample draws for its prompt and seed alone, with its own statistics`, async () => {
            const together = await sampleEach(new PromptedModel(), jobs, params({method}));
            for (const [i, job] of jobs.entries()) {
                const alone = await sample(new PromptedModel(), job.prompt, {...params({method}), seed: job.seed});
                assert.deepEqual(drawnOf(together[i]!), drawnOf(alone), `job ${i}`);
            }
        });
    }

    it("one batch holds every job's samples, each group with its job's prompt", async () => {
        const model = new PromptedModel();
        await sampleEach(model, jobs, params({method: "smc"}));
        assert.equal(model.batches.length, 1);
        const expected = jobs.flatMap((job) => Array.from({length: 5 * 4}, () => job.prompt));
        assert.deepEqual(model.batches[0], expected);
    });

    it("waves that change the groups' prompts open a batch with the new ones; the draws stay the same", async () => {
        const small = new PromptedModel(4);
        const split = await sampleEach(small, jobs, params({method: "power"}));
        assert.deepEqual(small.batches.map((batch) => batch.length), [4, 4, 4, 3], "15 samples in waves of 4");
        assert.deepEqual(small.batches[1], [PROMPT_LOW, PROMPT_HIGH, PROMPT_HIGH, PROMPT_HIGH], "samples 4 of job 0 and 0-2 of job 1");
        const whole = await sampleEach(new PromptedModel(), jobs, params({method: "power"}));
        assert.deepEqual(split.map(drawnOf), whole.map(drawnOf));
    });

    it("a prompt's samples follow its own distribution, not a batch neighbour's", async () => {
        const results = await sampleEach(new PromptedModel(), [{prompt: PROMPT_LOW, seed: 1}, {prompt: PROMPT_HIGH, seed: 1}],
            params({method: "low-temperature", samples: 200}));
        const share = (result: SamplingResult, low: boolean) => {
            const words = result.samples.flatMap((s) => s.tokens);
            return words.filter((token) => (low ? token <= 2 : token >= 3)).length / words.length;
        };
        assert.ok(share(results[0]!, true) > 0.95, `after 10: ${share(results[0]!, true)}`);
        assert.ok(share(results[1]!, false) > 0.95, `after 20: ${share(results[1]!, false)}`);
    });

    it("the jobs' drawn tokens add up to what the model drew", async () => {
        const model = new PromptedModel();
        const results = await sampleEach(model, jobs, params({method: "power"}));
        assert.equal(results.reduce((sum, result) => sum + result.stats.proposedTokens, 0), model.drawnTokens);
        assert.ok(results.every((result) => result.stats.mcmcSteps > 0));
    });
});
