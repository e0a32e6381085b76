/** Loads llama.cpp and one model for a command, stops when the run stops, and always frees both. */
import {openLlama} from "../llama/runtime.js";
import {LlamaLanguageModel} from "../llama/model.js";
import {debugLine, stopSignal} from "./lifetime.js";

/** Runs `body` with the model loaded; `signal` aborts when the run must stop (Ctrl-C, SIGTERM, output lost). */
export async function withModel<T>(modelPath: string, options: {threads?: number},
    body: (model: LlamaLanguageModel, loadMs: number, signal: AbortSignal) => Promise<T>): Promise<T> {
    stopSignal.throwIfAborted();
    const start = performance.now();
    debugLine("loading llama.cpp");
    const llama = await openLlama();
    let model: LlamaLanguageModel | undefined;
    try {
        stopSignal.throwIfAborted();
        debugLine(`loading model ${modelPath}`);
        model = await LlamaLanguageModel.load(llama, modelPath, {...options, signal: stopSignal});
        const loadMs = performance.now() - start;
        debugLine(`model loaded in ${Math.round(loadMs)} ms`);
        return await body(model, loadMs, stopSignal);
    } finally {
        // Model before instance: disposing the instance first has hung with models loaded.
        await model?.dispose();
        await llama.dispose();
        debugLine("model freed");
    }
}
