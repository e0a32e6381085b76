/** The exact next-token distribution of a Markov GGUF, by token id, for enumeration. */
import type {NextTokenDistribution} from "../sampling/exact.js";
import {MARKOV_BOS, MARKOV_EOS, markovTransition, markovVocabulary, type MarkovSpec} from "./markov.js";

export function markovNextTokenDistribution(spec: MarkovSpec): NextTokenDistribution {
    const vocabulary = markovVocabulary(spec);
    const transition = markovTransition(spec);
    // <unk>, <s> and the byte tokens are never next; EOS and the chain's tokens follow the table.
    const nextTokens = new Set([MARKOV_EOS, ...spec.tokens]);
    const rows = new Map<string, number[]>();
    for (const state of [MARKOV_BOS, ...spec.tokens])
        rows.set(state, vocabulary.map((next) => (nextTokens.has(next) ? transition(state, next) : 0)));
    return (prefix) => rows.get(prefix.length === 0 ? MARKOV_BOS : vocabulary[prefix[prefix.length - 1]!]!)!;
}
