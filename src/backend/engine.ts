/**
 * The engine process (`power-sampling engine`, started by the backend over an IPC channel): it
 * opens llama.cpp once, holds one model at a time (a load replaces it) and runs solve jobs on
 * it: messages in, progress and results out. It exits when the backend disconnects.
 */
import type {Llama} from "node-llama-cpp";
import {CorruptModelError, InvalidInputError} from "../protocol/errors.js";
import {CancelledError} from "../sampling/errors.js";
import {LlamaLanguageModel} from "../llama/model.js";
import {describeCompute, openLlama} from "../llama/runtime.js";
import {solve} from "../llama/solve.js";
import type {EngineError, FromEngine, ToEngine} from "./engine-messages.js";

export function runEngine(): void {
    const send = (message: FromEngine) => process.send?.(message);
    let llama: Llama | undefined;
    let model: LlamaLanguageModel | undefined;
    const jobs = new Map<number, AbortController>();

    const load = async (message: Extract<ToEngine, {type: "load"}>) => {
        try {
            llama ??= await openLlama({gpu: message.options.gpu, cacheDir: message.options.cacheDir});
            const previous = model;
            model = undefined;
            await previous?.dispose();
            model = await LlamaLanguageModel.load(llama, message.path, {
                threads: message.options.threads,
                contextSize: message.options.contextSize,
                onLoadProgress: (progress) => send({type: "loadProgress", progress})
            });
            const compute = await describeCompute(llama, model.model);
            send({type: "loaded", model: {contextSize: model.contextSize, compute: {...compute, threads: model.threads}, sizeBytes: model.model.size}});
        } catch (error) {
            send({type: "loadFailed", error: toEngineError(error)});
        }
    };

    const solveJob = async (message: Extract<ToEngine, {type: "solve"}>) => {
        const controller = new AbortController();
        jobs.set(message.id, controller);
        try {
            if (!model) throw new Error("no model is loaded");
            const result = await solve(model, message.prompt, message.mode, message.params, {
                signal: controller.signal,
                progressIntervalMs: message.progressIntervalMs,
                languageId: message.languageId,
                onProgress: (progress) => send({type: "progress", id: message.id, progress}),
                loadMs: message.loadMs,
                queuedMs: message.queuedMs
            });
            send({type: "result", id: message.id, result});
        } catch (error) {
            send({type: "failed", id: message.id, error: toEngineError(error)});
        } finally {
            jobs.delete(message.id);
        }
    };

    process.on("message", (message: ToEngine) => {
        switch (message.type) {
            case "load": return void load(message);
            case "solve": return void solveJob(message);
            case "cancel": return jobs.get(message.id)?.abort();
        }
    });
    // The backend is gone (or let this process go): nothing is left to do.
    process.on("disconnect", () => process.exit(0));
}

function toEngineError(error: unknown): EngineError {
    const message = error instanceof Error ? error.message.split("\n")[0]! : String(error);
    if (error instanceof CancelledError) return {kind: "cancelled", message};
    if (error instanceof CorruptModelError) return {kind: "corrupt", message};
    if (error instanceof InvalidInputError) return {kind: "invalid", message};
    return {kind: "internal", message};
}
