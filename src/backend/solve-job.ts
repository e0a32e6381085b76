/** One powerSampling/solve job: validate, get the model, build the prompt, sample, explain. */
import {randomUUID} from "node:crypto";
import {InvalidInputError} from "../sampling/errors.js";
import {METHODS, resolveParams} from "../sampling/params.js";
import type {SamplingProgress} from "../sampling/run.js";
import type {LlamaLanguageModel} from "../llama/model.js";
import {solve, type SolvedSample} from "../llama/solve.js";
import {extractFinalAnswer} from "../answers/extract.js";
import {chooseAnswer, groupAlternatives} from "../answers/group.js";
import {buildPrompt} from "./prompts.js";
import {PROMPT_MODES, type ProgressParams, type PromptMode, type SolvedAlternative, type SolveParams, type SolveResult} from "./protocol.js";

/** The model stage failed: missing, not GGUF, corrupt, or not downloadable. */
export class ModelUnavailableError extends Error {
    override name = "ModelUnavailableError";
}

export interface SolveJobContext {
    readonly signal: AbortSignal;
    readonly queuedMs: number;
    readonly acquireModel: (reference: string, signal: AbortSignal) => Promise<{model: LlamaLanguageModel; loadMs: number}>;
    readonly onProgress: (progress: ProgressParams) => void;
    /** Minimum milliseconds between progress notifications. */
    readonly progressIntervalMs?: number;
}

export function requireModelReference(value: unknown): string {
    if (typeof value !== "string" || value.trim() === "") throw new InvalidInputError("model must name a GGUF file, an hf: URI or an https URL");
    return value;
}

/** Checks the request before anything is loaded, so bad input fails fast and specifically. */
export function validateSolveParams(params: unknown): SolveParams & {readonly jobId: string; readonly mode: PromptMode} {
    if (typeof params !== "object" || params === null) throw new InvalidInputError("solve expects an object of parameters");
    const p = params as Record<string, unknown>;
    if (typeof p.prompt !== "string") throw new InvalidInputError("prompt must be a string");
    requireModelReference(p.model);
    if (p.mode !== undefined && !PROMPT_MODES.includes(p.mode as PromptMode))
        throw new InvalidInputError(`mode must be one of ${PROMPT_MODES.join(", ")}, got ${JSON.stringify(p.mode)}`);
    if (p.method !== undefined && !METHODS.includes(p.method as never))
        throw new InvalidInputError(`method must be one of ${METHODS.join(", ")}, got ${JSON.stringify(p.method)}`);
    if (p.alternatives !== undefined && (typeof p.alternatives !== "number" || !Number.isInteger(p.alternatives) || p.alternatives < 1))
        throw new InvalidInputError(`alternatives must be an integer >= 1, got ${JSON.stringify(p.alternatives)}`);
    if (p.jobId !== undefined && typeof p.jobId !== "string") throw new InvalidInputError("jobId must be a string");
    return {...(p as unknown as SolveParams), jobId: (p.jobId as string | undefined) ?? randomUUID(), mode: (p.mode as PromptMode | undefined) ?? "raw"};
}

export async function runSolveJob(request: SolveParams & {readonly jobId: string; readonly mode: PromptMode},
    context: SolveJobContext): Promise<SolveResult> {
    const params = resolveParams({
        method: request.method, alpha: request.alpha, blockSize: request.blockSize, mcmcSteps: request.mcmcSteps,
        maxTokens: request.maxTokens, samples: request.alternatives, seed: request.seed
    });
    let acquired: {model: LlamaLanguageModel; loadMs: number};
    try {
        acquired = await context.acquireModel(request.model, context.signal);
    } catch (error) {
        if (error instanceof InvalidInputError) throw new ModelUnavailableError(error.message);
        throw error;
    }
    const {model, loadMs} = acquired;
    const promptTokens = await buildPrompt(model, request.prompt, request.mode);
    const interval = context.progressIntervalMs ?? 250;
    let lastProgress = 0;
    const onProgress = (progress: SamplingProgress) => {
        const now = performance.now();
        if (now - lastProgress < interval) return;
        lastProgress = now;
        context.onProgress({
            jobId: request.jobId,
            chains: progress.chains.map((tokens) => model.detokenize(tokens, promptTokens)),
            block: progress.block,
            blocks: progress.blocks,
            mcmcStep: progress.mcmcStep,
            mcmcStepsPerBlock: params.method === "power" ? params.mcmcSteps : 0,
            acceptanceRate: progress.mcmcSteps > 0 ? progress.acceptedSteps / progress.mcmcSteps : null,
            proposedTokens: progress.proposedTokens
        });
    };
    const solved = await solve(model, promptTokens, params, {signal: context.signal, onProgress});
    const alternatives = solved.samples.map((s) => toAlternative(s, request.mode));
    const groups = groupAlternatives(alternatives, request.mode);
    const answerIndex = chooseAnswer(groups);
    const {method, seed, alpha, blockSize, mcmcSteps, maxTokens, samples} = params;
    return {
        jobId: request.jobId,
        method,
        params: {alpha, blockSize, mcmcSteps, maxTokens, alternatives: samples, seed, mode: request.mode},
        answer: alternatives[answerIndex]!,
        answerIndex,
        alternatives,
        groups,
        stats: {...solved.stats, loadMs, queuedMs: context.queuedMs}
    };
}

function toAlternative(sample: SolvedSample, mode: PromptMode): SolvedAlternative {
    // Character offset of each token: the pieces, read in context, add up to the text.
    const offsets: number[] = [];
    let offset = 0;
    for (const piece of sample.tokens) {
        offsets.push(offset);
        offset += piece.length;
    }
    return {
        text: sample.text,
        finishReason: sample.finishReason,
        logProb: sample.logProb,
        tokenCount: sample.tokenCount,
        finalAnswer: extractFinalAnswer(sample.text, mode),
        changedOffsets: sample.changedPositions.map((position) => offsets[position] ?? offset)
    };
}
