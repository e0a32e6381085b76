/**
 * The boundary between the remote engine (model.ts, batch.ts: slots, chunks, exact log q, faults)
 * and one kind of inference server (llama-server.ts). A server for power sampling must, per drawn
 * token, report its log p at temperature 1 over the full vocabulary and the top K log p, draw by
 * pure temperature sampling over the full vocabulary, take a seed per request, and take token ids
 * as the prompt. vLLM (logprobs mode "raw_logprobs", automatic prefix caching) and SGLang could
 * sit behind this interface too; see the README's "Remote engines".
 */
import type {Token} from "../sampling/model.js";
import type {HttpClient} from "./http.js";
import type {ReportedProbabilities} from "./logprobs.js";

export interface ServerInfo {
    readonly url: string;
    /** The server software and its build, e.g. "llama-server b7000 (80fb11a)". */
    readonly engine: string;
    /** What the server calls its model (a file name or an alias). */
    readonly model: string;
    /** Equal for the same weights and vocabulary: servers that share a run must agree, and a restarted one too. */
    readonly fingerprint: string;
    readonly vocabularySize: number;
    /** An instruct (chat) model by its chat template and names (see isInstructModel). */
    readonly instruct: boolean;
    /** The model's weights in bytes. */
    readonly sizeBytes: number;
    /** Sequences the server decodes in parallel, each with its own cache (llama-server -np). */
    readonly slots: number;
    /** Most tokens (prompt + generated) one slot holds. */
    readonly contextSize: number;
}

export interface DrawnToken {
    readonly token: Token;
    /** The token's text as UTF-8 bytes (a piece may hold part of a character); null when the server did not say. */
    readonly bytes: readonly number[] | null;
    /** null when the server reported none for this token (see llama-server.ts): a probe reads them. */
    readonly probabilities: ReportedProbabilities | null;
}

export interface DrawParams {
    /** Prompt and prefix: the tokens to continue. */
    readonly context: readonly Token[];
    readonly maxTokens: number;
    /** 0 greedy, else pure temperature sampling over the full vocabulary. */
    readonly temperature: number;
    readonly seed: number;
    /** Likeliest tokens to report the probabilities of, per drawn token. */
    readonly topK: number;
    /** The server's cache (slot) to continue in, so that the context's prefix is reused. */
    readonly slot: number;
    readonly signal: AbortSignal;
}

export interface DrawOutcome {
    readonly tokens: DrawnToken[];
    /** Drawing stopped at an end-of-generation token: the last one. */
    readonly ended: boolean;
    /** The server's own time for the request (evaluating the context, drawing), when it says. */
    readonly serverMs: number | null;
}

export interface ProbeParams {
    readonly context: readonly Token[];
    /** The token after `context` whose log p is wanted. */
    readonly token: Token;
    readonly topK: number;
    readonly slot: number;
    readonly signal: AbortSignal;
}

/** The K likeliest tokens at a position, and the wanted token's log p and text when it is among them. */
export interface ProbeResult {
    /** log p at temperature 1 of the K likeliest tokens, likeliest first. */
    readonly topLogP: readonly number[];
    readonly logP: number | null;
    readonly bytes: readonly number[] | null;
}

export interface TokenizeOptions {
    /** Add what the model puts first (BOS). */
    readonly addSpecial?: boolean;
    /** Read special tokens' text (<|im_start|>, </s>) as those tokens. */
    readonly parseSpecial?: boolean;
}

export interface InferenceServer {
    readonly http: HttpClient;
    /** What the server holds; throws RemoteServerError when it cannot serve power sampling. */
    describe(signal?: AbortSignal): Promise<ServerInfo>;
    tokenize(text: string, options: TokenizeOptions, signal?: AbortSignal): Promise<Token[]>;
    /** One user turn in the model's chat template, ready for the model's answer, as text. */
    chatPrompt(text: string, signal?: AbortSignal): Promise<string>;
    draw(params: DrawParams): Promise<DrawOutcome>;
    /** The probabilities at the position after `context`. */
    probe(params: ProbeParams): Promise<ProbeResult>;
}
