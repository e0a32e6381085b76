/**
 * Loading llama.cpp and GGUF models, with errors a user can act on. The `gpu` choice decides which
 * build loads; a GPU that cannot be used (no build for it, driver missing, out of memory at load)
 * falls back to the CPU with a reason that says how to fix it, never an error, and
 * describeCompute says what actually runs.
 */
import {createRequire, register} from "node:module";
import os from "node:os";
import path from "node:path";
import {readFileSync} from "node:fs";
import {pathToFileURL} from "node:url";
import type {Llama, LlamaGpuType, LlamaModel} from "node-llama-cpp";
import {validateGgufModel} from "../gguf/validate.js";
import type {GpuChoice} from "../protocol/backend.js";
import {InvalidInputError, throwIfCancelled} from "../sampling/errors.js";
import {type GpuBackend, hostTarget, ON_DEMAND_BACKENDS, TARGET_BUILDS} from "./builds.js";
import {installedGpuSupport} from "./gpu-support.js";

export interface RuntimeOptions {
    /** "cpu" by default: the prebuilt CPU binary needs no driver. */
    readonly gpu?: GpuChoice;
    /** The model cache folder, where Install GPU Support puts the CUDA build (gpu-support.ts). */
    readonly cacheDir?: string;
}

const BACKEND_NAMES: Record<GpuBackend, string> = {cuda: "CUDA", vulkan: "Vulkan", metal: "Metal"};

/** What each backend needs on the machine, for the reasons shown when it does not load. */
const DRIVER_HINTS: Record<GpuBackend, string> = {
    cuda: "it needs an NVIDIA GPU with its driver and the CUDA runtime with cuBLAS, version 12 or 13 (CUDA Toolkit)",
    vulkan: "it needs a GPU with a Vulkan driver (the GPU vendor's driver, or Mesa on Linux)",
    metal: "it needs a Mac with Apple silicon"
};

/** How openLlama's choice turned out, for describeCompute. */
interface Choice {
    readonly requested: GpuChoice;
    /** Why no GPU runs although one was asked for or looked for; null when one runs or the CPU was chosen. */
    readonly reason: string | null;
    /** A GPU build that must offload nothing: Apple silicon's CPU (it has no CPU-only build). */
    readonly cpuOnly: boolean;
}

const choices = new WeakMap<Llama, Choice>();
/** Models that failed to load on the GPU and were loaded on the CPU instead, with why. */
const cpuFallbacks = new WeakMap<LlamaModel, string>();

/**
 * Loads llama.cpp's prebuilt binary for `options.gpu`, falling back to the CPU build with a
 * reason (describeCompute) when the GPU cannot be used; "auto" tries the GPUs whose drivers are
 * present. Never builds or downloads anything: a missing CUDA build is for Install GPU Support.
 */
export async function openLlama(options: RuntimeOptions = {}): Promise<Llama> {
    const requested = options.gpu ?? "cpu";
    resolveFromFolders(options.cacheDir ? await installedGpuSupport(options.cacheDir) : new Map());
    const detected = requested === "cpu" ? [] : await detectedBackends();
    const candidates: readonly GpuBackend[] = requested === "auto" ? detected : requested === "cpu" ? [] : [requested];
    const reasons: string[] = [];
    for (const backend of candidates) {
        const missing = missingBuild(backend);
        if (missing) {
            reasons.push(missing);
            continue;
        }
        try {
            const llama = await loadBuild(backend);
            choices.set(llama, {requested, reason: null, cpuOnly: false});
            return llama;
        } catch (error) {
            // NoBinaryFoundError: the build failed node-llama-cpp's load test in a child process.
            const {NoBinaryFoundError} = await import("node-llama-cpp");
            const detail = error instanceof NoBinaryFoundError ? "" : ` (${firstLine(errorMessage(error))})`;
            reasons.push(`the ${BACKEND_NAMES[backend]} build did not load${detail}: ${detected.includes(backend) ? "" : "no driver found; "}${DRIVER_HINTS[backend]}`);
        }
    }
    if (requested === "auto" && candidates.length === 0) reasons.push("no GPU driver found (CUDA, Vulkan or Metal)");
    // Apple silicon has no CPU-only build: its Metal build runs on the CPU with no layers offloaded.
    const cpuOnly = hostTarget() === "darwin-arm64";
    const llama = await loadBuild(cpuOnly ? "metal" : false);
    choices.set(llama, {requested, reason: reasons.length > 0 ? reasons.join("; ") : null, cpuOnly});
    return llama;
}

async function loadBuild(gpu: LlamaGpuType): Promise<Llama> {
    const {getLlama, LlamaLogLevel} = await import("node-llama-cpp");
    return getLlama({
        gpu,
        build: "never",
        logLevel: LlamaLogLevel.error,
        // stderr: stdout may carry a protocol (the backend speaks JSON-RPC on it).
        logger: (level, message) => process.stderr.write(`[llama.cpp ${level}] ${message}\n`),
        progressLogs: false
    });
}

/** GPU backends whose drivers and libraries node-llama-cpp finds on this machine, best first. */
async function detectedBackends(): Promise<GpuBackend[]> {
    const {getLlamaGpuTypes} = await import("node-llama-cpp");
    return (await getLlamaGpuTypes("supported")).filter((type): type is GpuBackend => type !== false);
}

/** Why `backend`'s build is not there to load, or null when it is. */
function missingBuild(backend: GpuBackend): string | null {
    const target = hostTarget();
    const packages = target ? TARGET_BUILDS[target].gpu[backend] : undefined;
    const name = BACKEND_NAMES[backend];
    if (!packages) return `node-llama-cpp has no ${name} build for ${target ?? `${process.platform}-${process.arch}`}`;
    // The first package is the build; CUDA's second one is an optional fallback node-llama-cpp loads when present.
    if (isResolvable(packages[0]!)) return null;
    return ON_DEMAND_BACKENDS.includes(backend)
        ? `${name} support is not installed: run "Power Sampling: Install GPU Support" (about 320 MB)`
        : `this install has no ${name} build (npm install takes only the CPU build; the VSIX for this platform carries it)`;
}

/**
 * Installed by Install GPU Support in this call's cache folder, or next to node-llama-cpp (found
 * by CommonJS resolution, which the hook below does not touch, so an earlier call's cache folder
 * does not count).
 */
function isResolvable(name: string): boolean {
    if (currentFolders.has(name)) return true;
    try {
        createRequire(import.meta.url).resolve(name);
        return true;
    } catch {
        return false;
    }
}

/** The package entry each name resolves to, once registered; the latest registration wins. */
const resolvedUrls = new Map<string, string>();
/** Names installed in the cache folder of the latest openLlama call. */
const currentFolders = new Set<string>();

/**
 * node-llama-cpp imports a build package by name from its own folder; builds installed in the
 * model cache are elsewhere, so a module resolution hook maps those names to their folders.
 * Hooks registered later run first, so a changed folder takes over.
 */
function resolveFromFolders(packages: ReadonlyMap<string, string>): void {
    currentFolders.clear();
    const urls: Record<string, string> = {};
    for (const [name, folder] of packages) {
        currentFolders.add(name);
        // Every node-llama-cpp build package has this one entry.
        const url = pathToFileURL(path.join(folder, "dist", "index.js")).href;
        if (resolvedUrls.get(name) !== url) urls[name] = url;
    }
    if (Object.keys(urls).length === 0) return;
    register(`data:text/javascript,${encodeURIComponent(RESOLVE_HOOK)}`, {data: {urls}});
    for (const [name, url] of Object.entries(urls)) resolvedUrls.set(name, url);
}

const RESOLVE_HOOK = `
let urls = {};
export function initialize(data) { urls = data.urls; }
export function resolve(specifier, context, nextResolve) {
    return Object.hasOwn(urls, specifier) ? {url: urls[specifier], shortCircuit: true} : nextResolve(specifier, context);
}`;

export interface ComputeDescription {
    /** What the model's layers run on. */
    readonly backend: "cpu" | GpuBackend;
    /** GPU device names; empty on the CPU. */
    readonly devices: readonly string[];
    /** The model's layers on the GPU, of its total; null without a model. */
    readonly layers: {readonly offloaded: number; readonly total: number} | null;
    /** Why the CPU runs although a GPU was asked for or looked for, with how to fix it; null otherwise. */
    readonly reason: string | null;
    /** One line for a status bar or a log, e.g. "CUDA (NVIDIA H200), 29/29 layers" or "CPU: ...". */
    readonly summary: string;
}

/** What actually runs: llama.cpp as openLlama opened it, and `model` if one is loaded. */
export async function describeCompute(llama: Llama, model?: LlamaModel): Promise<ComputeDescription> {
    const choice = choices.get(llama);
    const layers = model ? {offloaded: model.gpuLayers, total: model.fileInsights.totalLayers} : null;
    const gpu = llama.gpu === false || choice?.cpuOnly ? null : llama.gpu;
    const backend = gpu === null || layers?.offloaded === 0 ? "cpu" : gpu;
    const reason = choice?.reason
        ?? (model && cpuFallbacks.get(model))
        ?? (gpu !== null && layers?.offloaded === 0 ? `the model does not fit in ${BACKEND_NAMES[gpu]} memory: no layers offloaded` : null);
    if (backend === "cpu") return {backend, devices: [], layers, reason, summary: reason ? `CPU: ${reason}` : "CPU"};
    const devices = await llama.getGpuDeviceNames();
    const where = `${BACKEND_NAMES[backend]}${devices.length > 0 ? ` (${devices.join(", ")})` : ""}`;
    const offload = layers ? `, ${layers.offloaded}/${layers.total} layers${layers.offloaded < layers.total ? ", the rest on the CPU" : ""}` : "";
    return {backend, devices, layers, reason, summary: `${where}${offload}`};
}

/**
 * The default CPU threads: one core fewer than the machine has. llama.cpp's threads wait for each
 * other by spinning, so a thread whose core is busy elsewhere (the editor, a build) stalls every
 * step. Measured here (bench --only threads, 2 cores, a busy loop per core): 2 threads decoded
 * 84.0 tokens/s idle but 10.1 under load; 1 thread 72.3 idle and 56.7 under load.
 */
export function defaultThreadCount(): number {
    return Math.max(1, physicalCoreCount() - 1);
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

/** Opens a GGUF file after checking (validateGgufModel) that llama.cpp can read it without aborting. */
export async function loadGgufModel(llama: Llama, modelPath: string, options: LoadOptions = {}): Promise<LlamaModel> {
    await validateGgufModel(modelPath);
    throwIfCancelled(options.signal);
    const load = (gpuLayers?: 0) => llama.loadModel({modelPath, gpuLayers, onLoadProgress: options.onLoadProgress, loadSignal: options.signal});
    const cpuOnly = llama.gpu === false || choices.get(llama)?.cpuOnly === true;
    let gpuError: unknown;
    if (!cpuOnly) {
        try {
            return await load();
        } catch (error) {
            throwIfCancelled(options.signal);
            gpuError = error;
        }
    }
    try {
        const model = await load(0);
        // It loads on the CPU, so the GPU was the problem (its memory, most likely).
        if (gpuError !== undefined)
            cpuFallbacks.set(model, `loading the model on the ${BACKEND_NAMES[llama.gpu as GpuBackend]} GPU failed (${firstLine(errorMessage(gpuError))}): it runs on the CPU; a smaller model or quantization, or a smaller context, may fit`);
        return model;
    } catch (error) {
        throwIfCancelled(options.signal);
        throw new InvalidInputError(`cannot load GGUF model ${modelPath}: the file is corrupt or incomplete (${firstLine(errorMessage(error))})`);
    }
}

function errorMessage(error: unknown): string {
    return error instanceof Error ? error.message : String(error);
}

function firstLine(text: string): string {
    return text.split("\n")[0]!.trim();
}
