/**
 * The samplers' LanguageModel, and what solve needs besides, on one or more inference servers
 * holding the same model. Text comes back from the servers with each drawn token (its bytes), so
 * reading a sample needs no further requests; end tokens are the ones the servers stopped at.
 */
import {InvalidInputError} from "../protocol/errors.js";
import {type LanguageModel, type OpenBatchOptions, type SequenceBatch, sequencePrompts, type Token} from "../sampling/model.js";
import {throwIfCancelled} from "../sampling/errors.js";
import type {RunExactness, SolveModel} from "../llama/solve.js";
import {parseServerUrls} from "./address.js";
import {type DrawSettings, RemoteSequenceBatch, RunAccounting} from "./batch.js";
import {DEFAULT_TIMEOUT_MS} from "./http.js";
import {LlamaServer} from "./llama-server.js";
import {DEFAULT_RECOVERY_MS, ServerPool} from "./pool.js";
import type {ServerInfo} from "./server.js";

export interface RemoteOptions {
    /** llama-server's --api-key, sent to every server. */
    readonly apiKey?: string;
    /** Plain http to another machine (see address.ts); the flag or option that says so, for messages. */
    readonly allowPlainHttp?: boolean;
    readonly optIn?: string;
    /** Longest wait for one response. */
    readonly timeoutMs?: number;
    /** How long a job waits for a server that stopped or restarts. */
    readonly recoveryMs?: number;
    /** Likeliest tokens' probabilities asked for per drawn token (more where the tail bound needs them). */
    readonly topK?: number;
    /** Largest bound on a drawn token's log q error accepted without asking for more probabilities. */
    readonly tolerance?: number;
    /** Most probabilities asked for at one position (a whole vocabulary is a few MB of JSON). */
    readonly maxTopK?: number;
    /** Tokens per request. */
    readonly chunkTokens?: number;
    readonly signal?: AbortSignal;
}

/**
 * 32 covers a peaked next-token distribution's tail to well under the tolerance at alpha 4; the
 * tolerance is the local engine's own agreement with full-vocabulary references (1.4e-5).
 */
export const DEFAULT_DRAW_SETTINGS: DrawSettings = {topK: 32, tolerance: 1e-5, maxTopK: 131_072, chunkTokens: 32};

/** One run on a remote model: the samplers' model, with what the run cost and lost in exactness. */
export interface RemoteRun extends LanguageModel {
    readonly accounting: RunAccounting;
    exactness(): RunExactness;
}

export class RemoteLanguageModel implements SolveModel {
    /** End-of-generation tokens seen so far: every drawn end token, since a server stops at it. */
    private readonly endTokens = new Set<Token>();
    /** Each drawn token's text as bytes. */
    private readonly bytes = new Map<Token, readonly number[]>();
    /** What raw prompts start with (BOS when the model wants it). */
    private promptStart?: Token[];

    private constructor(readonly pool: ServerPool, private readonly settings: DrawSettings) {}

    /** Connects to llama-servers at `urls` (checked: see address.ts) and checks that they hold one model. */
    static async connect(urls: readonly string[], options: RemoteOptions = {}): Promise<RemoteLanguageModel> {
        const addresses = parseServerUrls(urls, options);
        const servers = addresses.map((url) => new LlamaServer(url, {apiKey: options.apiKey, timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS}));
        const pool = await ServerPool.connect(servers, {recoveryMs: options.recoveryMs ?? DEFAULT_RECOVERY_MS, signal: options.signal});
        return RemoteLanguageModel.on(pool, options);
    }

    /** A model on servers already described (any InferenceServer); unset settings take their defaults. */
    static on(pool: ServerPool, settings: Partial<DrawSettings> = {}): RemoteLanguageModel {
        const defined = Object.fromEntries(Object.entries(settings).filter(([key, value]) => key in DEFAULT_DRAW_SETTINGS && value !== undefined));
        return new RemoteLanguageModel(pool, {...DEFAULT_DRAW_SETTINGS, ...defined});
    }

    get servers(): readonly ServerInfo[] {
        return this.pool.infos;
    }

    get instruct(): boolean {
        return this.pool.infos[0]!.instruct;
    }

    /** Most tokens (prompt + generated) one sequence may hold: the smallest slot's. */
    get contextSize(): number {
        return this.pool.contextSize;
    }

    isEnd(token: Token): boolean {
        return this.endTokens.has(token);
    }

    /** Tokens of a raw prompt, BOS first when the model wants it; "" is BOS alone. */
    async tokenize(text: string): Promise<Token[]> {
        const [server] = this.pool.servers;
        this.promptStart ??= await server!.tokenize("", {addSpecial: true});
        const tokens = [...this.promptStart, ...text === "" ? [] : await server!.tokenize(text, {})];
        if (tokens.length === 0) throw new InvalidInputError("the prompt is empty and the model has no BOS token to start from");
        return tokens;
    }

    async chatPrompt(text: string): Promise<Token[]> {
        const [server] = this.pool.servers;
        // As llama-server tokenizes its own chat prompts.
        return server!.tokenize(await server!.chatPrompt(text), {addSpecial: true, parseSpecial: true});
    }

    /** Text of drawn tokens. */
    detokenize(tokens: readonly Token[]): string {
        return this.pieces(tokens).join("");
    }

    /** Each drawn token's text, read after the ones before it: a character split over tokens goes with its last. */
    pieces(tokens: readonly Token[]): string[] {
        const decoder = new TextDecoder("utf-8", {fatal: false});
        const pieces = tokens.map((token) => {
            const bytes = this.bytes.get(token);
            if (!bytes) throw new Error(`token ${token} was never drawn: its text is unknown`);
            return decoder.decode(Uint8Array.from(bytes), {stream: true});
        });
        if (pieces.length > 0) pieces[pieces.length - 1] += decoder.decode();
        return pieces;
    }

    /** Every slot of every server, in whole groups; at least one group (its sequences then share slots). */
    batchCapacity(promptTokens: number, maxTokens: number, groupSize: number): number {
        this.checkFits(promptTokens, maxTokens);
        return Math.max(1, Math.floor(this.pool.slots.length / groupSize)) * groupSize;
    }

    openBatch(prompt: readonly Token[], size: number, maxTokens: number, options: OpenBatchOptions = {}): Promise<SequenceBatch> {
        return this.openAccountedBatch(prompt, size, maxTokens, options, new RunAccounting());
    }

    /** A view for one run, which accounts for that run's exactness and requests; the rest is this model's. */
    forRun(): RemoteRun {
        const accounting = new RunAccounting();
        const ceiling = Math.min(this.settings.maxTopK, this.pool.vocabularySize);
        const {tolerance} = this.settings;
        return {
            accounting,
            isEnd: (token) => this.isEnd(token),
            batchCapacity: (promptTokens, maxTokens, groupSize) => this.batchCapacity(promptTokens, maxTokens, groupSize),
            openBatch: (prompt, size, maxTokens, options = {}) => this.openAccountedBatch(prompt, size, maxTokens, options, accounting),
            exactness: () => ({
                logQErrorBound: accounting.worstBound,
                warnings: accounting.inexactTokens === 0 ? [] : [`log q of ${accounting.inexactTokens} drawn token${accounting.inexactTokens === 1 ? "" : "s"} `
                    + `may be off by up to ${accounting.worstBound.toPrecision(2)}, more than the tolerance ${tolerance.toExponential()}: the servers report at most `
                    + `${ceiling} probabilities per position, and these next-token distributions are too flat for that`]
            })
        };
    }

    private async openAccountedBatch(prompt: readonly Token[], size: number, maxTokens: number, options: OpenBatchOptions,
        accounting: RunAccounting): Promise<SequenceBatch> {
        throwIfCancelled(options.signal);
        const prompts = sequencePrompts(prompt, size, options);
        this.checkFits(Math.max(...prompts.map((tokens) => tokens.length)), maxTokens);
        return new RemoteSequenceBatch(this.pool, prompts, size, this.settings, accounting, (token, bytes, ended) => this.learn(token, bytes, ended));
    }

    private learn(token: Token, bytes: readonly number[], ended: boolean): void {
        if (!this.bytes.has(token)) this.bytes.set(token, bytes);
        if (ended) this.endTokens.add(token);
    }

    private checkFits(promptTokens: number, maxTokens: number): void {
        const where = this.pool.servers.length === 1 ? "the server's slots hold" : "the servers' smallest slot holds";
        if (promptTokens >= this.contextSize)
            throw new InvalidInputError(`the prompt is ${promptTokens} tokens; ${where} ${this.contextSize}`);
        if (promptTokens + maxTokens > this.contextSize)
            throw new InvalidInputError(`prompt (${promptTokens} tokens) + max tokens (${maxTokens}) exceed the ${this.contextSize} tokens ${where}: `
                + "use fewer tokens, or start llama-server with a larger -c (each of its -np slots gets -c / -np)");
    }
}
