/** One llama.cpp instance per test file, with models written into a temp folder. */
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {strict as assert} from "node:assert";
import type {Llama, Token as LlamaToken} from "node-llama-cpp";
import {LlamaLanguageModel} from "../../src/llama/model.js";
import {openLlama} from "../../src/llama/runtime.js";
import {type MarkovModelOptions, type MarkovSpec, writeMarkovModel} from "../../src/testmodels/markov.js";

export class LlamaFixture {
    private llama?: Llama;
    private folder?: string;
    private readonly models: LlamaLanguageModel[] = [];

    async open(): Promise<void> {
        this.llama = await openLlama();
        this.folder = await mkdtemp(join(tmpdir(), "power-sampling-test-"));
    }

    async close(): Promise<void> {
        // Models first: disposing the llama instance with several models loaded hung here.
        for (const model of this.models) await model.model.dispose();
        await this.llama?.dispose();
        if (this.folder) await rm(this.folder, {recursive: true, force: true});
    }

    /** A path in the fixture's temp folder, removed on close. */
    file(name: string): string {
        return join(this.folder!, name);
    }

    async markovModel(name: string, spec: MarkovSpec, options: MarkovModelOptions = {}): Promise<LlamaLanguageModel> {
        const file = this.file(`${name}.gguf`);
        await writeMarkovModel(spec, file, options);
        return this.load(file);
    }

    async load(file: string): Promise<LlamaLanguageModel> {
        const model = await LlamaLanguageModel.load(this.llama!, file, {threads: 1});
        this.models.push(model);
        return model;
    }
}

/**
 * log-probabilities of each of `tokens` after `prompt` (and the tokens before it), from full
 * next-token distributions at `temperature` (1 is the model itself): slow, exact, for checks.
 */
export async function referenceLogProbs(model: LlamaLanguageModel, prompt: readonly number[], tokens: readonly number[], temperature = 1): Promise<number[]> {
    const context = await model.model.createContext({contextSize: prompt.length + tokens.length + 1, threads: 1});
    try {
        const all = [...prompt, ...tokens] as LlamaToken[];
        const output = await context.getSequence().controlledEvaluate(all.map((token, i) => i >= prompt.length - 1 && i < all.length - 1
            ? [token, {generateNext: {probabilities: true, options: {temperature, topK: 0, topP: 1, minP: 0}}}]
            : token));
        return tokens.map((token, k) => Math.log(output[prompt.length - 1 + k]!.next!.probabilities!.get(token as LlamaToken) ?? 0));
    } finally {
        await context.dispose();
    }
}

/**
 * A completion's log p against the sum of its reference log-probabilities. The sampler and the
 * reference evaluate in differently shaped float32 batches (and llama-server in another process):
 * over 120 remote draws of 40 tokens the sums differed by up to 6.8e-3, 1.7e-4 a token. The bound
 * is the batch suites' 1e-3 a token, summed; a top-K or tempered log p is off by far more.
 */
export function assertNearReference(logProb: number, reference: readonly number[], label: string): void {
    const sum = reference.reduce((a, b) => a + b, 0);
    assert.ok(Math.abs(logProb - sum) < 1e-3 * reference.length, `${label} ${logProb} vs full-vocabulary ${sum} over ${reference.length} tokens`);
}
