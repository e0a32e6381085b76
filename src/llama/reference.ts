/**
 * The published implementation's way of driving the model, for the benchmark only: every
 * proposal re-feeds the whole prefix (no KV reuse), every token brings the full vocabulary's
 * distribution into JavaScript for a log-softmax at both temperatures, and chains run one at
 * a time. Same samplers on top, so only the model access differs.
 */
import type {LlamaContextSequence, Token as LlamaToken} from "node-llama-cpp";
import {throwIfCancelled} from "../sampling/errors.js";
import type {Continuation, ContinueRequest, DrawOptions, LanguageModel, SequenceBatch, Token} from "../sampling/model.js";
import type {Random} from "../sampling/random.js";
import type {LlamaLanguageModel} from "./model.js";

export class ReferenceLanguageModel implements LanguageModel {
    constructor(private readonly base: LlamaLanguageModel) {}

    isEnd(token: Token): boolean {
        return this.base.isEnd(token);
    }

    /** One sequence serves any number of chains, one at a time. */
    batchCapacity(): number {
        return Infinity;
    }

    async openBatch(prompt: readonly Token[], size: number, maxTokens: number): Promise<SequenceBatch> {
        const context = await this.base.model.createContext({contextSize: prompt.length + maxTokens + 1, threads: this.base.threads});
        const sequence = context.getSequence();
        // One chain at a time: calls from concurrent chains queue behind each other.
        let queue: Promise<unknown> = Promise.resolve();
        return {
            size,
            continue: (requests, options) => {
                const run = queue.then(async () => {
                    const results: Continuation[] = [];
                    for (const request of requests) results.push(await continueAlone(sequence, prompt, request, options, (token) => this.isEnd(token)));
                    return results;
                });
                queue = run.catch(() => undefined);
                return run;
            },
            // Every continuation re-feeds its whole prefix: there is no cache to copy.
            copy: async () => {},
            dispose: () => context.dispose()
        };
    }
}

async function continueAlone(sequence: LlamaContextSequence, prompt: readonly Token[], request: ContinueRequest,
    options: DrawOptions, isEnd: (token: Token) => boolean): Promise<Continuation> {
    await sequence.clearHistory();
    const result: Continuation = {tokens: [], logP: [], logQ: []};
    let feed = [...prompt, ...request.prefix] as LlamaToken[];
    const ended = () => result.tokens.length > 0 && isEnd(result.tokens[result.tokens.length - 1]!);
    while (result.tokens.length < request.maxTokens && !ended()) {
        throwIfCancelled(options.signal);
        const last = feed.length - 1;
        const output = await sequence.controlledEvaluate([...feed.slice(0, last), [feed[last]!, {
            generateNext: {probabilities: true, options: {temperature: 1, topK: 0, topP: 1, minP: 0}}
        }]]);
        const {token, logP, logQ} = drawFromFull(output[last]!.next!.probabilities!, options.temperature, request.random);
        result.tokens.push(token);
        result.logP.push(logP);
        result.logQ.push(logQ);
        feed = [token as LlamaToken];
        options.onStep?.(1);
    }
    return result;
}

/** Log-softmax of the whole vocabulary at temperature 1 and at the draw temperature, then a draw. */
function drawFromFull(probabilities: ReadonlyMap<LlamaToken, number>, temperature: number, random: Random): {token: Token; logP: number; logQ: number} {
    const tokens = [...probabilities.keys()];
    const logP = Float64Array.from(probabilities.values(), Math.log);
    if (temperature === 0) {
        const best = logP.indexOf(maximum(logP));
        return {token: tokens[best]!, logP: logP[best]!, logQ: 0};
    }
    const scaled = logP.map((value) => value / temperature);
    const max = maximum(scaled);
    let total = 0;
    for (const value of scaled) total += Math.exp(value - max);
    const logZ = max + Math.log(total);
    let u = random.float();
    for (let i = 0; i < tokens.length; i++) {
        u -= Math.exp(scaled[i]! - logZ);
        if (u < 0 || i === tokens.length - 1) return {token: tokens[i]!, logP: logP[i]!, logQ: scaled[i]! - logZ};
    }
    throw new Error("unreachable");
}

/** A loop, not Math.max(...values): spreading 150k arguments overflows the stack. */
function maximum(values: Float64Array): number {
    let max = -Infinity;
    for (const value of values) if (value > max) max = value;
    return max;
}
