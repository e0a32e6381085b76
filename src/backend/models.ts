/**
 * One model stays loaded across jobs; a job naming another model unloads it and loads that one.
 * Remote references download into the cache folder first.
 */
import type {Llama} from "node-llama-cpp";
import {LlamaLanguageModel} from "../llama/model.js";
import {type GpuChoice, openLlama} from "../llama/runtime.js";
import {isRemoteReference, resolveModelSource} from "./model-source.js";

export interface ModelManagerOptions {
    readonly cacheDir: string;
    readonly threads?: number;
    readonly contextSize?: number;
    readonly gpu?: GpuChoice;
    /** Download or load progress of `reference`, 0..1 (null when the size is unknown). */
    readonly onProgress: (phase: "downloading" | "loading", reference: string, progress: number | null) => void;
}

export class ModelManager {
    private llama?: Llama;
    private current?: {readonly reference: string; readonly model: LlamaLanguageModel};

    constructor(private readonly options: ModelManagerOptions) {}

    get reference(): string | null {
        return this.current?.reference ?? null;
    }

    get loaded(): LlamaLanguageModel | null {
        return this.current?.model ?? null;
    }

    /** "cpu" or the GPU type, once llama.cpp is open. */
    get gpu(): string {
        return this.llama?.gpu || "cpu";
    }

    /** The model for `reference`, loading it (and unloading the current one) when needed. */
    async acquire(reference: string, signal: AbortSignal): Promise<{model: LlamaLanguageModel; loadMs: number}> {
        if (this.current?.reference === reference) return {model: this.current.model, loadMs: 0};
        const start = performance.now();
        this.llama ??= await openLlama({gpu: this.options.gpu});
        const path = await resolveModelSource(reference, {
            cacheDir: this.options.cacheDir,
            signal,
            onProgress: isRemoteReference(reference)
                ? ({downloadedBytes, totalBytes}) => this.options.onProgress("downloading", reference, totalBytes ? downloadedBytes / totalBytes : null)
                : undefined
        });
        await this.unload();
        this.options.onProgress("loading", reference, 0);
        const model = await LlamaLanguageModel.load(this.llama, path, {
            threads: this.options.threads,
            contextSize: this.options.contextSize,
            signal,
            onLoadProgress: (progress) => this.options.onProgress("loading", reference, progress)
        });
        this.current = {reference, model};
        return {model, loadMs: performance.now() - start};
    }

    async unload(): Promise<void> {
        const current = this.current;
        this.current = undefined;
        await current?.model.dispose();
    }

    async dispose(): Promise<void> {
        await this.unload();
        await this.llama?.dispose();
    }
}
