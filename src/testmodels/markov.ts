/**
 * A Markov chain written as a llama-architecture GGUF that llama.cpp runs for real, with a
 * next-token distribution known exactly (see shared/notes/test-models.md):
 * - vocabulary: <unk> (0), <s> (1, BOS), </s> (2, EOS), the 256 byte tokens, then the chain's tokens;
 * - one block whose attention and FFN weights are all zero, so the residual stream stays the
 *   one-hot embedding e_v of the current token v;
 * - output_norm undoes the RMS-norm scaling, so the final hidden state is exactly e_v;
 * - output.weight[j][v] = log P(j | v), so the logits are the log transition probabilities.
 */
import {InvalidInputError} from "../sampling/errors.js";
import {writeGguf, type GgufFile, type GgufMetadataEntry, type GgufTensor} from "../gguf/writer.js";

/** The start state (BOS). */
export const MARKOV_BOS = "<s>";
/** The end state (EOS). */
export const MARKOV_EOS = "</s>";
/** A row for every other state: the prompt's bytes and <unk> (so a prompt of any text leads somewhere known). */
export const MARKOV_ANY = "*";

/**
 * A chain: its tokens (in vocabulary order) and, for "<s>" and every token, the probabilities of
 * the next token (a declared token or "</s>"). Omitted next tokens have probability 0. An optional
 * "*" row applies after any other token (the byte tokens a prompt of other text is made of).
 */
export interface MarkovSpec {
    readonly tokens: readonly string[];
    readonly transitions: Readonly<Record<string, Readonly<Record<string, number>>>>;
}

export class MarkovSpecError extends InvalidInputError {
    override name = "MarkovSpecError";
}

/** Row sums may differ from 1 by this much. */
export const MARKOV_SUM_TOLERANCE = 1e-6;
/** Logit of an impossible transition: e^-30 ≈ 1e-13, negligible against any real probability. */
export const IMPOSSIBLE_LOGIT = -30;
/** Id of the chain's first token: after <unk>, <s>, </s> and the 256 byte tokens. */
export const MARKOV_FIRST_TOKEN_ID = 3 + 256;

const BYTE_TOKENS = Array.from({length: 256}, (_, b) => `<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
const RESERVED = new Set(["<unk>", MARKOV_BOS, MARKOV_EOS, ...BYTE_TOKENS]);

/**
 * The pivotal two-branch example of shared/notes/power-sampling.md: A (0.6) then any of ten tokens
 * (0.1 each), or B (0.4) then one certain token; then the end. Standard sampling starts with B
 * 40 % of the time, the power distribution with alpha 4 99.5 % (0.4^4 vs 10 * (0.6 * 0.1)^4).
 */
export const PIVOTAL_CHAIN: MarkovSpec = (() => {
    const aTokens = Array.from({length: 10}, (_, i) => `a${i}`);
    const transitions: Record<string, Record<string, number>> = {
        [MARKOV_BOS]: {A: 0.6, B: 0.4},
        A: Object.fromEntries(aTokens.map((t) => [t, 0.1])),
        B: {b: 1},
        b: {[MARKOV_EOS]: 1},
    };
    for (const t of aTokens) transitions[t] = {[MARKOV_EOS]: 1};
    // Frozen: shared by many tests, none of which may change it for the others.
    for (const row of Object.values(transitions)) Object.freeze(row);
    return Object.freeze({tokens: Object.freeze(["A", "B", ...aTokens, "b"]), transitions: Object.freeze(transitions)});
})();

/**
 * Validates a parsed JSON value as a Markov spec and returns a clean copy.
 * Throws MarkovSpecError with a one-line message naming what is wrong.
 */
export function parseMarkovSpec(json: unknown): MarkovSpec {
    const fail = (message: string): never => {
        throw new MarkovSpecError(`invalid Markov spec: ${message}`);
    };
    if (!isPlainObject(json))
        return fail(`expected an object with "tokens" and "transitions", got ${describe(json)}`);
    for (const key of Object.keys(json))
        if (key !== "tokens" && key !== "transitions")
            fail(`unexpected key "${key}" (expected only "tokens" and "transitions")`);

    const tokensValue = json["tokens"];
    if (!Array.isArray(tokensValue)) return fail(`"tokens" must be an array of strings, got ${describe(tokensValue)}`);
    const tokens: string[] = [];
    const declared = new Set<string>();
    tokensValue.forEach((token: unknown, i) => {
        if (typeof token !== "string") return fail(`tokens[${i}] must be a string, got ${describe(token)}`);
        if (token === "") fail(`tokens[${i}] is empty`);
        if (RESERVED.has(token))
            fail(`tokens[${i}] "${token}" is reserved (<unk>, <s>, </s> and <0x00>..<0xFF> are built in)`);
        if (declared.has(token)) fail(`tokens[${i}] "${token}" is declared twice`);
        declared.add(token);
        tokens.push(token);
    });

    const transitionsValue = json["transitions"];
    if (!isPlainObject(transitionsValue))
        return fail(`"transitions" must be an object of rows, got ${describe(transitionsValue)}`);
    // Built with Object.fromEntries (own data properties), so a token named "__proto__" stays a key.
    const transitions: [string, Record<string, number>][] = [];
    for (const [state, rowValue] of Object.entries(transitionsValue)) {
        const where = `transitions[${JSON.stringify(state)}]`;
        if (state === MARKOV_EOS) fail(`${where}: "${MARKOV_EOS}" is the end state and has no row`);
        if (state !== MARKOV_BOS && state !== MARKOV_ANY && !declared.has(state)) fail(`${where}: "${state}" is not a declared token`);
        if (!isPlainObject(rowValue))
            return fail(`${where} must be an object of next-token probabilities, got ${describe(rowValue)}`);
        const row: [string, number][] = [];
        let sum = 0;
        for (const [next, p] of Object.entries(rowValue)) {
            const cell = `${where}[${JSON.stringify(next)}]`;
            if (next === MARKOV_BOS) fail(`${cell}: "${MARKOV_BOS}" is the start state, not a next token`);
            if (next !== MARKOV_EOS && !declared.has(next))
                fail(`${cell}: "${next}" is not a declared token or "${MARKOV_EOS}"`);
            if (typeof p !== "number" || !Number.isFinite(p)) return fail(`${cell} must be a number, got ${describe(p)}`);
            if (p < 0 || p > 1) fail(`${cell} is ${p}, expected a probability in [0, 1]`);
            row.push([next, p]);
            sum += p;
        }
        if (Math.abs(sum - 1) > MARKOV_SUM_TOLERANCE)
            fail(`${where} sums to ${Number(sum.toPrecision(10))}, expected 1`);
        transitions.push([state, Object.fromEntries(row)]);
    }
    const rows = new Set(transitions.map(([state]) => state));
    for (const state of [MARKOV_BOS, ...tokens])
        if (!rows.has(state))
            fail(`transitions has no row for "${state}" (${state === MARKOV_BOS ? "the start state" : "every declared token needs one"})`);
    return {tokens, transitions: Object.fromEntries(transitions)};
}

/**
 * P(next | current) by token string. `current` is "<s>" or a chain token, `next` a chain token or
 * "</s>"; other strings throw (they are typos, not impossible transitions).
 */
export function markovTransition(spec: MarkovSpec): (current: string, next: string) => number {
    const checked = parseMarkovSpec(spec);
    const declared = new Set(checked.tokens);
    return (current, next) => {
        if (current !== MARKOV_BOS && !declared.has(current))
            throw new RangeError(`"${current}" is not a state of this chain ("<s>" or a declared token)`);
        if (next !== MARKOV_EOS && !declared.has(next))
            throw new RangeError(`"${next}" is not a next token of this chain (a declared token or "</s>")`);
        // hasOwn: a token named like an Object.prototype member ("constructor") is not inherited.
        const row = checked.transitions[current]!;
        return Object.hasOwn(row, next) ? row[next]! : 0;
    };
}

/** The model's vocabulary: index = token id. */
export function markovVocabulary(spec: MarkovSpec): readonly string[] {
    return ["<unk>", MARKOV_BOS, MARKOV_EOS, ...BYTE_TOKENS, ...spec.tokens];
}

export interface MarkovModelOptions {
    /**
     * A declared token to mark as end of turn (a control token and tokenizer.ggml.eot_token_id),
     * as chat models mark theirs: generation should stop there as at EOS.
     */
    readonly endOfTurn?: string;
    /** A Jinja chat template (tokenizer.chat_template), as instruct models carry one. */
    readonly chatTemplate?: string;
}

/** Writes `spec` (validated first) as a GGUF file at `outPath`. */
export async function writeMarkovModel(spec: MarkovSpec, outPath: string, options: MarkovModelOptions = {}): Promise<void> {
    await writeGguf(outPath, markovModelFile(spec, options));
}

/** The GGUF contents of `spec`'s model (validated first), to write whole or split into parts. */
export function markovModelFile(spec: MarkovSpec, options: MarkovModelOptions = {}): GgufFile {
    const checked = parseMarkovSpec(spec);
    const vocab = markovVocabulary(checked);
    const nVocab = vocab.length;
    const d = Math.ceil(nVocab / 32) * 32; // one-hot embeddings need d >= vocabulary size
    const headDim = 32;
    const nHead = d / headDim;
    const nFf = 32; // the FFN is all zeros; its width does not matter
    const rmsEps = Math.fround(1e-6);

    const endOfTurn = options.endOfTurn === undefined ? undefined : vocab.indexOf(options.endOfTurn, MARKOV_FIRST_TOKEN_ID);
    if (endOfTurn === -1) throw new MarkovSpecError(`the end-of-turn token "${options.endOfTurn}" is not one of the chain's tokens`);
    const tokenType = vocab.map((_, id) => (id === 0 ? 2 : id <= 2 || id === endOfTurn ? 3 : id < MARKOV_FIRST_TOKEN_ID ? 6 : 1));

    const embedding = new Float32Array(d * nVocab);
    for (let v = 0; v < nVocab; v++) embedding[v * d + v] = 1;

    // Row j (next token), column v (current token) = log P(j | v). Columns >= nVocab are never active.
    const id = new Map(vocab.map((token, i) => [token, i]));
    const output = new Float32Array(d * nVocab).fill(IMPOSSIBLE_LOGIT);
    const fill = (v: number, row: Readonly<Record<string, number>>) => {
        for (const [next, p] of Object.entries(row))
            if (p > 0) output[id.get(next)! * d + v] = Math.log(p);
    };
    for (const [state, row] of Object.entries(checked.transitions)) if (state !== MARKOV_ANY) fill(id.get(state)!, row);
    const anyRow = checked.transitions[MARKOV_ANY];
    // <unk> and the byte tokens (ids 0 and 3 .. 258) take the "*" row.
    if (anyRow) for (let v = 0; v < MARKOV_FIRST_TOKEN_ID; v++) if (v === 0 || v > 2) fill(v, anyRow);

    // RMS-norm maps e_v to e_v / sqrt(1/d + eps); this weight maps it back to exactly e_v.
    const outputNorm = new Float32Array(d).fill(Math.sqrt(1 / d + rmsEps));

    const zeros = (...shape: number[]): GgufTensor["data"] => new Float32Array(shape.reduce((a, b) => a * b, 1));
    const tensors: GgufTensor[] = [
        {name: "token_embd.weight", shape: [d, nVocab], type: "F32", data: embedding},
        {name: "output_norm.weight", shape: [d], type: "F32", data: outputNorm},
        {name: "output.weight", shape: [d, nVocab], type: "F32", data: output},
        {name: "blk.0.attn_norm.weight", shape: [d], type: "F32", data: new Float32Array(d).fill(1)},
        {name: "blk.0.attn_q.weight", shape: [d, d], type: "F32", data: zeros(d, d)},
        {name: "blk.0.attn_k.weight", shape: [d, d], type: "F32", data: zeros(d, d)},
        {name: "blk.0.attn_v.weight", shape: [d, d], type: "F32", data: zeros(d, d)},
        {name: "blk.0.attn_output.weight", shape: [d, d], type: "F32", data: zeros(d, d)},
        {name: "blk.0.ffn_norm.weight", shape: [d], type: "F32", data: new Float32Array(d).fill(1)},
        {name: "blk.0.ffn_gate.weight", shape: [d, nFf], type: "F32", data: zeros(d, nFf)},
        {name: "blk.0.ffn_up.weight", shape: [d, nFf], type: "F32", data: zeros(d, nFf)},
        {name: "blk.0.ffn_down.weight", shape: [nFf, d], type: "F32", data: zeros(nFf, d)},
    ];

    const metadata: GgufMetadataEntry[] = [
        {key: "general.architecture", type: "string", value: "llama"},
        {key: "general.name", type: "string", value: "markov-chain"},
        {key: "general.file_type", type: "uint32", value: 0}, // all F32
        {key: "llama.context_length", type: "uint32", value: 4096},
        {key: "llama.embedding_length", type: "uint32", value: d},
        {key: "llama.block_count", type: "uint32", value: 1},
        {key: "llama.feed_forward_length", type: "uint32", value: nFf},
        {key: "llama.attention.head_count", type: "uint32", value: nHead},
        {key: "llama.attention.head_count_kv", type: "uint32", value: nHead},
        {key: "llama.rope.dimension_count", type: "uint32", value: headDim},
        {key: "llama.attention.layer_norm_rms_epsilon", type: "float32", value: rmsEps},
        {key: "llama.vocab_size", type: "uint32", value: nVocab},
        ...llamaTokenizerMetadata(vocab, tokenType),
        ...(endOfTurn === undefined ? [] : [{key: "tokenizer.ggml.eot_token_id", type: "uint32", value: endOfTurn} as const]),
        ...(options.chatTemplate === undefined ? [] : [{key: "tokenizer.chat_template", type: "string", value: options.chatTemplate} as const]),
    ];
    return {metadata, tensors};
}

/** tokenizer.ggml.* for a SentencePiece ("llama") vocabulary with <unk>=0, <s>=1, </s>=2. */
export function llamaTokenizerMetadata(vocab: readonly string[], tokenType: readonly number[]): GgufMetadataEntry[] {
    return [
        {key: "tokenizer.ggml.model", type: "string", value: "llama"},
        {key: "tokenizer.ggml.tokens", type: "string[]", value: vocab},
        {key: "tokenizer.ggml.scores", type: "float32[]", value: new Float32Array(vocab.length)},
        {key: "tokenizer.ggml.token_type", type: "int32[]", value: tokenType},
        {key: "tokenizer.ggml.unknown_token_id", type: "uint32", value: 0},
        {key: "tokenizer.ggml.bos_token_id", type: "uint32", value: 1},
        {key: "tokenizer.ggml.eos_token_id", type: "uint32", value: 2},
        {key: "tokenizer.ggml.add_bos_token", type: "bool", value: true}, // must be a bool, not an int
        {key: "tokenizer.ggml.add_eos_token", type: "bool", value: false},
    ];
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
    return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
    if (value === null || value === undefined) return String(value);
    if (Array.isArray(value)) return "an array";
    if (typeof value === "string") return `the string ${JSON.stringify(value)}`;
    if (typeof value === "number") return `the number ${value}`;
    return typeof value === "object" ? "an object" : `a ${typeof value}`;
}
