/** Small next-token tables with known answers, shared by the sampler tests. */
import type {NextTokenDistribution} from "../../src/sampling/exact.js";
import {type MarkovSpec, parseMarkovSpec} from "../../src/testmodels/markov.js";

export const EOS = 0;

/** Builds a Markov next-token function from rows: state (previous token, -1 = start) -> probabilities. */
export function markov(rows: Record<number, number[]>): NextTokenDistribution {
    return (prefix) => {
        const row = rows[prefix.length === 0 ? -1 : prefix[prefix.length - 1]!];
        if (!row) throw new Error(`no row for state ${prefix[prefix.length - 1]}`);
        return row;
    };
}

/**
 * The note's pivotal example: first token A (0.6) then any of 10 tokens (0.1 each), or B (0.4)
 * then one certain token; then EOS. Tokens: 0 EOS, 1 A, 2 B, 3 b, 4..13 a0..a9.
 */
export const PIVOTAL = (() => {
    const V = 14;
    const row = (entries: Record<number, number>) => Array.from({length: V}, (_, t) => entries[t] ?? 0);
    const rows: Record<number, number[]> = {
        [-1]: row({1: 0.6, 2: 0.4}),
        1: row(Object.fromEntries(Array.from({length: 10}, (_, k) => [4 + k, 0.1]))),
        2: row({3: 1}),
        3: row({[EOS]: 1})
    };
    for (let t = 4; t < V; t++) rows[t] = row({[EOS]: 1});
    return markov(rows);
})();

/**
 * A chain whose completions differ in length (EOS can come after 1..4 tokens, or the limit
 * cuts them), so the log n - log m correction and whole-suffix comparison matter.
 * Tokens: 0 EOS, 1 x, 2 y, 3 z.
 */
export const VARIABLE_LENGTH = markov({
    [-1]: [0.0, 0.5, 0.3, 0.2],
    1: [0.45, 0.05, 0.25, 0.25],
    2: [0.1, 0.3, 0.1, 0.5],
    3: [0.6, 0.15, 0.15, 0.1]
});

/** VARIABLE_LENGTH as a Markov GGUF's spec (tokens x, y, z; EOS is "</s>"), for the tests through llama.cpp. */
export const VARIABLE_LENGTH_SPEC: MarkovSpec = parseMarkovSpec({
    tokens: ["x", "y", "z"],
    transitions: {
        "<s>": {x: 0.5, y: 0.3, z: 0.2},
        x: {"</s>": 0.45, x: 0.05, y: 0.25, z: 0.25},
        y: {"</s>": 0.1, x: 0.3, y: 0.1, z: 0.5},
        z: {"</s>": 0.6, x: 0.15, y: 0.15, z: 0.1}
    }
});
