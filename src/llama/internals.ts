/**
 * The node-llama-cpp internals the adapter relies on, typed and checked in this one place.
 *
 * Why reach below the public API: a Metropolis-Hastings step needs two log-probabilities per
 * drawn token, log q at the proposal temperature and log p at temperature 1, but the public API
 * runs one sampler per evaluated position, so the second one cost a second forward pass (or the
 * whole vocabulary's distribution in JavaScript). Its sampler options also always add a top-k
 * stage. One level down we decode once and run two native samplers, with only the stages we ask
 * for, on the same logits.
 *
 * node-llama-cpp is pinned to an exact version in package.json (3.21.1: the newest with builds
 * for every platform on the registry); `checkInternals` fails with a clear message if another
 * version lacks these shapes, and the integration tests compare the resulting log-probabilities
 * with full-vocabulary references.
 */
import {randomUUID} from "node:crypto";
import {rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type {LlamaContextSequence, LlamaModel} from "node-llama-cpp";
import {CorruptModelError} from "../protocol/errors.js";
import type {Token} from "../sampling/model.js";

/** Sampler stages to configure; a stage left out is not in the chain. */
interface NativeSamplerConfig {
    /** Left out, 0 or less: greedy (the logits stay as the model gave them). */
    readonly temperature?: number;
    readonly seed?: number;
    /** Leaves out tokens whose probability at temperature 1 is below this share of the likeliest's. */
    readonly minP?: number;
    /** Added to the logits of these tokens before the other stages. */
    readonly tokenBiasKeys?: Uint32Array;
    readonly tokenBiasValues?: Float32Array;
}

interface NativeSampler {
    applyConfig(config: NativeSamplerConfig): void;
    dispose(): void;
}

/**
 * [token (-1: none), probabilities, confidence]. The confidence is the chosen token's
 * probability under the logits the chain leaves (all of the vocabulary when there is no top-k,
 * top-p or min-p stage); asking for it sorts the vocabulary.
 */
type NativeSample = [token: Token | -1, probabilities: number[] | undefined, confidence: number | undefined];

interface NativeContext {
    sampleToken(batchLogitIndex: number, sampler: NativeSampler, probabilities: boolean, confidence: boolean): Promise<NativeSample>;
}

interface SequenceInternals {
    readonly _context: {readonly _ctx: NativeContext};
    readonly _tokenMeter: unknown;
    _decodeTokens<T>(tokens: Token[], logits: boolean[], evaluationPriority: number, tokenMeter: unknown,
        contextShift: {size: number; strategy: () => never},
        logitDataMapper: (batchLogitIndex: number, tokenIndex: number) => Promise<T>,
        afterBatchAction: (sequenceStateLength: number) => unknown): Promise<T[]>;
    _takeIntervalCheckpointIfNeededAfterBatch(sequenceStateLength: number): unknown;
}

interface ModelInternals {
    readonly _llama: {readonly _bindings: {readonly AddonSampler: new (model: unknown) => NativeSampler}};
    readonly _model: unknown;
}

/** node-llama-cpp's default evaluation priority. */
const EVALUATION_PRIORITY = 5;

/** Throws if the installed node-llama-cpp lacks what this module uses. */
export function checkInternals(model: LlamaModel, sequence: LlamaContextSequence): void {
    const bindings = (model as unknown as Partial<ModelInternals>)._llama?._bindings;
    const inner = sequence as unknown as Partial<SequenceInternals>;
    const present = typeof bindings?.AddonSampler === "function"
        && typeof inner._decodeTokens === "function"
        && typeof inner._takeIntervalCheckpointIfNeededAfterBatch === "function"
        && typeof inner._context?._ctx?.sampleToken === "function";
    if (!present) throw new Error("this node-llama-cpp version lacks the internals the sampler uses; install the exact version in package.json");
}

/**
 * Evaluates `tokens` on `sequence` (its cache must hold everything before them) and calls
 * `sample` on the logits after the last one while they are still there, i.e. before the next
 * batch is decoded. Concurrent calls on different sequences of a context share one batch.
 */
export async function evaluateThenSample<T>(sequence: LlamaContextSequence, tokens: readonly Token[],
    sample: (context: NativeContext, batchLogitIndex: number) => Promise<T>): Promise<T> {
    const inner = sequence as unknown as SequenceInternals;
    const context = inner._context._ctx;
    const gate = firstReadGate(context);
    const logits = tokens.map((_, i) => i === tokens.length - 1);
    // A failure inside node-llama-cpp's logits callback escapes its promises and ends the process:
    // the callback settles with the outcome, and a failure is thrown here, to the caller.
    const results = await inner._decodeTokens([...tokens], logits, EVALUATION_PRIORITY, inner._tokenMeter,
        // Contexts are sized for prompt + max tokens; shifting would silently drop the prompt.
        {size: 1, strategy: () => { throw new Error("the context is full"); }},
        (batchLogitIndex) => gate.run(() => sample(context, batchLogitIndex)).then((value) => ({value}), (error: unknown) => ({error})),
        (sequenceStateLength) => {
            gate.reset();
            return inner._takeIntervalCheckpointIfNeededAfterBatch(sequenceStateLength);
        });
    const outcome = results[tokens.length - 1]!;
    if ("error" in outcome) throw outcome.error;
    return outcome.value;
}

/**
 * llama.cpp puts a batch's output rows in order lazily, on the first read of any logits after a
 * decode, and not thread-safely: draws reading at once (native sampling runs on several threads)
 * could each apply the reordering and read another sequence's logits, which made power sampling
 * miss its target under load. So after each batch, one draw reads first and the others wait for it.
 */
class FirstReadGate {
    private first: Promise<unknown> | null = null;

    run<T>(read: () => Promise<T>): Promise<T> {
        if (this.first) return this.first.then(read, read);
        const result = read();
        this.first = result;
        return result;
    }

    /** After a batch: the next batch's first read reorders again. */
    reset(): void {
        this.first = null;
    }
}

const gates = new WeakMap<NativeContext, FirstReadGate>();

function firstReadGate(context: NativeContext): FirstReadGate {
    let gate = gates.get(context);
    if (!gate) gates.set(context, gate = new FirstReadGate());
    return gate;
}

/**
 * Makes `target` hold the first `length` tokens that `source` holds (same context), without
 * evaluating them. node-llama-cpp 3.21.1 has no in-memory copy between sequences, so the cache
 * goes through a state file (public API): about the KV size of the source's tokens, written and
 * read once, far cheaper than evaluating them again.
 */
export async function copyPrefix(target: LlamaContextSequence, source: LlamaContextSequence, length: number): Promise<void> {
    if (length > 0) {
        const file = path.join(os.tmpdir(), `power-sampling-kv-${randomUUID()}.bin`);
        try {
            await source.saveStateToFile(file);
            await target.loadStateFromFile(file, {acceptRisk: true});
        } finally {
            await rm(file, {force: true});
        }
    }
    if (target.nextTokenIndex > length) await target.eraseContextTokenRanges([{start: length, end: target.nextTokenIndex}]);
}

/** One token drawn at a temperature, with the two log-probabilities MH needs. */
export interface TokenDraw {
    readonly token: Token;
    /** Under the model at temperature 1. */
    readonly logP: number;
    /** Under the temperature it was drawn at (0 for greedy). */
    readonly logQ: number;
}

/**
 * Draws tokens over the full vocabulary; one draw at a time (a native sampler keeps a candidate
 * buffer). No full-vocabulary array reaches JS.
 */
class TokenSampler {
    private readonly tempered: NativeSampler;
    /** Greedy, optionally after a logit bias: it leaves the logits at temperature 1. */
    private readonly greedy: NativeSampler;

    constructor(model: LlamaModel) {
        const {_llama, _model} = model as unknown as ModelInternals;
        this.tempered = new _llama._bindings.AddonSampler(_model);
        this.greedy = new _llama._bindings.AddonSampler(_model);
    }

    /**
     * The tempered sampler draws the token with its probability q at its temperature (which is
     * p at temperature 1); greedy draws give the argmax with its p. Other temperatures need p of
     * the drawn token too: see `logP`.
     *
     * Asking llama.cpp for a token's probability sorts the candidates (3.21.1 has no cheaper way),
     * so the tempered draw first leaves out tokens whose probability at its temperature is below
     * NEGLIGIBLE of the likeliest's (min-p NEGLIGIBLE^T at temperature 1, one pass, no sort). At
     * low temperatures few tokens remain. Together the left-out ones weigh under vocabulary size
     * x NEGLIGIBLE (3e-7 at 262k tokens), below float32's error in the sums, and log q is that of
     * the distribution actually drawn from, so Metropolis-Hastings stays exact.
     */
    async draw(context: NativeContext, batchLogitIndex: number, temperature: number, seed: number): Promise<TokenDraw> {
        if (temperature === 0) {
            this.greedy.applyConfig({});
            const {token, probability} = await sampleWithConfidence(context, batchLogitIndex, this.greedy);
            return {token, logP: Math.log(probability), logQ: 0};
        }
        this.tempered.applyConfig({temperature, seed, minP: NEGLIGIBLE ** temperature});
        const {token, probability} = await sampleWithConfidence(context, batchLogitIndex, this.tempered);
        const logQ = Math.log(probability);
        if (temperature === 1) return {token, logP: logQ, logQ};
        return {token, logP: await this.logP(context, batchLogitIndex, token, temperature, logQ), logQ};
    }

    /**
     * log p of `token` at temperature 1, given its log q at `temperature`, from one greedy draw
     * with its logit raised by a bias b that makes it the argmax. With logits l, max m and
     * S = sum over other tokens j of exp(l_j - l_token), that draw's probability is
     * c = 1 / (1 + exp(-b) S), and p = 1 / (1 + S), so S = exp(b) (1 - c) / c.
     * b = -T log q suffices: log q = (l_token - m) / T - log Z_T with Z_T >= 1. It exceeds log S
     * by at most T log Z_T (< T log vocabulary size), so c stays clear of 1, where float32 would
     * round S away; the margin keeps a tie with the old argmax out of float rounding's reach.
     */
    private async logP(context: NativeContext, batchLogitIndex: number, token: Token, temperature: number, logQ: number): Promise<number> {
        const bias = -temperature * logQ + BIAS_MARGIN;
        this.greedy.applyConfig({tokenBiasKeys: Uint32Array.of(token), tokenBiasValues: Float32Array.of(bias)});
        const biased = await sampleWithConfidence(context, batchLogitIndex, this.greedy);
        if (biased.token !== token) throw new Error(`a logit bias of ${bias} did not make token ${token} the most likely; cannot compute its log-probability`);
        const logS = Math.fround(bias) + Math.log1p(-biased.probability) - Math.log(biased.probability);
        return -softplus(logS);
    }

    dispose(): void {
        this.tempered.dispose();
        this.greedy.dispose();
    }
}

/** A token this much less likely than the likeliest one is left out of tempered draws. */
const NEGLIGIBLE = 1e-12;

/** Added to the smallest bias that makes a token the argmax: far above float32 rounding of logits, small against log S. */
const BIAS_MARGIN = 0.01;

async function sampleWithConfidence(context: NativeContext, batchLogitIndex: number, sampler: NativeSampler): Promise<{token: Token; probability: number}> {
    const [token, , probability] = await context.sampleToken(batchLogitIndex, sampler, false, true);
    // NaN weights give NaN logits: whatever is drawn from them, its probability is not a number.
    if (probability !== undefined && Number.isNaN(probability))
        throw new CorruptModelError("model is corrupt: its output is not a number (NaN logits); the weights are damaged");
    if (token === -1 || probability === undefined) throw new Error("llama.cpp sampled no token");
    return {token, probability};
}

/** log(1 + exp(x)) without overflow. */
function softplus(x: number): number {
    return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
}

/**
 * Token samplers shared by a batch's concurrent draws. Each holds two vocabulary-sized candidate
 * buffers (3.6 MB at 152k tokens), so hundreds of chains share a few: a draw beyond `size`
 * waits for a free sampler (native sampling runs on libuv's few threads anyway).
 */
export class TokenSamplerPool {
    private readonly free: TokenSampler[] = [];
    private readonly waiting: ((sampler: TokenSampler) => void)[] = [];
    private created = 0;

    constructor(private readonly model: LlamaModel, private readonly size: number) {}

    async draw(context: NativeContext, batchLogitIndex: number, temperature: number, seed: number): Promise<TokenDraw> {
        const sampler = await this.acquire();
        try {
            return await sampler.draw(context, batchLogitIndex, temperature, seed);
        } finally {
            const next = this.waiting.shift();
            if (next) next(sampler);
            else this.free.push(sampler);
        }
    }

    /** Once no draw is in flight. */
    dispose(): void {
        for (const sampler of this.free.splice(0)) sampler.dispose();
    }

    private acquire(): Promise<TokenSampler> {
        const sampler = this.free.pop();
        if (sampler) return Promise.resolve(sampler);
        if (this.created < this.size) {
            this.created++;
            return Promise.resolve(new TokenSampler(this.model));
        }
        return new Promise((resolve) => this.waiting.push(resolve));
    }
}
