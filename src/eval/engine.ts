/**
 * What an evaluation runs on: an engine that solves several prompts with one set of sampling
 * parameters, each prompt with its own seed. The harness knows nothing else of it, so a local
 * llama.cpp model (llamaEngine) and llama-servers (remoteEngine) both serve it.
 */
import {checkPrompt, type ResolvedPromptMode, type SamplingParams} from "../protocol/params.js";
import type {SolveProgress, SolveResult} from "../protocol/results.js";
import {InvalidInputError} from "../sampling/errors.js";
import type {LlamaLanguageModel} from "../llama/model.js";
import {buildPrompt} from "../llama/prompts.js";
import {type SolveJob, type SolveModel, solveEach} from "../llama/solve.js";
import type {RemoteLanguageModel} from "../remote/model.js";

export interface EngineSolveOptions {
    readonly signal?: AbortSignal;
    readonly onProgress?: (progress: SolveProgress) => void;
    readonly progressIntervalMs?: number;
}

/** A prompt of a dataset, named for error messages. */
export interface NamedPrompt {
    readonly id: string;
    readonly prompt: string;
}

export interface EvalEngine {
    /** The model as results name it (run.json, the summary): a GGUF file's absolute path, say. */
    readonly model: string;
    /** Whether the model has a chat template of its own (prompt mode chat is refused without one). */
    readonly hasChatTemplate: boolean;
    /** Throws InvalidInputError, naming the problem, for a prompt that cannot run with maxTokens (the context, memory). */
    checkPrompts(prompts: readonly NamedPrompt[], mode: ResolvedPromptMode, params: Omit<SamplingParams, "seed">): Promise<void>;
    /**
     * Solves every job's prompt; result i is job i's, with job i's seed. Samples of all jobs decode
     * in step where the engine can; a result's stats.wallMs may then be the whole call's.
     */
    solveEach(jobs: readonly SolveJob[], mode: ResolvedPromptMode, params: Omit<SamplingParams, "seed">, options?: EngineSolveOptions): Promise<SolveResult[]>;
}

/** The engine of a llama.cpp model loaded in this process. */
export function llamaEngine(model: LlamaLanguageModel, modelPath: string): EvalEngine {
    const metadata = model.model.fileInfo.metadata as {tokenizer?: {chat_template?: unknown}};
    return modelEngine(model, {name: modelPath, hasChatTemplate: typeof metadata.tokenizer?.chat_template === "string"});
}

/** The engine of llama-servers: the servers' URLs and model name it; the server's chat template makes it an instruct model. */
export function remoteEngine(model: RemoteLanguageModel): EvalEngine {
    return modelEngine(model, {name: `${model.servers[0]!.model} on ${model.servers.map((server) => server.url).join(", ")}`, hasChatTemplate: model.instruct});
}

function modelEngine(model: SolveModel, {name, hasChatTemplate}: {name: string; hasChatTemplate: boolean}): EvalEngine {
    return {
        model: name,
        hasChatTemplate,
        async checkPrompts(prompts, mode, params) {
            const groupSize = params.method === "smc" ? params.particles : 1;
            for (const {id, prompt} of prompts) {
                try {
                    model.batchCapacity((await buildPrompt(model, checkPrompt(prompt), mode)).length, params.maxTokens, groupSize);
                } catch (error) {
                    if (error instanceof InvalidInputError) throw new InvalidInputError(`problem ${id}: ${error.message}`);
                    throw error;
                }
            }
        },
        solveEach: (jobs, mode, params, options) => solveEach(model, jobs, mode, params, options)
    };
}
