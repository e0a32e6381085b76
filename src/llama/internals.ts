/**
 * The node-llama-cpp internals the adapter relies on, typed and checked in this one place.
 *
 * Why reach below the public API: a Metropolis-Hastings step needs two normalisers per drawn
 * token, log q at the proposal temperature and log p at temperature 1, but the public API runs
 * one sampler per evaluated position, so the second normaliser cost a second forward pass.
 * Its sampler options also always add a top-k stage, and top-k 0 ("all") sorts the whole
 * vocabulary: ~3 ms per draw at 49k tokens against ~0.6 ms without. One level down we decode
 * once and run two native samplers, with only the stages we ask for, on the same logits.
 *
 * node-llama-cpp is pinned to an exact version in package.json; `checkInternals` fails with a
 * clear message if another version lacks these shapes, and the integration tests compare the
 * resulting log-probabilities with full-vocabulary references.
 */
import type {LlamaContextSequence, LlamaModel} from "node-llama-cpp";
import type {Token} from "../sampling/model.js";

/** Sampler stages to configure; a stage left out is not in the chain. */
interface NativeSamplerConfig {
    /** 0 or less: greedy. */
    readonly temperature: number;
    readonly seed?: number;
}

interface NativeSampler {
    applyConfig(config: NativeSamplerConfig): void;
    dispose(): void;
}

/** [tokens, includeMax, includeMin, includeSelected, includeTop]; includeMax is wrong in 3.22.1. */
type LogitsFilter = [tokens: Token[], includeMax: false, includeMin: false, includeSelected: boolean, includeTop: 0];

/** logits are flat [token, logit, token, logit, ...] pairs. */
type NativeSample = [token: Token, probabilities?: number[], confidence?: number, logits?: number[], totalLogitWeight?: number];

interface NativeContext {
    sampleToken(batchLogitIndex: number, sampler: NativeSampler, probabilities: boolean, confidence: boolean,
        logits: false | LogitsFilter, totalLogitWeight: boolean): Promise<NativeSample>;
}

interface SequenceInternals {
    readonly _context: {readonly _ctx: NativeContext};
    readonly _tokenMeter: unknown;
    _decodeTokens<T>(tokens: Token[], logits: boolean[], evaluationPriority: number, tokenMeter: unknown,
        contextShift: {size: number; strategy: () => never},
        logitDataMapper: (batchLogitIndex: number, tokenIndex: number) => Promise<T>,
        afterBatchAction: (sequenceStateLength: number) => unknown): Promise<T[]>;
    _takeIntervalCheckpointIfNeededAfterBatch(sequenceStateLength: number): unknown;
    _copyStateFromOtherSequence(other: LlamaContextSequence, upToTokenIndex: number): Promise<boolean>;
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
        && typeof inner._copyStateFromOtherSequence === "function"
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
    const logits = tokens.map((_, i) => i === tokens.length - 1);
    const results = await inner._decodeTokens([...tokens], logits, EVALUATION_PRIORITY, inner._tokenMeter,
        // Contexts are sized for prompt + max tokens; shifting would silently drop the prompt.
        {size: 1, strategy: () => { throw new Error("the context is full"); }},
        (batchLogitIndex) => sample(inner._context._ctx, batchLogitIndex),
        inner._takeIntervalCheckpointIfNeededAfterBatch);
    return results[tokens.length - 1]!;
}

/** Makes `target` hold the first `length` tokens that `source` holds (same context), without evaluating them. */
export async function copyPrefix(target: LlamaContextSequence, source: LlamaContextSequence, length: number): Promise<void> {
    // Copying an empty cache reports failure in 3.22.1; it means clearing the target.
    if (length === 0) return target.eraseContextTokenRanges([{start: 0, end: target.nextTokenIndex}]);
    const copied = await (target as unknown as SequenceInternals)._copyStateFromOtherSequence(source, length);
    if (!copied) throw new Error("copying a sequence's cache failed");
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
    /** Greedy and nothing else: it selects the argmax and leaves the logits as the model gave them (temperature 1). */
    private readonly greedy: NativeSampler;

    constructor(model: LlamaModel) {
        const {_llama, _model} = model as unknown as ModelInternals;
        this.tempered = new _llama._bindings.AddonSampler(_model);
        this.greedy = new _llama._bindings.AddonSampler(_model);
        this.greedy.applyConfig({temperature: 0});
    }

    /**
     * The tempered sampler draws the token and gives log-sum-exp at its temperature; the greedy
     * one, on the same logits, gives the token's logit, the max logit and log-sum-exp at 1.
     * With Z_T = sum exp((l - max)/T): log p = l - max - log Z_1, log q = (l - max)/T - log Z_T.
     */
    async draw(context: NativeContext, batchLogitIndex: number, temperature: number, seed: number): Promise<TokenDraw> {
        if (temperature === 0) {
            const [token, , , , z1] = await context.sampleToken(batchLogitIndex, this.greedy, false, false, false, true);
            return {token, logP: -Math.log(z1!), logQ: 0};
        }
        this.tempered.applyConfig({temperature, seed});
        // At temperature 1, q is p: no second log-sum-exp over the vocabulary.
        const [token, , , , zT] = await context.sampleToken(batchLogitIndex, this.tempered, false, false, false, temperature !== 1);
        const [, , , pairs, z1] = await context.sampleToken(batchLogitIndex, this.greedy, false, false, [[token], false, false, true, 0], true);
        let max = -Infinity;
        let logit = NaN;
        for (let i = 0; i < pairs!.length; i += 2) {
            max = Math.max(max, pairs![i + 1]!);
            if (pairs![i] === token) logit = pairs![i + 1]!;
        }
        const logP = logit - max - Math.log(z1!);
        return {token, logP, logQ: temperature === 1 ? logP : (logit - max) / temperature - Math.log(zT!)};
    }

    dispose(): void {
        this.tempered.dispose();
        this.greedy.dispose();
    }
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
