/** One llama.cpp instance per test file, with models written into a temp folder. */
import {mkdtemp, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import {join} from "node:path";
import type {Llama} from "node-llama-cpp";
import {LlamaLanguageModel} from "../../src/llama/model.js";
import {openLlama} from "../../src/llama/runtime.js";
import {type MarkovSpec, writeMarkovModel} from "../../src/testmodels/markov.js";

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

    async markovModel(name: string, spec: MarkovSpec): Promise<LlamaLanguageModel> {
        const file = this.file(`${name}.gguf`);
        await writeMarkovModel(spec, file);
        return this.load(file);
    }

    async load(file: string): Promise<LlamaLanguageModel> {
        const model = await LlamaLanguageModel.load(this.llama!, file, {threads: 1});
        this.models.push(model);
        return model;
    }
}
