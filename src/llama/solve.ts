/**
 * One solve, as the command line and the backend run it, on any engine (node-llama-cpp in this
 * process, or inference servers: src/remote): text in (with its prompt mode), samples as text with
 * their final answers, groups, SMC runs and honest statistics out.
 */
import {extractFinalAnswer} from "../answers/extract.js";
import {answerKey, chooseAnswer, groupAlternatives} from "../answers/group.js";
import {checkPrompt, type PromptMode, type ResolvedPromptMode, type SamplingParams} from "../protocol/params.js";
import type {SmcParticle, SmcRun, SolvedSample, SolveProgress, SolveResult} from "../protocol/results.js";
import type {LanguageModel, Token} from "../sampling/model.js";
import {type Particle, type Sample, sampleEach, type SamplingProgress, type SmcRunResult} from "../sampling/run.js";
import {buildPrompt, guessPromptMode, type PromptTokenizer} from "./prompts.js";

/** What an engine gives solve: the samplers' model, its tokenizer and chat template, and text back. */
export interface SolveModel extends LanguageModel, PromptTokenizer {
    /** Most tokens (prompt + generated) one sequence may hold. */
    readonly contextSize: number;
    /** Text of `tokens`; `preceding` (e.g. the prompt) decides a leading space as the tokenizer would. */
    detokenize(tokens: readonly Token[], preceding?: readonly Token[]): string;
    /** The text of each token, read after the tokens before it; together they are the text. */
    pieces(tokens: readonly Token[], preceding?: readonly Token[]): string[];
    /** A view of the model for one run that accounts for what the run lost in exactness (remote engines). */
    forRun?(): LanguageModel & {exactness(): RunExactness};
}

/** What a run on a remote engine may have lost in exactness against the local engine. */
export interface RunExactness {
    /** Largest certified bound on a drawn token's log q error (0: exact). */
    readonly logQErrorBound: number;
    /** One line each where the run may be less exact than the local engine's; empty when it is not. */
    readonly warnings: string[];
}

export interface SolveOptions {
    readonly signal?: AbortSignal;
    readonly onProgress?: (progress: SolveProgress) => void;
    /** Least time between progress reports (0: every model step). */
    readonly progressIntervalMs?: number;
    /** The document's language, which the "auto" prompt mode reads (VS Code's languageId). */
    readonly languageId?: string;
    /** What the caller spent before sampling, reported in the statistics. */
    readonly loadMs?: number;
    readonly queuedMs?: number;
}

export async function solve(model: SolveModel, prompt: string, mode: PromptMode, params: SamplingParams,
    options: SolveOptions = {}): Promise<SolveResult> {
    const [result] = await solveEach(model, [{prompt, seed: params.seed}], mode, params, options);
    return result!;
}

/** One prompt of a solveEach call and the seed of its samples. */
export interface SolveJob {
    readonly prompt: string;
    readonly seed: number;
}

/**
 * Solves several prompts with the same parameters, their samples decoded in the same batch (see
 * sampleEach); each result is what solve gives for that prompt and seed, except that its wallMs
 * (and, on a server, its log q bound) is the whole call's and progress texts are read after the
 * first prompt. Mode "auto" is decided
 * per prompt.
 */
export async function solveEach(model: SolveModel, jobs: readonly SolveJob[], mode: PromptMode, params: Omit<SamplingParams, "seed">,
    options: SolveOptions = {}): Promise<SolveResult[]> {
    const modes: ResolvedPromptMode[] = [];
    const prompts: Token[][] = [];
    for (const job of jobs) {
        checkPrompt(job.prompt);
        const resolved = mode === "auto" ? guessPromptMode(job.prompt, {languageId: options.languageId, instruct: model.instruct}) : mode;
        modes.push(resolved);
        prompts.push(await buildPrompt(model, job.prompt, resolved));
    }
    const start = performance.now();
    const {onProgress} = options;
    const run = model.forRun?.();
    const results = await sampleEach(run ?? model, prompts.map((prompt, i) => ({prompt, seed: jobs[i]!.seed})), params, {
        signal: options.signal,
        progressIntervalMs: options.progressIntervalMs,
        onProgress: onProgress && ((progress) => onProgress(toSolveProgress(model, prompts[0]!, progress)))
    });
    const wallMs = performance.now() - start;
    const {method, ...rest} = params;
    const exactness = run?.exactness();
    return results.map((result, i) => {
        const promptTokens = prompts[i]!;
        const resolved = modes[i]!;
        const samples = result.samples.map((s) => toSolvedSample(model, promptTokens, s, resolved));
        const groups = groupAlternatives(samples, resolved);
        return {
            method,
            params: {...rest, seed: jobs[i]!.seed, mode: resolved},
            samples,
            answerIndex: chooseAnswer(groups),
            groups,
            smc: result.smc?.map((run) => toSmcRun(model, promptTokens, run, resolved)),
            stats: {
                ...result.stats, wallMs, loadMs: options.loadMs ?? 0, queuedMs: options.queuedMs ?? 0, promptTokens: promptTokens.length,
                ...exactness && {logQErrorBound: exactness.logQErrorBound}
            },
            ...exactness && exactness.warnings.length > 0 && {warnings: exactness.warnings}
        };
    });
}

function toSolveProgress(model: SolveModel, promptTokens: readonly Token[], progress: SamplingProgress): SolveProgress {
    const {chains, ...rest} = progress;
    return {...rest, texts: chains.map((tokens) => model.detokenize(tokens, promptTokens))};
}

function toSolvedSample(model: SolveModel, promptTokens: readonly Token[], sampled: Sample, mode: ResolvedPromptMode): SolvedSample {
    const text = model.detokenize(sampled.tokens, promptTokens);
    const pieces = model.pieces(sampled.tokens, promptTokens);
    // Character offset of each token: the pieces, read in context, add up to the text.
    const offsets: number[] = [];
    let offset = 0;
    for (const piece of pieces) {
        offsets.push(offset);
        offset += piece.length;
    }
    return {
        text,
        tokens: pieces,
        finishReason: sampled.finishReason,
        logProb: sampled.logProb,
        tokenCount: sampled.tokens.length,
        finalAnswer: extractFinalAnswer(text, mode),
        changedOffsets: sampled.changedPositions.map((position) => offsets[position] ?? offset)
    };
}

/** The run's distinct completions with their summed weights, heaviest first. */
function toSmcRun(model: SolveModel, promptTokens: readonly Token[], run: SmcRunResult, mode: ResolvedPromptMode): SmcRun {
    const distinct = new Map<string, {first: Particle; copies: number; weight: number}>();
    for (const particle of run.particles) {
        const key = `${particle.finishReason}:${particle.tokens.join(",")}`;
        const entry = distinct.get(key);
        if (entry) {
            entry.copies++;
            entry.weight += particle.weight;
        } else {
            distinct.set(key, {first: particle, copies: 1, weight: particle.weight});
        }
    }
    const drawnKey = `${run.particles[run.drawn]!.finishReason}:${run.particles[run.drawn]!.tokens.join(",")}`;
    const entries = [...distinct].sort(([, a], [, b]) => b.weight - a.weight);
    const described = entries.map(([, {first, copies, weight}]) => {
        const text = model.detokenize(first.tokens, promptTokens);
        const finalAnswer = extractFinalAnswer(text, mode);
        return {first, copies, weight, text, finalAnswer, key: finalAnswer === null ? "" : answerKey(finalAnswer, mode)};
    });
    const weightOfAnswer = new Map<string, number>();
    for (const {key, weight} of described) weightOfAnswer.set(key, (weightOfAnswer.get(key) ?? 0) + weight);
    const particles = described.map(({first, copies, weight, text, finalAnswer, key}): SmcParticle => ({
        origin: first.origin, copies, weight, text, tokenCount: first.tokens.length, finishReason: first.finishReason,
        logProb: first.logProb, finalAnswer, answerWeight: weightOfAnswer.get(key)!
    }));
    return {particles, drawn: entries.findIndex(([key]) => key === drawnKey), ess: run.ess, logNormaliser: run.logNormaliser};
}
