/**
 * llama.cpp's llama-server behind the InferenceServer boundary. What it returns, as measured (see
 * test/integration/remote-llama-server.test.ts):
 * - /completion with n_probs K and post_sampling_probs off reports, per drawn token, its log p at
 *   temperature 1 from a softmax over the full vocabulary (whatever the draw temperature), and the
 *   K likeliest tokens' log p; "samplers": ["temperature"] leaves pure temperature sampling over
 *   the full vocabulary (the draw then uses the dist sampler, seeded per request).
 * - A token that ends inside a UTF-8 character (a byte-fallback piece) gets no probabilities,
 *   and is not streamed at all: such a request is read again unstreamed, which lists every
 *   token, and the probabilities of its tokens are read by probes.
 * - A probe forces a token whose text is complete (an end token) with a logit bias, and reads the
 *   K likeliest tokens at that position; the wanted token's log p is among them for a large
 *   enough K (the raw logits, before the bias).
 * - The server parses what it generated as chat output even for /completion, and fails the
 *   request (HTTP 500, "does not match the expected Content-only format") when that text is not
 *   valid UTF-8, which a model drawing byte tokens at random produces; a chat parser that
 *   accepts anything (one epsilon rule) stops that, and nothing here reads the parsed text.
 * - The server stops a request whose connection closes (cancel), and keeps each slot's cache
 *   for the next request with id_slot and cache_prompt.
 */
import path from "node:path";
import {isInstructModel} from "../llama/prompts.js";
import type {Token} from "../sampling/model.js";
import {HttpClient, RemoteServerError} from "./http.js";
import type {DrawnToken, DrawOutcome, DrawParams, InferenceServer, ProbeParams, ProbeResult, ServerInfo, TokenizeOptions} from "./server.js";

export interface LlamaServerOptions {
    readonly apiKey?: string;
    readonly timeoutMs?: number;
}

/** Every sampler stage but the temperature off, in case a server ignores `samplers`. */
const PURE_TEMPERATURE = {
    samplers: ["temperature"], top_k: 0, top_p: 1, min_p: 0, typical_p: 1, top_n_sigma: -1, xtc_probability: 0, dynatemp_range: 0,
    repeat_penalty: 1, presence_penalty: 0, frequency_penalty: 0, dry_multiplier: 0, mirostat: 0, ignore_eos: false, stop: [], n_indent: 0,
    post_sampling_probs: false, return_tokens: true, cache_prompt: true, stream: false,
    chat_parser: JSON.stringify({parsers: [{type: "epsilon"}], rules: {}, root: 0})
} as const;

/** What a completion answer is trimmed to: the probabilities are the bulk. */
const RESPONSE_FIELDS = ["tokens", "completion_probabilities", "stop_type", "timings", "tokens_predicted"];

/** Logit added to force a probe's token: any real logit gap is far smaller. */
const FORCING_BIAS = 1e4;

export class LlamaServer implements InferenceServer {
    readonly http: HttpClient;
    /** A token with complete text that a probe can force (EOS, else BOS). */
    private probeToken?: Token;

    constructor(url: string, options: LlamaServerOptions = {}) {
        this.http = new HttpClient(url, {...options, name: `llama-server at ${url}`});
    }

    async describe(signal?: AbortSignal): Promise<ServerInfo> {
        // Both asked at once; a failure is reported for /props first, so that one fault gives one message.
        const [props, models] = (await Promise.allSettled([this.http.get("/props", signal), this.http.get("/v1/models", signal)])).map((outcome) => {
            if (outcome.status === "rejected") throw outcome.reason;
            return outcome.value;
        });
        const settings = field(props, "default_generation_settings", "object", this.http.name);
        const contextSize = field(settings, "n_ctx", "number", this.http.name);
        const slots = field(props, "total_slots", "number", this.http.name);
        const modelPath = field(props, "model_path", "string", this.http.name);
        const build = typeof (props as {build_info?: unknown}).build_info === "string" ? (props as {build_info: string}).build_info : "unknown build";
        const data = field(models, "data", "array", this.http.name) as unknown[];
        const meta = field(data[0] ?? {}, "meta", "object", this.http.name);
        const vocabularySize = field(meta, "n_vocab", "number", this.http.name);
        const sizeBytes = field(meta, "size", "number", this.http.name);
        const fingerprint = ["n_vocab", "n_params", "size", "n_embd", "n_ctx_train"].map((key) => String((meta as Record<string, unknown>)[key])).join(":");
        if (this.probeToken === undefined) {
            this.probeToken = await this.findProbeToken(props, signal);
            // What power sampling needs, checked once: a probe reads probabilities as draws do.
            await this.probe({context: [this.probeToken], token: this.probeToken, topK: 2, slot: 0, signal: signal ?? new AbortController().signal});
        }
        const model = path.basename(modelPath);
        // The server falls back to a generic template for a model without one, so the names decide.
        const alias = (props as {model_alias?: unknown}).model_alias;
        const instruct = isInstructModel((props as {chat_template?: unknown}).chat_template, [model, typeof alias === "string" ? alias : ""]);
        return {url: this.http.url, engine: `llama-server ${build}`, model, instruct, fingerprint, vocabularySize, sizeBytes, slots, contextSize};
    }

    async tokenize(text: string, options: TokenizeOptions, signal?: AbortSignal): Promise<Token[]> {
        const answer = await this.http.post("/tokenize", {content: text, add_special: options.addSpecial ?? false, parse_special: options.parseSpecial ?? false}, signal);
        return tokenList(field(answer, "tokens", "array", this.http.name), this.http.name);
    }

    async chatPrompt(text: string, signal?: AbortSignal): Promise<string> {
        const answer = await this.http.post("/apply-template", {messages: [{role: "user", content: text}]}, signal);
        return field(answer, "prompt", "string", this.http.name);
    }

    /**
     * Streamed, so that closing the connection stops the server at once (it finishes an
     * unstreamed request whatever happens to the connection: measured). A token inside a UTF-8
     * character is not streamed at all; then the same request, same seed, is read again whole.
     */
    async draw(params: DrawParams): Promise<DrawOutcome> {
        const name = this.http.name;
        const body = {
            ...PURE_TEMPERATURE, prompt: params.context, n_predict: params.maxTokens, temperature: params.temperature, seed: params.seed,
            n_probs: params.topK, id_slot: params.slot, response_fields: RESPONSE_FIELDS
        };
        const entries: Entry[] = [];
        let final: unknown;
        await this.http.stream("/completion", {...body, stream: true, return_progress: true}, (event) => {
            // The last event carries the stop; prompt progress events carry no probabilities.
            if (typeof event === "object" && event !== null && "stop_type" in event) final = event;
            else if (typeof event === "object" && event !== null && "completion_probabilities" in event) entries.push(...this.entries(event));
        }, params.signal);
        if (final === undefined) throw new RemoteServerError(`${name} ended its answer to /completion early: it stopped or restarted`, true);
        if (entries.length < field(final, "tokens_predicted", "number", name)) return this.outcome(await this.http.post("/completion", body, params.signal));
        return this.outcome({...final, tokens: entries.map((entry) => entry.id), entries});
    }

    async probe(params: ProbeParams): Promise<ProbeResult> {
        if (this.probeToken === undefined) await this.describe(params.signal);
        const answer = await this.http.post("/completion", {
            ...PURE_TEMPERATURE, prompt: params.context, n_predict: 1, temperature: 0, n_probs: params.topK, id_slot: params.slot,
            logit_bias: [[this.probeToken!, FORCING_BIAS]], response_fields: RESPONSE_FIELDS
        }, params.signal);
        const [entry] = this.entries(answer);
        if (!entry) throw missing(this.http.name, "completion_probabilities");
        // Only a probe needs the top tokens' ids and text; draws read their log p alone.
        const name = this.http.name;
        const wanted = entry.topItems.findIndex((item) => field(item, "id", "number", name) === params.token);
        return {
            topLogP: entry.top,
            logP: wanted === -1 ? null : entry.top[wanted]!,
            bytes: wanted === -1 ? null : byteList(field(entry.topItems[wanted], "bytes", "array", name))
        };
    }

    /** A draw from a whole answer (tokens, completion_probabilities, stop_type, timings), or a stream's events gathered as one. */
    private outcome(answer: unknown): DrawOutcome {
        const tokens = tokenList(field(answer, "tokens", "array", this.http.name), this.http.name);
        const entries = (answer as {entries?: Entry[]}).entries ?? this.entries(answer);
        const stop = field(answer, "stop_type", "string", this.http.name);
        const owner = entryOwners(tokens, entries.map((entry) => entry.id));
        const drawn: DrawnToken[] = tokens.map((token, i) => {
            const entry = owner[i] === undefined ? undefined : entries[owner[i]!]!;
            // A token's text does not depend on where it is: another entry of the same token has it.
            return entry
                ? {token, bytes: entry.bytes, probabilities: {logP: entry.logP, topLogP: entry.top}}
                : {token, bytes: entries.find((other) => other.id === token)?.bytes ?? null, probabilities: null};
        });
        const timings = (answer as {timings?: {prompt_ms?: unknown; predicted_ms?: unknown}}).timings;
        const serverMs = typeof timings?.prompt_ms === "number" && typeof timings.predicted_ms === "number" ? timings.prompt_ms + timings.predicted_ms : null;
        return {tokens: drawn, ended: stop === "eos", serverMs};
    }

    /** The per-token entries of a completion answer or event, checked. */
    private entries(answer: unknown): Entry[] {
        const name = this.http.name;
        const list = (answer as {completion_probabilities?: unknown}).completion_probabilities ?? [];
        if (!Array.isArray(list)) throw missing(name, "completion_probabilities");
        return list.map((raw) => {
            const top = field(raw, "top_logprobs", "array", name) as unknown[];
            if (top.length === 0) throw missing(name, "top_logprobs");
            return {
                id: field(raw, "id", "number", name),
                bytes: byteList(field(raw, "bytes", "array", name)),
                logP: logProbOf(raw, name),
                top: top.map((item) => logProbOf(item, name)),
                topItems: top
            };
        });
    }

    /** EOS (or BOS): special tokens whose text is empty, so never inside a character. */
    private async findProbeToken(props: unknown, signal?: AbortSignal): Promise<Token> {
        for (const key of ["eos_token", "bos_token"]) {
            const text = (props as Record<string, unknown>)[key];
            if (typeof text !== "string" || text === "") continue;
            const tokens = await this.tokenize(text, {parseSpecial: true}, signal);
            if (tokens.length === 1) return tokens[0]!;
        }
        throw new RemoteServerError(`${this.http.name} names no end or start token (/props eos_token, bos_token): a probe needs one`);
    }
}

/**
 * Which entry is whose, where that is certain: the entries are the tokens in order with some left
 * out (those inside a character). An entry sits at the same token in the leftmost and the
 * rightmost matching of the entries' ids into the tokens exactly when every matching agrees;
 * tokens left without an entry (left out, or where repeated ids leave it open) are probed.
 */
export function entryOwners(tokens: readonly Token[], ids: readonly Token[]): (number | undefined)[] {
    const leftmost: number[] = [];
    for (let i = 0, j = 0; j < ids.length && i < tokens.length; i++) if (tokens[i] === ids[j]) leftmost[j++] = i;
    const rightmost: number[] = [];
    for (let i = tokens.length - 1, j = ids.length - 1; j >= 0 && i >= 0; i--) if (tokens[i] === ids[j]) rightmost[j--] = i;
    const owner: (number | undefined)[] = tokens.map(() => undefined);
    // Entries that match no token at all (a server that reports something else): no owner anywhere.
    if (leftmost.length !== ids.length) return owner;
    ids.forEach((_, j) => { if (leftmost[j] === rightmost[j]) owner[leftmost[j]!] = j; });
    return owner;
}

/** One drawn token as llama-server reports it, with the K likeliest at its position. */
interface Entry {
    readonly id: Token;
    readonly bytes: number[];
    readonly logP: number;
    /** log p of the K likeliest tokens. */
    readonly top: number[];
    /** The K likeliest as the server sent them (id, bytes), read only by a probe. */
    readonly topItems: readonly unknown[];
}

/** `object[key]`, of the given JSON type, or an error naming what the server left out. */
function field(object: unknown, key: string, type: "object", name: string): object;
function field(object: unknown, key: string, type: "array", name: string): unknown[];
function field(object: unknown, key: string, type: "number", name: string): number;
function field(object: unknown, key: string, type: "string", name: string): string;
function field(object: unknown, key: string, type: "object" | "array" | "number" | "string", name: string): unknown {
    const value = typeof object === "object" && object !== null ? (object as Record<string, unknown>)[key] : undefined;
    const ok = type === "array" ? Array.isArray(value)
        : type === "object" ? typeof value === "object" && value !== null && !Array.isArray(value)
            : typeof value === type && (type !== "number" || Number.isFinite(value));
    if (!ok) throw missing(name, key);
    return value;
}

function missing(name: string, key: string): RemoteServerError {
    return new RemoteServerError(`${name} answered without "${key}", which power sampling needs: it is not a llama-server, or one too old; `
        + "use the llama-server that npm run build:llama-server builds, or a newer one");
}

/** log p of an entry; llama-server writes a probability of 0 as the lowest float. */
function logProbOf(entry: unknown, name: string): number {
    return field(entry, "logprob", "number", name);
}

function tokenList(values: unknown[], name: string): Token[] {
    if (!values.every((value) => Number.isInteger(value) && (value as number) >= 0)) throw missing(name, "tokens");
    return values as Token[];
}

function byteList(values: unknown[]): number[] {
    return values.filter((value): value is number => Number.isInteger(value));
}
