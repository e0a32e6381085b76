import {strict as assert} from "node:assert";
import {temper} from "../../src/sampling/exact.js";
import {Random} from "../../src/sampling/random.js";
import {logNormaliser, proposalLogProb} from "../../src/remote/logprobs.js";

/** A next-token distribution of `size` tokens, peaked (`spread` small) or flat (`spread` 0). */
function distribution(random: Random, size: number, spread: number): number[] {
    const weights = Array.from({length: size}, () => Math.exp(spread * -Math.log(1 - random.float())));
    const total = weights.reduce((a, b) => a + b, 0);
    return weights.map((w) => w / total);
}

/** What a server reports for token `drawn`: its log p and the top K log p (`round`: as float32 values, as llama-server sends them). */
function report(p: readonly number[], drawn: number, k: number, round = (x: number) => x) {
    const top = [...p].sort((a, b) => b - a).slice(0, k).map((x) => round(Math.log(x)));
    return {logP: round(Math.log(p[drawn]!)), topLogP: top};
}

describe("remote engines: log q from the top K probabilities", () => {
    it("the exact log q lies within the certified bound, for peaked and flat distributions, any K and alpha", () => {
        const random = new Random(3);
        let checked = 0;
        for (const spread of [0, 1, 3, 6]) {
            for (const alpha of [1.5, 2, 4, 8]) {
                for (const k of [1, 4, 32, 200]) {
                    const p = distribution(random, 200, spread);
                    const drawn = random.int(p.length);
                    const exact = Math.log(temper(p, 1 / alpha)[drawn]!);
                    const {logQ, bound} = proposalLogProb(report(p, drawn, k), 1 / alpha, p.length);
                    assert.ok(Math.abs(logQ - exact) <= bound + 1e-12, `spread ${spread} alpha ${alpha} K ${k}: |${logQ} - ${exact}| > ${bound}`);
                    checked++;
                }
            }
        }
        assert.equal(checked, 64);
    });

    it("is exact when the top K are the whole vocabulary, and at temperatures 1 and 0", () => {
        const p = distribution(new Random(5), 50, 2);
        const whole = proposalLogProb(report(p, 7, 50), 1 / 4, 50);
        assert.equal(whole.bound, 0);
        assert.ok(Math.abs(whole.logQ - Math.log(temper(p, 1 / 4)[7]!)) < 1e-5);
        assert.deepEqual(proposalLogProb(report(p, 7, 3), 1, 50), {logQ: Math.log(p[7]!), bound: 0});
        assert.deepEqual(proposalLogProb(report(p, 7, 3), 0, 50), {logQ: 0, bound: 0});
    });

    it("holds when the reported probabilities are float32 and miss a tail of 1e-13 each (a Markov GGUF's impossible tokens)", () => {
        const p = [0.5, 0.3, 0.2 - 250 * 1e-13, ...Array.from({length: 250}, () => 1e-13)];
        const drawn = 1;
        const exact = Math.log(temper(p, 1 / 4)[drawn]!);
        const {logQ, bound} = proposalLogProb(report(p, drawn, 3, Math.fround), 1 / 4, p.length);
        // float32 sums cannot rule out a tail of a few 1e-7; far under the tolerance (1e-5) still.
        assert.ok(bound < 1e-7, `bound ${bound}`);
        // What remains is float32 rounding of log p itself, as in the local engine.
        assert.ok(Math.abs(logQ - exact) < 4 * 2 ** -24 * 4, `|${logQ} - ${exact}|`);
    });

    it("the bound shrinks as K grows and vanishes for a peaked distribution at alpha 4", () => {
        const p = distribution(new Random(8), 5000, 6);
        const bounds = [4, 32, 256, 2048].map((k) => proposalLogProb(report(p, 0, k), 1 / 4, p.length).bound);
        for (let i = 1; i < bounds.length; i++) assert.ok(bounds[i]! <= bounds[i - 1]!, `bounds ${bounds.join(", ")}`);
        assert.ok(bounds[1]! < 1e-5, `K 32: ${bounds[1]}`);
    });

    it("cannot be halved: with every missing token as likely as the K-th, log Z sits at the top of the interval", () => {
        // 4 tokens of 0.2, then 20 of 0.01: the top 4 and all the rest at p_K' = 0.01 below them.
        const p = [0.2, 0.2, 0.2, 0.2, ...Array.from({length: 20}, () => 0.01)];
        const reported = p.slice(0, 5).map(Math.log);
        const [low, high] = logNormaliser(reported, 4, p.length).interval;
        const exact = Math.log(p.reduce((sum, x) => sum + x ** 4, 0));
        assert.ok(Math.abs(high - exact) < 1e-9, `upper ${high} vs exact ${exact}`);
        assert.ok(low < exact);
    });

    it("stays finite at a large alpha, where p^alpha underflows a double", () => {
        const p = distribution(new Random(9), 300, 0);
        const {logQ, bound} = proposalLogProb(report(p, 1, 16), 1 / 64, p.length);
        assert.ok(Number.isFinite(logQ) && Number.isFinite(bound), `${logQ} ± ${bound}`);
    });
});
