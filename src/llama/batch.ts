/**
 * A batch of llama.cpp sequences that share a prompt. Each sequence's KV cache is reused: a
 * continuation evaluates only the tokens past the longest prefix the sequence already holds, and
 * all requests advance one token per step so llama.cpp decodes them as one batch.
 *
 * One native sampling call gives one normaliser, but MH needs two per token: log q at the
 * proposal temperature (from the sampling call's `confidence`) and log p at temperature 1. For
 * tempered draws log p comes from one batched teacher-forced pass over the drawn tokens with a
 * greedy sampler: its selected token is the argmax, so the filtered logits give the max logit
 * and totalLogitWeight the normaliser, with no full-vocabulary array leaving C++.
 */
import type {ControlledEvaluateInputItem, ControlledEvaluateIndexOutput, LlamaContext, LlamaContextSequence,
    Token as LlamaToken} from "node-llama-cpp";
import {throwIfCancelled} from "../sampling/errors.js";
import type {Continuation, ContinueRequest, DrawOptions, SequenceBatch, Token} from "../sampling/model.js";

/**
 * Draws at temperature 0 (greedy) or 1 give log p with the draw; tempered draws (the power
 * proposal, low temperature) need the teacher-forced log p pass afterwards.
 */
function needsLogPPass(temperature: number): boolean {
    return temperature !== 0 && temperature !== 1;
}

/** Full vocabulary: no top-k, top-p or min-p truncation. */
const FULL_VOCABULARY = {topK: 0, topP: 1, minP: 0} as const;

interface SequenceSlot {
    readonly sequence: LlamaContextSequence;
    /** The tokens whose keys and values this sequence holds, prompt included. */
    readonly held: Token[];
}

/** One continue() call: its requests resolve together. */
interface PendingCall {
    readonly requests: readonly ContinueRequest[];
    readonly options: DrawOptions;
    readonly results: Continuation[];
    open: number;
    readonly resolve: (results: Continuation[]) => void;
    readonly reject: (error: unknown) => void;
}

interface ActiveRequest {
    readonly slot: SequenceSlot;
    readonly request: ContinueRequest;
    readonly call: PendingCall;
    readonly result: Continuation;
    /** Tokens to feed at the next step; the last one is the position to draw after. */
    feed: Token[];
}

export class LlamaSequenceBatch implements SequenceBatch {
    private readonly slots: SequenceSlot[];
    /** Calls that arrived since the last step began. */
    private arrived: PendingCall[] = [];
    private drawing: ActiveRequest[] = [];
    /** Finished requests whose log p is computed during the next step. */
    private scoring: ActiveRequest[] = [];
    private driving = false;

    /** Sequences come from one or more contexts (llama.cpp allows 256 sequences per context). */
    constructor(private readonly contexts: readonly LlamaContext[], private readonly prompt: readonly Token[], private readonly eosToken: Token) {
        this.slots = contexts.flatMap((context) =>
            Array.from({length: context.totalSequences}, () => ({sequence: context.getSequence(), held: []})));
    }

    get size(): number {
        return this.slots.length;
    }

    /**
     * Concurrent calls share token steps: every step draws one token for every open request of
     * every call, so chains that run their own loops still decode as one batch.
     */
    continue(requests: readonly ContinueRequest[], options: DrawOptions): Promise<Continuation[]> {
        return new Promise((resolve, reject) => {
            this.arrived.push({requests, options, results: [], open: requests.length, resolve, reject});
            if (!this.driving) void this.drive();
        });
    }

    async dispose(): Promise<void> {
        await Promise.all(this.contexts.map((context) => context.dispose()));
    }

    private async drive(): Promise<void> {
        this.driving = true;
        try {
            for (;;) {
                // Callers resolved by the last step post their next requests in microtasks;
                // one macrotask later they have all arrived, so the batch stays full.
                await new Promise((resolve) => setImmediate(resolve));
                await this.admitArrivals();
                if (this.drawing.length === 0 && this.scoring.length === 0) break;
                await this.step();
            }
        } catch (error) {
            for (const call of new Set([...this.arrived, ...[...this.drawing, ...this.scoring].map((item) => item.call)])) call.reject(error);
            this.arrived = [];
            this.drawing = [];
            this.scoring = [];
        } finally {
            this.driving = false;
        }
        if (this.arrived.length > 0) void this.drive();
    }

    private async admitArrivals(): Promise<void> {
        const calls = this.arrived;
        this.arrived = [];
        for (const call of calls) {
            call.results.length = call.requests.length;
            this.drawing.push(...await Promise.all(call.requests.map((request, k) => this.prepare(request, call, k))));
        }
    }

    /**
     * One token for every drawing request and the log p pass of requests that finished drawing
     * at the last step, all in one llama.cpp batch; then hand back the calls that are complete.
     */
    private async step(): Promise<void> {
        for (const item of [...this.drawing, ...this.scoring]) throwIfCancelled(item.call.options.signal);
        const scored = this.scoring;
        await Promise.all([...this.drawing.map((item) => this.drawNext(item)), ...scored.map((item) => this.scoreAtTemperatureOne(item))]);
        const drawnPerCall = new Map<PendingCall, number>();
        for (const item of this.drawing) drawnPerCall.set(item.call, (drawnPerCall.get(item.call) ?? 0) + 1);
        for (const [call, drawn] of drawnPerCall) call.options.onStep?.(drawn);
        const stillDrawing: ActiveRequest[] = [];
        const complete = [...scored];
        this.scoring = [];
        for (const item of this.drawing) {
            if (!this.finished(item)) stillDrawing.push(item);
            else if (needsLogPPass(item.call.options.temperature)) this.scoring.push(item);
            else complete.push(item);
        }
        this.drawing = stillDrawing;
        for (const item of complete) {
            if (--item.call.open === 0) item.call.resolve(item.call.results);
        }
    }

    /** Trims the sequence to the longest prefix it shares with prompt + request.prefix. */
    private async prepare(request: ContinueRequest, call: PendingCall, index: number): Promise<ActiveRequest> {
        const slot = this.slots[request.sequence]!;
        const target = [...this.prompt, ...request.prefix];
        // Logits are not kept, so the last target token is always fed again to draw after it.
        const keep = Math.min(commonPrefixLength(slot.held, target), target.length - 1);
        await this.truncate(slot, keep);
        const result: Continuation = {tokens: [], logP: [], logQ: []};
        call.results[index] = result;
        return {slot, request, call, result, feed: target.slice(keep)};
    }

    private async truncate(slot: SequenceSlot, length: number): Promise<void> {
        if (length >= slot.held.length) return;
        await slot.sequence.eraseContextTokenRanges([{start: length, end: slot.sequence.nextTokenIndex}]);
        slot.held.length = length;
    }

    private async drawNext(item: ActiveRequest): Promise<void> {
        const {temperature, random} = item.call.options;
        const options = {...FULL_VOCABULARY, temperature, seed: random.uint32()};
        const last = item.feed.length - 1;
        const input: ControlledEvaluateInputItem[] = asLlamaTokens(item.feed.slice(0, last));
        input.push([item.feed[last] as LlamaToken, {
            generateNext: temperature === 0
                // Greedy: the selected token is the argmax, so log p = -log(totalLogitWeight).
                ? {token: true, totalLogitWeight: true, options}
                : {token: true, confidence: true, options}
        }]);
        const output = await item.slot.sequence.controlledEvaluate(input);
        const next = output[last]!.next!;
        const token = next.token!;
        item.slot.held.push(...item.feed);
        item.feed = [token];
        item.result.tokens.push(token);
        if (temperature === 0) {
            item.result.logP.push(-Math.log(next.totalLogitWeight!));
            item.result.logQ.push(0);
        } else {
            const logQ = Math.log(next.confidence!);
            item.result.logQ.push(logQ);
            // At temperature 1 the proposal is the model: log p = log q.
            if (!needsLogPPass(temperature)) item.result.logP.push(logQ);
        }
    }

    private finished(item: ActiveRequest): boolean {
        const {tokens} = item.result;
        return tokens[tokens.length - 1] === this.eosToken || tokens.length >= item.request.maxTokens;
    }

    /**
     * log p of the drawn tokens, teacher-forced in one batched evaluation: re-feed the token
     * before the continuation and all drawn tokens but the last (which the cache never held).
     */
    private async scoreAtTemperatureOne(item: ActiveRequest): Promise<void> {
        const {slot, result} = item;
        const start = slot.held.length - result.tokens.length;
        const scored = slot.held.slice(start);
        await this.truncate(slot, start);
        const output = await slot.sequence.controlledEvaluate(scored.map((token, k): ControlledEvaluateInputItem => [token as LlamaToken, {
            generateNext: {
                logits: {filter: {tokens: asLlamaTokens([result.tokens[k]!]), includeSelected: true}},
                totalLogitWeight: true,
                options: {...FULL_VOCABULARY, temperature: 0}
            }
        }]));
        slot.held.push(...scored);
        result.logP.push(...output.map((entry, k) => logProbability(entry, result.tokens[k]!)));
    }
}

/** log p(token) from a greedy step: logit(token) - max logit - log sum exp(logit - max). */
function logProbability(entry: ControlledEvaluateIndexOutput | undefined, token: Token): number {
    const next = entry!.next!;
    const logits = next.logits!;
    let max = -Infinity;
    for (const value of logits.values()) max = Math.max(max, value);
    return logits.get(token as LlamaToken)! - max - Math.log(next.totalLogitWeight!);
}

/** node-llama-cpp brands its token ids; ours are plain numbers. */
function asLlamaTokens(tokens: Token[]): LlamaToken[] {
    return tokens as LlamaToken[];
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
    const length = Math.min(a.length, b.length);
    let i = 0;
    while (i < length && a[i] === b[i]) i++;
    return i;
}
