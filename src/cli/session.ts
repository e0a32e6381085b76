/** Loads llama.cpp and one model for a command, cancels on Ctrl-C, and always cleans up. */
import {openLlama} from "../llama/runtime.js";
import {LlamaLanguageModel} from "../llama/model.js";

export async function withModel<T>(modelPath: string, options: {threads?: number},
    body: (model: LlamaLanguageModel, loadMs: number, signal: AbortSignal) => Promise<T>): Promise<T> {
    const controller = new AbortController();
    const interrupt = () => controller.abort();
    process.once("SIGINT", interrupt);
    const start = performance.now();
    const llama = await openLlama();
    let model: LlamaLanguageModel | undefined;
    try {
        model = await LlamaLanguageModel.load(llama, modelPath, options);
        return await body(model, performance.now() - start, controller.signal);
    } finally {
        process.off("SIGINT", interrupt);
        // Model before instance: disposing the instance first has hung with models loaded.
        await model?.model.dispose();
        await llama.dispose();
    }
}
