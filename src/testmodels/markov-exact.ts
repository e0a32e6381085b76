/** The exact next-token distribution of a Markov GGUF, by token id, for enumeration. */
import type {NextTokenDistribution} from "../sampling/exact.js";
import {MARKOV_BOS, markovTransition, markovVocabulary, type MarkovSpec} from "./markov.js";

export function markovNextTokenDistribution(spec: MarkovSpec): NextTokenDistribution {
    const vocabulary = markovVocabulary(spec);
    const transition = markovTransition(spec);
    const rows = new Map<string, number[]>();
    for (const state of [MARKOV_BOS, ...spec.tokens]) {
        rows.set(state, vocabulary.map((next, id) => (id < 2 || (id > 2 && !spec.tokens.includes(next)) ? 0 : transition(state, next))));
    }
    return (prefix) => rows.get(prefix.length === 0 ? MARKOV_BOS : vocabulary[prefix[prefix.length - 1]!]!)!;
}
