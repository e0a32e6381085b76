/**
 * A batch of sequences on remote servers. Each sequence keeps one server slot, so the server
 * reuses the cache of the context it sent last and evaluates only what is new; requests of
 * sequences in step run at once on separate slots, and the server decodes them as one batch.
 * A continuation is drawn in requests of a few tokens (progress, cancel and timeouts act between
 * them), each with its own seed from the sequence's random stream.
 *
 * copy() sends nothing: the target's next request carries its whole new context, and the server
 * evaluates what its slot does not hold in one batched prompt pass. Slot save/restore would need
 * the server's --slot-save-path and a file round trip for each copy, and is slower for the short
 * prefixes SMC copies (see the README).
 */
import {setMaxListeners} from "node:events";
import {CancelledError} from "../sampling/errors.js";
import type {Continuation, ContinueRequest, DrawOptions, SequenceBatch, Token} from "../sampling/model.js";
import {RemoteServerError} from "./http.js";
import {proposalLogProb} from "./logprobs.js";
import type {ServerPool} from "./pool.js";
import type {DrawnToken} from "./server.js";

export interface DrawSettings {
    /** Likeliest tokens reported per drawn token. */
    readonly topK: number;
    /** Largest bound on a token's log q error taken without asking the server for more probabilities. */
    readonly tolerance: number;
    /** Most probabilities asked for at one position. */
    readonly maxTopK: number;
    /** Tokens per request. */
    readonly chunkTokens: number;
}

/** What a run lost in exactness, and where its time went, accumulated over its batches. */
export class RunAccounting {
    /** Largest certified bound on a drawn token's log q error. */
    worstBound = 0;
    /** Drawn tokens whose bound stayed above the tolerance with the most probabilities the servers were asked for. */
    inexactTokens = 0;
    /** Draw requests, and the time the servers said they spent on them. */
    requests = 0;
    serverMs = 0;
    /** Requests that read a position's probabilities again (see RemoteSequenceBatch.readToken). */
    probes = 0;
}

export class RemoteSequenceBatch implements SequenceBatch {
    /** Aborted by the first failure: the other requests stop, as the local engine's do. */
    private readonly failure = new AbortController();
    private broken?: unknown;
    private joined?: {readonly caller: AbortSignal | undefined; readonly signal: AbortSignal};

    /** Each sequence's prompt: the batch's, or its group's (OpenBatchOptions.groupPrompts). */
    constructor(private readonly pool: ServerPool, private readonly prompts: readonly (readonly Token[])[], readonly size: number,
        private readonly settings: DrawSettings, private readonly accounting: RunAccounting,
        /** Called with each drawn token, so the model can read its text and learn its end tokens. */
        private readonly onDrawn: (token: Token, bytes: readonly number[], ended: boolean) => void) {}

    async continue(requests: readonly ContinueRequest[], options: DrawOptions): Promise<Continuation[]> {
        if (this.broken !== undefined) throw this.broken;
        const signal = this.signalFor(options.signal);
        try {
            return await Promise.all(requests.map((request) => this.draw(request, options, signal)));
        } catch (error) {
            if (options.signal?.aborted) throw new CancelledError();
            if (this.broken === undefined) {
                this.broken = error;
                this.failure.abort();
            }
            throw this.broken;
        }
    }

    /**
     * The caller's signal (one per run) joined with the batch's failure, made once: every request
     * in flight listens to it, so it takes more than the default ten listeners.
     */
    private signalFor(caller: AbortSignal | undefined): AbortSignal {
        if (this.joined && this.joined.caller === caller) return this.joined.signal;
        const signal = caller ? AbortSignal.any([caller, this.failure.signal]) : this.failure.signal;
        setMaxListeners(0, signal);
        this.joined = {caller, signal};
        return signal;
    }

    /** Nothing to send: the target's next request carries its context (see the file comment). */
    async copy(): Promise<void> {}

    async dispose(): Promise<void> {
        this.failure.abort();
    }

    private async draw(request: ContinueRequest, options: DrawOptions, signal: AbortSignal): Promise<Continuation> {
        const {server, slot} = this.pool.slotOf(request.sequence);
        const {temperature} = options;
        const result: Continuation = {tokens: [], logP: [], logQ: []};
        const context = [...this.prompts[request.sequence]!, ...request.prefix];
        while (result.tokens.length < request.maxTokens) {
            const maxTokens = Math.min(this.settings.chunkTokens, request.maxTokens - result.tokens.length);
            const seed = request.random.uint32();
            const outcome = await this.pool.call(server,
                (target) => target.draw({context, maxTokens, temperature, seed, topK: this.settings.topK, slot, signal}), signal);
            this.accounting.requests++;
            this.accounting.serverMs += outcome.serverMs ?? 0;
            const name = this.pool.servers[server]!.http.name;
            if (outcome.tokens.length === 0 || outcome.tokens.length > maxTokens || (!outcome.ended && outcome.tokens.length < maxTokens))
                throw new RemoteServerError(`${name} returned ${outcome.tokens.length} tokens for a request of ${maxTokens} that did not end: `
                    + "its context per slot may be smaller than it reported; restart it with a larger -c");
            for (const [k, drawn] of outcome.tokens.entries()) {
                const {logP, logQ, bytes} = await this.readToken(server, slot, context, drawn, temperature, signal);
                context.push(drawn.token);
                result.tokens.push(drawn.token);
                result.logP.push(logP);
                result.logQ.push(logQ);
                this.onDrawn(drawn.token, bytes, outcome.ended && k === outcome.tokens.length - 1);
            }
            options.onStep?.(outcome.tokens.length);
            if (outcome.ended) break;
        }
        return result;
    }

    /**
     * log p and log q of a drawn token (the next one after `context`), and its text. Where the
     * server reported no probabilities, or too few for the tail bound to stay within the
     * tolerance, it is probed at that position for more (16 times more each time): up to maxTopK
     * for the bound, up to the whole vocabulary for a token's own log p.
     */
    private async readToken(server: number, slot: number, context: readonly Token[], drawn: DrawnToken, temperature: number,
        signal: AbortSignal): Promise<{logP: number; logQ: number; bytes: readonly number[]}> {
        const vocabulary = this.pool.vocabularySize;
        const limit = Math.min(this.settings.maxTopK, vocabulary);
        let logP = drawn.probabilities?.logP ?? null;
        let topLogP = drawn.probabilities?.topLogP ?? null;
        let bytes = drawn.bytes;
        // What was asked for last (a server may send fewer: a small vocabulary).
        let asked = topLogP === null ? 0 : this.settings.topK;
        for (;;) {
            const known = logP !== null && topLogP !== null && bytes !== null;
            if (known) {
                const {logQ, bound} = proposalLogProb({logP: logP!, topLogP: topLogP!}, temperature, vocabulary);
                if (bound <= this.settings.tolerance || asked >= limit) {
                    this.accounting.worstBound = Math.max(this.accounting.worstBound, bound);
                    if (bound > this.settings.tolerance) this.accounting.inexactTokens++;
                    return {logP: logP!, logQ, bytes: bytes!};
                }
            } else if (asked >= vocabulary) {
                throw new RemoteServerError(`${this.pool.servers[server]!.http.name} did not report token ${drawn.token} among all ${asked} tokens' probabilities`);
            }
            const topK = asked === 0 ? this.settings.topK : Math.min(known ? limit : vocabulary, asked * 16);
            asked = topK;
            this.accounting.probes++;
            const probed = await this.pool.call(server, (target) => target.probe({context, token: drawn.token, topK, slot, signal}), signal);
            topLogP = probed.topLogP;
            logP ??= probed.logP;
            bytes ??= probed.bytes;
        }
    }
}
