/** Loading llama.cpp and GGUF models, with errors a user can act on. */
import os from "node:os";
import {readFileSync} from "node:fs";
import type {Llama, LlamaModel} from "node-llama-cpp";
import {validateGgufModel} from "../gguf/validate.js";
import {InvalidInputError, throwIfCancelled} from "../sampling/errors.js";

export type GpuChoice = "auto" | "cpu" | "cuda" | "vulkan" | "metal";

export interface RuntimeOptions {
    /** "cpu" by default: the prebuilt CPU binary needs no build and no download. */
    readonly gpu?: GpuChoice;
}

/** Loads llama.cpp's prebuilt binary; never builds or downloads one at run time. */
export async function openLlama(options: RuntimeOptions = {}): Promise<Llama> {
    const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");
    const gpu = options.gpu ?? "cpu";
    return getLlama({
        gpu: gpu === "cpu" ? false : gpu,
        build: "never",
        logLevel: LlamaLogLevel.error,
        // stderr: stdout may carry a protocol (the backend speaks JSON-RPC on it).
        logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message}\n`),
        progressLogs: false
    });
}

/**
 * Physical cores: llama.cpp's default (logical CPUs) oversubscribes hyperthreads and on small
 * machines made one decode step ~700x slower.
 */
export function physicalCoreCount(): number {
    try {
        const cores = new Set<string>();
        let physicalId = "0";
        for (const line of readFileSync("/proc/cpuinfo", "utf8").split("\n")) {
            const [key, value] = line.split(":").map((part) => part.trim());
            if (key === "physical id") physicalId = value!;
            if (key === "core id") cores.add(`${physicalId}:${value}`);
        }
        if (cores.size > 0) return cores.size;
    } catch {
        // Not Linux: fall through to the logical count.
    }
    return os.availableParallelism();
}

export interface LoadOptions {
    /** 0..1 as the weights load. */
    readonly onLoadProgress?: (progress: number) => void;
    readonly signal?: AbortSignal;
}

/**
 * Opens a GGUF file, checking it first (a regular file, GGUF, every split part present and sound)
 * so that the error names the problem and llama.cpp never aborts on a corrupt model.
 */
export async function loadGgufModel(llama: Llama, modelPath: string, options: LoadOptions = {}): Promise<LlamaModel> {
    await validateGgufModel(modelPath);
    throwIfCancelled(options.signal);
    try {
        return await llama.loadModel({modelPath, onLoadProgress: options.onLoadProgress, loadSignal: options.signal});
    } catch (error) {
        throwIfCancelled(options.signal);
        throw new InvalidInputError(`cannot load GGUF model ${modelPath}: the file is corrupt or incomplete (${firstLine((error as Error).message)})`);
    }
}

function firstLine(text: string): string {
    return text.split("\n")[0]!.trim();
}
