/**
 * A batch of llama.cpp sequences that share a prompt, or one prompt per group of sequences. Each
 * sequence's KV cache is reused: a continuation evaluates only the tokens past the longest prefix
 * the sequence already holds, and all requests advance one token per step so llama.cpp decodes
 * them as one batch. Each drawn token's log p and log q come from the logits of that one decode
 * (see internals.ts).
 */
import type {LlamaContext, LlamaContextSequence, LlamaModel, Token as LlamaToken} from "node-llama-cpp";
import {throwIfCancelled} from "../sampling/errors.js";
import type {Continuation, ContinueRequest, DrawOptions, SequenceBatch, Token} from "../sampling/model.js";
import {checkInternals, copyPrefix, evaluateThenSample, TokenSamplerPool} from "./internals.js";

/** Native samplers per batch: more than the draws libuv's threads run at once, few enough to stay small. */
const SAMPLERS = 8;

interface SequenceSlot {
    /** Position in `slots`: contexts in order, and within a context llama.cpp's sequence ids in order. */
    readonly index: number;
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

/** A copy() waiting for the moment between two steps. */
interface PendingCopy {
    readonly from: number;
    readonly to: number;
    readonly resolve: () => void;
    readonly reject: (error: unknown) => void;
}

interface ActiveRequest {
    slot: SequenceSlot;
    readonly request: ContinueRequest;
    readonly call: PendingCall;
    readonly result: Continuation;
    /** Tokens to feed at the next step; the last one is the position to draw after. */
    feed: Token[];
}

export class LlamaSequenceBatch implements SequenceBatch {
    private readonly slots: SequenceSlot[];
    private readonly samplers: TokenSamplerPool;
    /** The slot each of the caller's sequences lives in; they move to keep active slots consecutive. */
    private readonly slotOf: number[];
    /** Calls that arrived since the last step began. */
    private arrived: PendingCall[] = [];
    private copies: PendingCopy[] = [];
    private drawing: ActiveRequest[] = [];
    private driving = false;
    private promptShared = false;
    /** Tokens fed to llama.cpp so far: prompts, drawn tokens and any evaluated again. */
    evaluatedTokens = 0;

    /**
     * Sequences come from one or more contexts (llama.cpp allows 256 sequences per context);
     * `prompts[s]` is what the caller's sequence s starts with (one array shared by the sequences of a prompt).
     */
    constructor(model: LlamaModel, private readonly contexts: readonly LlamaContext[], private readonly prompts: readonly (readonly Token[])[],
        private readonly isEnd: (token: Token) => boolean) {
        const sequences = contexts.flatMap((context) => Array.from({length: context.totalSequences}, () => context.getSequence()));
        checkInternals(model, sequences[0]!);
        this.slots = sequences.map((sequence, index) => ({index, sequence, held: []}));
        this.samplers = new TokenSamplerPool(model, SAMPLERS);
        this.slotOf = this.slots.map((slot) => slot.index);
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

    /** Runs between two steps, so no decode is in flight on either sequence. */
    copy(from: number, to: number): Promise<void> {
        return new Promise((resolve, reject) => {
            this.copies.push({from, to, resolve, reject});
            if (!this.driving) void this.drive();
        });
    }

    async dispose(): Promise<void> {
        this.samplers.dispose();
        await Promise.all(this.contexts.map((context) => context.dispose()));
    }

    private async drive(): Promise<void> {
        this.driving = true;
        try {
            if (!this.promptShared) await this.sharePrompt();
            for (;;) {
                // Callers resolved by the last step post their next requests in microtasks;
                // one macrotask later they have all arrived, so the batch stays full.
                await new Promise((resolve) => setImmediate(resolve));
                // Callers that waited for copies (SMC runs that resampled) post theirs one macrotask
                // later: without them the step would leave gaps, and closing those (packSlots) hands
                // their slots to others, so they would evaluate prompt and text again.
                if (await this.runCopies()) await new Promise((resolve) => setImmediate(resolve));
                await this.admitArrivals();
                if (this.drawing.length === 0) break;
                await this.step();
            }
        } catch (error) {
            for (const call of new Set([...this.arrived, ...this.drawing.map((item) => item.call)])) call.reject(error);
            for (const copy of this.copies) copy.reject(error);
            this.arrived = [];
            this.drawing = [];
            this.copies = [];
        } finally {
            this.driving = false;
        }
        if (this.arrived.length > 0 || this.copies.length > 0) void this.drive();
    }

    /**
     * Within a context a copy is a cache copy (well under a millisecond); across contexts the
     * target forgets what it held and re-evaluates the prefix when next continued. Says whether
     * there were any.
     */
    private async runCopies(): Promise<boolean> {
        const any = this.copies.length > 0;
        // Left in this.copies until done, so that a failure rejects the rest (see drive).
        while (this.copies.length > 0) {
            const {from, to, resolve} = this.copies[0]!;
            const source = this.slots[this.slotOf[from]!]!;
            const target = this.slots[this.slotOf[to]!]!;
            if (source.sequence.context === target.sequence.context) {
                await copyPrefix(target.sequence, source.sequence, source.held.length);
                target.held.splice(0, target.held.length, ...source.held);
            } else {
                await target.sequence.eraseContextTokenRanges([{start: 0, end: target.sequence.nextTokenIndex}]);
                target.held.length = 0;
            }
            this.copies.shift();
            resolve();
        }
        return any;
    }

    /**
     * Evaluates each prompt once per context and copies its cache to the other sequences that
     * start with it, instead of once per sequence. The last prompt token is left out: it is fed
     * to draw after it. Runs before any move, so slot s holds the caller's sequence s.
     */
    private async sharePrompt(): Promise<void> {
        this.promptShared = true;
        const evaluated = new Map<LlamaContext, Map<readonly Token[], SequenceSlot>>();
        for (const slot of this.slots) {
            const prompt = this.prompts[slot.index]!;
            const shared = prompt.slice(0, -1);
            if (shared.length === 0) continue;
            const inContext = evaluated.get(slot.sequence.context) ?? new Map<readonly Token[], SequenceSlot>();
            evaluated.set(slot.sequence.context, inContext);
            const first = inContext.get(prompt);
            if (first === undefined) {
                inContext.set(prompt, slot);
                this.evaluatedTokens += shared.length;
                await slot.sequence.evaluateWithoutGeneratingNewTokens(shared as LlamaToken[]);
            } else {
                await copyPrefix(slot.sequence, first.sequence, shared.length);
            }
            slot.held.push(...shared);
        }
    }

    private async admitArrivals(): Promise<void> {
        const calls = this.arrived;
        this.arrived = [];
        for (const call of calls) {
            call.results.length = call.requests.length;
            this.drawing.push(...await Promise.all(call.requests.map((request, k) => this.prepare(request, call, k))));
        }
        await this.packSlots();
        // Decodes are queued in this order. llama.cpp splits a batch whose sequence ids are out of
        // order into several micro-batches, each a full pass over the weights: 1.5x slower here.
        this.drawing.sort((a, b) => a.slot.index - b.slot.index);
    }

    /** One token for every drawing request, in one llama.cpp batch; then hand back the calls that are complete. */
    private async step(): Promise<void> {
        for (const item of this.drawing) throwIfCancelled(item.call.options.signal);
        await Promise.all(this.drawing.map((item) => this.drawNext(item)));
        const drawnPerCall = new Map<PendingCall, number>();
        for (const item of this.drawing) drawnPerCall.set(item.call, (drawnPerCall.get(item.call) ?? 0) + 1);
        for (const [call, drawn] of drawnPerCall) call.options.onStep?.(drawn);
        const stillDrawing: ActiveRequest[] = [];
        for (const item of this.drawing) {
            if (!this.finished(item)) stillDrawing.push(item);
            else if (--item.call.open === 0) item.call.resolve(item.call.results);
        }
        this.drawing = stillDrawing;
    }

    /**
     * With one KV stream per sequence (node-llama-cpp's setting), llama.cpp decodes a batch in one
     * pass only if its sequence ids are consecutive; every gap costs another pass over the weights
     * (a 2-chain step took 38 ms against 21 ms for 4 chains). When finished chains leave gaps,
     * requests above them move down into free slots: a cache copy of well under a millisecond.
     * The caller's sequence that lived in the free slot takes the vacated one; `held` stays true
     * per slot, so it only re-evaluates what the two do not share if it is ever continued.
     */
    private async packSlots(): Promise<void> {
        const busy = new Set(this.drawing.map((item) => item.slot));
        for (const context of this.contexts) {
            const active = this.drawing.filter((item) => item.slot.sequence.context === context);
            const first = this.slots.findIndex((slot) => slot.sequence.context === context);
            const end = first + active.length;
            const free = this.slots.slice(first, end).filter((slot) => !busy.has(slot));
            for (const item of active) {
                if (item.slot.index < end) continue;
                const target = free.pop()!;
                const vacated = item.slot;
                await copyPrefix(target.sequence, vacated.sequence, vacated.held.length);
                target.held.splice(0, target.held.length, ...vacated.held);
                const displaced = this.slotOf.indexOf(target.index);
                this.slotOf[displaced] = vacated.index;
                this.slotOf[item.request.sequence] = target.index;
                item.slot = target;
            }
        }
    }

    /** Trims the sequence to the longest prefix it shares with its prompt + request.prefix. */
    private async prepare(request: ContinueRequest, call: PendingCall, index: number): Promise<ActiveRequest> {
        const slot = this.slots[this.slotOf[request.sequence]!]!;
        const target = [...this.prompts[request.sequence]!, ...request.prefix];
        // Logits are not kept, so the last target token is always fed again to draw after it.
        const keep = Math.min(commonPrefixLength(slot.held, target), target.length - 1);
        if (keep < slot.held.length) {
            await slot.sequence.eraseContextTokenRanges([{start: keep, end: slot.sequence.nextTokenIndex}]);
            slot.held.length = keep;
        }
        const result: Continuation = {tokens: [], logP: [], logQ: []};
        call.results[index] = result;
        return {slot, request, call, result, feed: target.slice(keep)};
    }

    private async drawNext(item: ActiveRequest): Promise<void> {
        const {temperature} = item.call.options;
        const {slot, result} = item;
        const seed = item.request.random.uint32();
        this.evaluatedTokens += item.feed.length;
        const draw = await evaluateThenSample(slot.sequence, item.feed,
            (context, batchLogitIndex) => this.samplers.draw(context, batchLogitIndex, temperature, seed));
        slot.held.push(...item.feed);
        item.feed = [draw.token];
        result.tokens.push(draw.token);
        result.logP.push(draw.logP);
        result.logQ.push(draw.logQ);
    }

    private finished(item: ActiveRequest): boolean {
        const {tokens} = item.result;
        return this.isEnd(tokens[tokens.length - 1]!) || tokens.length >= item.request.maxTokens;
    }
}

function commonPrefixLength(a: readonly Token[], b: readonly Token[]): number {
    const length = Math.min(a.length, b.length);
    let i = 0;
    while (i < length && a[i] === b[i]) i++;
    return i;
}
