/**
 * An exact in-memory LanguageModel over a small vocabulary, for unit tests of the samplers:
 * tokens are drawn by inverse CDF from the tempered next-token distribution, and logP/logQ are
 * exact.
 */
import {InvalidInputError, throwIfCancelled} from "../../src/sampling/errors.js";
import {type NextTokenDistribution, temper} from "../../src/sampling/exact.js";
import type {Continuation, ContinueRequest, DrawOptions, LanguageModel, SequenceBatch, Token} from "../../src/sampling/model.js";

export class ExactModel implements LanguageModel {
    /** Tokens drawn over the model's life, to check cost accounting. */
    drawnTokens = 0;

    /** Batches opened, with their sizes, to check how a run is split into waves. */
    readonly batchSizes: number[] = [];

    /**
     * `otherEnds`: end-of-generation tokens besides EOS, as a chat model's end of turn;
     * `capacity`: the most sequences a batch may hold (memory, for the waves).
     */
    constructor(readonly next: NextTokenDistribution, readonly eosToken: Token, private readonly otherEnds: readonly Token[] = [],
        private readonly capacity = Infinity) {}

    isEnd(token: Token): boolean {
        return token === this.eosToken || this.otherEnds.includes(token);
    }

    batchCapacity(_promptTokens: number, _maxTokens: number, groupSize: number): number {
        if (groupSize > this.capacity) throw new InvalidInputError(`a group of ${groupSize} sequences does not fit (capacity ${this.capacity})`);
        return Math.floor(this.capacity / groupSize) * groupSize;
    }

    /** The distribution depends on the prefix alone, so sequences hold nothing to copy. */
    async openBatch(_prompt: readonly Token[], size: number): Promise<SequenceBatch> {
        this.batchSizes.push(size);
        return {
            size,
            continue: (requests, options) => this.continue(requests, options),
            copy: async () => {},
            dispose: async () => {}
        };
    }

    private async continue(requests: readonly ContinueRequest[], options: DrawOptions): Promise<Continuation[]> {
        const results: Continuation[] = requests.map(() => ({tokens: [], logP: [], logQ: []}));
        const open = new Set(requests.map((_, k) => k));
        while (open.size > 0) {
            throwIfCancelled(options.signal);
            const drawn = open.size;
            for (const k of open) {
                const request = requests[k]!;
                const result = results[k]!;
                const p = this.next([...request.prefix, ...result.tokens]);
                const q = temper(p, options.temperature);
                const token = drawFrom(q, request.random.float());
                result.tokens.push(token);
                result.logP.push(Math.log(p[token]!));
                result.logQ.push(options.temperature === 0 ? 0 : Math.log(q[token]!));
                if (this.isEnd(token) || result.tokens.length === request.maxTokens) open.delete(k);
            }
            this.drawnTokens += drawn;
            options.onStep?.(drawn);
        }
        return results;
    }
}

function drawFrom(probabilities: readonly number[], u: number): number {
    let cumulative = 0;
    for (let token = 0; token < probabilities.length; token++) {
        cumulative += probabilities[token]!;
        if (u < cumulative) return token;
    }
    return probabilities.length - 1;
}
