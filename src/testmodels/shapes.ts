/**
 * Random-weight llama GGUF files with the shapes of real small models, for speed measurements:
 * llama.cpp's decode cost depends on the shapes and tensor types, not on the values, so these run
 * as fast as the real models (their text is noise). Big matrices are Q8_0, norms F32; the output
 * projection is tied to token_embd as in the real models. Weights are uniform in ±0.05 from a
 * seeded PRNG, so a given (shape, seed) always gives the same bytes.
 */
import {writeGguf, type GgufMetadataEntry, type GgufTensor} from "../gguf/writer.js";
import {llamaTokenizerMetadata} from "./markov.js";

export interface ShapeParams {
    /** Model width d. */
    readonly embeddingLength: number;
    readonly blockCount: number;
    readonly headCount: number;
    readonly headCountKv: number;
    readonly feedForwardLength: number;
    readonly vocabSize: number;
    readonly contextLength: number;
    readonly ropeFreqBase: number;
    readonly rmsEps: number;
}

/** Shapes of the real models (from their Hugging Face configs). */
export const SHAPES = {
    "smollm2-135m": {
        embeddingLength: 576,
        blockCount: 30,
        headCount: 9,
        headCountKv: 3,
        feedForwardLength: 1536,
        vocabSize: 49_152,
        contextLength: 8192,
        ropeFreqBase: 100_000,
        rmsEps: 1e-5,
    },
    "qwen2.5-0.5b": {
        embeddingLength: 896,
        blockCount: 24,
        headCount: 14,
        headCountKv: 2,
        feedForwardLength: 4864,
        vocabSize: 151_936,
        contextLength: 32_768,
        ropeFreqBase: 1_000_000,
        rmsEps: 1e-6,
    },
} as const satisfies Record<string, ShapeParams>;

export type ShapeName = keyof typeof SHAPES;

/** Half-width of the uniform weight distribution: small enough that activations stay finite. */
const WEIGHT_RANGE = 0.05;
/** Elements generated per chunk (a multiple of the Q8_0 block size). */
const CHUNK = 1 << 20;

export interface WriteShapeModelOptions {
    /** PRNG seed (default 1). */
    seed?: number;
}

/**
 * Writes a random-weight llama model of the given shape (a name from SHAPES, or explicit
 * parameters, e.g. a reduced shape for a quick test) to `outPath`.
 */
export async function writeShapeModel(
    shape: ShapeName | ShapeParams,
    outPath: string,
    options: WriteShapeModelOptions = {},
): Promise<void> {
    const params: ShapeParams = typeof shape === "string" ? SHAPES[shape] : shape;
    checkShape(params);
    const seed = options.seed ?? 1;
    const {embeddingLength: d, headCount, headCountKv, feedForwardLength: nFf, vocabSize} = params;
    const headDim = d / headCount;
    const dKv = headDim * headCountKv;

    const tensors: GgufTensor[] = [];
    // Each tensor gets its own stream, derived from (seed, tensor index), so tensors are independent.
    const random = (name: string, shape: [number, number]): GgufTensor => {
        const streamSeed = mixSeed(seed, tensors.length);
        return {name, shape, type: "Q8_0", data: () => uniformChunks(streamSeed, shape[0] * shape[1])};
    };
    const ones = (name: string): GgufTensor => ({name, shape: [d], type: "F32", data: new Float32Array(d).fill(1)});

    tensors.push(random("token_embd.weight", [d, vocabSize]));
    tensors.push(ones("output_norm.weight"));
    for (let i = 0; i < params.blockCount; i++) {
        const blk = `blk.${i}`;
        tensors.push(ones(`${blk}.attn_norm.weight`));
        tensors.push(random(`${blk}.attn_q.weight`, [d, d]));
        tensors.push(random(`${blk}.attn_k.weight`, [d, dKv]));
        tensors.push(random(`${blk}.attn_v.weight`, [d, dKv]));
        tensors.push(random(`${blk}.attn_output.weight`, [d, d]));
        tensors.push(ones(`${blk}.ffn_norm.weight`));
        tensors.push(random(`${blk}.ffn_gate.weight`, [d, nFf]));
        tensors.push(random(`${blk}.ffn_up.weight`, [d, nFf]));
        tensors.push(random(`${blk}.ffn_down.weight`, [nFf, d]));
    }

    const vocab = ["<unk>", "<s>", "</s>"];
    const tokenType = [2, 3, 3];
    for (let b = 0; b < 256; b++) {
        vocab.push(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`);
        tokenType.push(6);
    }
    for (let i = vocab.length; i < vocabSize; i++) {
        vocab.push(`▁w${i}`); // filler pieces; never produced by tokenising real text
        tokenType.push(1);
    }

    const metadata: GgufMetadataEntry[] = [
        {key: "general.architecture", type: "string", value: "llama"},
        {key: "general.name", type: "string", value: typeof shape === "string" ? `random ${shape} shape` : "random shape"},
        {key: "general.file_type", type: "uint32", value: 7}, // LLAMA_FTYPE_MOSTLY_Q8_0
        {key: "llama.context_length", type: "uint32", value: params.contextLength},
        {key: "llama.embedding_length", type: "uint32", value: d},
        {key: "llama.block_count", type: "uint32", value: params.blockCount},
        {key: "llama.feed_forward_length", type: "uint32", value: nFf},
        {key: "llama.attention.head_count", type: "uint32", value: headCount},
        {key: "llama.attention.head_count_kv", type: "uint32", value: headCountKv},
        {key: "llama.rope.dimension_count", type: "uint32", value: headDim},
        {key: "llama.rope.freq_base", type: "float32", value: params.ropeFreqBase},
        {key: "llama.attention.layer_norm_rms_epsilon", type: "float32", value: params.rmsEps},
        {key: "llama.vocab_size", type: "uint32", value: vocabSize},
        ...llamaTokenizerMetadata(vocab, tokenType),
    ];
    await writeGguf(outPath, {metadata, tensors});
}

function checkShape(p: ShapeParams): void {
    const positive = Object.entries(p).every(([, v]) => typeof v === "number" && v > 0);
    if (!positive) throw new Error("shape parameters must be positive numbers");
    if (p.embeddingLength % p.headCount !== 0)
        throw new Error(`embeddingLength ${p.embeddingLength} is not a multiple of headCount ${p.headCount}`);
    if (p.headCount % p.headCountKv !== 0)
        throw new Error(`headCount ${p.headCount} is not a multiple of headCountKv ${p.headCountKv}`);
    const headDim = p.embeddingLength / p.headCount;
    // Q8_0 rows are whole 32-element blocks: every matrix's row length and the K/V widths must be.
    for (const [what, n] of [["embeddingLength", p.embeddingLength], ["feedForwardLength", p.feedForwardLength], ["K/V width", headDim * p.headCountKv]] as const)
        if (n % 32 !== 0) throw new Error(`${what} ${n} is not a multiple of 32 (Q8_0 blocks)`);
    if (p.vocabSize < 259) throw new Error(`vocabSize ${p.vocabSize} is below 259 (3 special + 256 byte tokens)`);
}

/** A 32-bit seed for one stream, from the user seed and a stream index (splitmix-style mixing). */
function mixSeed(seed: number, index: number): number {
    let h = (Math.imul(seed | 0, 0x9e3779b1) ^ Math.imul(index + 1, 0x85ebca6b)) >>> 0;
    h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
    h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
    h ^= h >>> 16;
    return h === 0 ? 0x6d2b79f5 : h >>> 0; // xorshift must not start at 0
}

/** `count` values uniform in ±WEIGHT_RANGE, from xorshift32, in chunks that reuse one buffer. */
function* uniformChunks(seed: number, count: number): Generator<Float32Array> {
    const buffer = new Float32Array(Math.min(CHUNK, count));
    const scale = (2 * WEIGHT_RANGE) / 4294967296;
    let x = seed | 0;
    for (let done = 0; done < count; ) {
        const n = Math.min(buffer.length, count - done);
        for (let i = 0; i < n; i++) {
            x ^= x << 13;
            x ^= x >>> 17;
            x ^= x << 5;
            buffer[i] = (x >>> 0) * scale - WEIGHT_RANGE;
        }
        done += n;
        yield n === buffer.length ? buffer : buffer.subarray(0, n);
    }
}
