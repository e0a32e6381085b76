/**
 * The evaluation command end to end against exact numbers. A Markov-chain GGUF writes the answer
 * into the completion (its last token boxes 1 or 2), and each problem's prompt
 * ends in its own start state, so every method's chance of the right answer is enumerable:
 * standard (p), low temperature (p at 1/alpha, token by token), power (the exact law of the
 * Metropolis-Hastings chain after its steps, and p^alpha in the limit) and smc without resampling
 * (the particle drawn by weight). The command's per-problem accuracies must fall inside exact
 * binomial intervals around those, its overall figures within 4 standard deviations, and on the
 * note's pivotal chain (problem 1) power must beat low temperature.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import type {SampleRecord} from "../../src/eval/records.js";
import type {EvalSummary} from "../../src/eval/summary.js";
import {passAtK} from "../../src/eval/stats.js";
import type {Method} from "../../src/protocol/params.js";
import {type NextTokenDistribution, temper} from "../../src/sampling/exact.js";
import {MARKOV_EOS, markovVocabulary, type MarkovSpec, writeMarkovModel} from "../../src/testmodels/markov.js";
import {markovNextTokenDistribution} from "../../src/testmodels/markov-exact.js";
import {buildCli, describeRun, runCli} from "../support/cli.js";

const ALPHA = 4;
const MAX_TOKENS = 3;
const MCMC_STEPS = 20;
const PARTICLES = 2;
const SAMPLES = 256;
/** Two-sided chance, per check, that exact draws fall outside their interval. */
const TAIL = 1e-4;
const Z = 4;

/**
 * From its start state a problem goes to A, then one of ten tokens that each box 2, or to B, then
 * a token that boxes 1; then the end. Problem 1 is the note's pivotal chain (A 0.6, B 0.4).
 */
const PROBLEMS = [
    {state: "P1", a: 0.6, answer: "1"},
    {state: "P2", a: 0.5, answer: "1"},
    {state: "P3", a: 0.65, answer: "1"},
    {state: "P4", a: 0.3, answer: "2"}
];
const TENS = Array.from({length: 10}, (_, k) => ` way ${k}: \\boxed{2}`);
const ONE = " one way: \\boxed{1}";
const SPEC: MarkovSpec = {
    tokens: [...PROBLEMS.map((p) => p.state), "A", "B", ...TENS, ONE],
    transitions: {
        "<s>": {A: 0.5, B: 0.5},
        ...Object.fromEntries(PROBLEMS.map((p) => [p.state, {A: p.a, B: 1 - p.a}])),
        A: Object.fromEntries(TENS.map((t) => [t, 0.1])),
        B: {[ONE]: 1},
        ...Object.fromEntries([...TENS, ONE].map((t) => [t, {[MARKOV_EOS]: 1}]))
    }
};

describe("eval end to end against exact numbers", function () {
    this.timeout(300_000);
    const vocabulary = markovVocabulary(SPEC);
    const id = (token: string) => vocabulary.indexOf(token);
    const eos = id(MARKOV_EOS);
    const chain = markovNextTokenDistribution(SPEC);
    /** Problem i's next-token distribution: its start state's row first. */
    const problemChain = (state: string): NextTokenDistribution => (prefix) => chain(prefix.length === 0 ? [id(state)] : prefix);
    /** The answer a completion boxes. */
    const answerOf = (tokens: readonly number[]) => (tokens.includes(id(ONE)) ? "1" : TENS.some((t) => tokens.includes(id(t))) ? "2" : null);

    let folder: string;
    let summary: EvalSummary;
    let records: SampleRecord[];
    before(async () => {
        folder = await mkdtemp(path.join(tmpdir(), "eval-exact-"));
        const model = path.join(folder, "branches.gguf");
        const dataset = path.join(folder, "branches.jsonl");
        await writeMarkovModel(SPEC, model);
        await writeFile(dataset, PROBLEMS.map((p, i) => JSON.stringify({id: `problem ${i + 1}`, prompt: `Problem ${i + 1}: which branch? ${p.state}`, answer: p.answer})).join("\n"));
        await buildCli();
        const run = await runCli(["eval", "--dataset", dataset, "--model", model, "--out", path.join(folder, "out"), "--json",
            "--methods", "standard,low-temperature,power,smc", "--samples", String(SAMPLES), "--max-tokens", String(MAX_TOKENS),
            "--block-size", String(MAX_TOKENS), "--mcmc-steps", String(MCMC_STEPS), "--alpha", String(ALPHA), "--particles", String(PARTICLES),
            "--ess-threshold", "0", "--seed", "2024", "--threads", "1", "--parallel", String(PROBLEMS.length * SAMPLES)], {timeoutMs: 240_000});
        assert.equal(run.code, 0, describeRun(run));
        summary = JSON.parse(run.stdout) as EvalSummary;
        records = (await readFile(path.join(folder, "out", "results.jsonl"), "utf8")).trim().split("\n").map((line) => JSON.parse(line) as SampleRecord);
    });
    after(() => rm(folder, {recursive: true, force: true}));

    const exact = new Map<string, number>();
    /** The exact chance that `method` answers problem i right. */
    const expected = (method: Method, i: number): number => {
        const key = `${method} ${i}`;
        if (!exact.has(key)) {
            const problem = PROBLEMS[i]!;
            let right = 0;
            for (const [completion, probability] of methodLaw(method, problemChain(problem.state), eos))
                if (answerOf(tokensOf(completion)) === problem.answer) right += probability;
            exact.set(key, right);
        }
        return exact.get(key)!;
    };
    const methods: Method[] = ["standard", "low-temperature", "power", "smc"];

    it("the methods' exact accuracies differ by far more than the noise of the draws", () => {
        const mean = (method: Method) => PROBLEMS.reduce((sum, _, i) => sum + expected(method, i), 0) / PROBLEMS.length;
        const spread = Z * 0.5 / Math.sqrt(SAMPLES * PROBLEMS.length);
        const means = methods.map(mean);
        for (let a = 0; a < means.length; a++)
            for (let b = a + 1; b < means.length; b++)
                if (methods[a] !== "smc" && methods[b] !== "smc") assert.ok(Math.abs(means[a]! - means[b]!) > 2 * spread, `${methods[a]} ${means[a]} vs ${methods[b]} ${means[b]}`);
        const limit = PROBLEMS.reduce((sum, p) => sum + powerShareOfB(p.a, p.answer), 0) / PROBLEMS.length;
        assert.ok(limit > mean("power") && mean("power") > mean("low-temperature"), `p^alpha ${limit}, MH ${mean("power")}, low temperature ${mean("low-temperature")}`);
    });

    for (const method of ["standard", "low-temperature", "power", "smc"] as const) {
        it(`${method}: each problem's accuracy is within its exact binomial interval`, () => {
            for (const [i, problem] of PROBLEMS.entries()) {
                const own = records.filter((r) => r.method === method && r.problem === `problem ${i + 1}`);
                assert.equal(own.length, SAMPLES);
                const correct = own.filter((r) => r.correct).length;
                const p = expected(method, i);
                const [low, high] = binomialInterval(SAMPLES, p, TAIL);
                assert.ok(correct >= low && correct <= high, `${method} problem ${i + 1} (${problem.state}): ${correct} of ${SAMPLES} right, expected ${low}..${high} (p ${p.toFixed(4)})`);
            }
        });

        it(`${method}: summary.json's accuracy and pass@k are the figures of those lines, within noise of the exact ones`, () => {
            const figures = summary.methods[method]!;
            const shares = PROBLEMS.map((_, i) => records.filter((r) => r.method === method && r.problem === `problem ${i + 1}` && r.correct).length / SAMPLES);
            assert.ok(Math.abs(figures.accuracy - shares.reduce((a, b) => a + b, 0) / PROBLEMS.length) < 1e-12);
            for (const k of [1, 2, 8]) {
                // The estimator's exact mean and variance per problem, from the binomial law of its count.
                const moments = PROBLEMS.map((_, i) => estimatorMoments(SAMPLES, expected(method, i), k));
                const mean = moments.reduce((sum, m) => sum + m.mean, 0) / PROBLEMS.length;
                const sd = Math.sqrt(moments.reduce((sum, m) => sum + m.variance, 0)) / PROBLEMS.length;
                assert.ok(Math.abs(figures.passAtK[k]! - mean) <= Z * sd + 1e-9, `${method} pass@${k} ${figures.passAtK[k]} vs ${mean.toFixed(4)} ± ${(Z * sd).toFixed(4)}`);
            }
        });
    }

    it("on the pivotal chain power beats low temperature, as the note says", () => {
        const right = (method: Method) => records.filter((r) => r.method === method && r.problem === "problem 1" && r.correct).length;
        assert.ok(right("power") > 2 * right("low-temperature"), `power ${right("power")}, low temperature ${right("low-temperature")} of ${SAMPLES}`);
        assert.ok(expected("power", 0) > 0.5 && expected("low-temperature", 0) < 0.2);
    });

    it("counts the cost honestly: standard draws each completion's tokens, power more, against standard", () => {
        // Every completion is 2 tokens and its end: standard and low temperature draw 3 per sample.
        assert.equal(summary.methods.standard!.tokensPerProblem, 3 * SAMPLES);
        assert.equal(summary.methods["low-temperature"]!.tokensPerProblem, 3 * SAMPLES);
        assert.equal(summary.methods.smc!.tokensPerProblem, 3 * SAMPLES * PARTICLES);
        assert.ok(summary.methods.power!.costVsStandard!.tokens > 2);
        assert.equal(summary.methods.standard!.costVsStandard!.tokens, 1);
        assert.equal(summary.methods.smc!.costVsStandard!.tokens, PARTICLES);
    });
});

/** p^alpha's share of the right branch: B's completion has p = 1 - a, each of A's ten has a / 10. */
function powerShareOfB(a: number, answer: string): number {
    const b = (1 - a) ** ALPHA;
    const share = b / (b + 10 * (a / 10) ** ALPHA);
    return answer === "1" ? share : 1 - share;
}

function keyOf(tokens: readonly number[]): string {
    return tokens.join(",");
}

function tokensOf(key: string): number[] {
    return key === "" ? [] : key.split(",").map(Number);
}

type Law = Map<string, number>;

/** Every continuation of `prefix` to an end or to MAX_TOKENS tokens, with its probability at `temperature`. */
function continuations(next: NextTokenDistribution, eos: number, prefix: readonly number[], temperature: number): {tokens: number[]; probability: number}[] {
    const found: {tokens: number[]; probability: number}[] = [];
    const visit = (tokens: number[], probability: number) => {
        if (tokens.length === MAX_TOKENS || tokens.at(-1) === eos) {
            found.push({tokens, probability});
            return;
        }
        temper(next(tokens), temperature).forEach((q, token) => {
            if (q > 0) visit([...tokens, token], probability * q);
        });
    };
    visit([...prefix], 1);
    return found;
}

function logP(next: NextTokenDistribution, tokens: readonly number[], from: number, temperature: number): number {
    let sum = 0;
    for (let t = from; t < tokens.length; t++) sum += Math.log(temper(next(tokens.slice(0, t)), temperature)[tokens[t]!]!);
    return sum;
}

/** The law of a method's sample: exact, by enumeration. */
function methodLaw(method: Method, next: NextTokenDistribution, eos: number): Law {
    const tempered = (temperature: number): Law => new Map(continuations(next, eos, [], temperature).map((c) => [keyOf(c.tokens), c.probability]));
    switch (method) {
        case "standard": return tempered(1);
        case "low-temperature": return tempered(1 / ALPHA);
        case "power": return metropolisLaw(next, eos, tempered(1 / ALPHA));
        case "smc": return smcLaw(next, tempered(1 / ALPHA));
        default: throw new Error(`no exact law for ${method}`);
    }
}

/**
 * One block of MAX_TOKENS: the chain starts from the proposal and takes MCMC_STEPS steps; each picks
 * a position uniformly among the n tokens, redraws the suffix from the proposal and accepts with
 * min(1, r), log r = alpha [log p(x') - log p(x)] + [log q(x) - log q(x')] + log n - log m.
 */
function metropolisLaw(next: NextTokenDistribution, eos: number, start: Law): Law {
    let law = start;
    const q = 1 / ALPHA;
    for (let step = 0; step < MCMC_STEPS; step++) {
        const after: Law = new Map();
        const add = (key: string, mass: number) => after.set(key, (after.get(key) ?? 0) + mass);
        for (const [key, mass] of law) {
            const x = tokensOf(key);
            const n = x.length;
            for (let i = 0; i < n; i++) {
                for (const proposal of continuations(next, eos, x.slice(0, i), q)) {
                    const y = proposal.tokens;
                    const logR = ALPHA * (logP(next, y, i, 1) - logP(next, x, i, 1)) + (logP(next, x, i, q) - logP(next, y, i, q)) + Math.log(n) - Math.log(y.length);
                    const accept = Math.min(1, Math.exp(logR));
                    const move = mass / n * proposal.probability;
                    add(keyOf(y), move * accept);
                    add(key, move * (1 - accept));
                }
            }
        }
        law = after;
    }
    return law;
}

/**
 * PARTICLES completions drawn from the proposal, never resampled, one kept with probability in
 * proportion to its weight p^alpha / q: summed over every multiset of completions.
 */
function smcLaw(next: NextTokenDistribution, proposal: Law): Law {
    const completions = [...proposal].map(([key, q]) => ({key, q, weight: Math.exp(ALPHA * logP(next, tokensOf(key), 0, 1) - logP(next, tokensOf(key), 0, 1 / ALPHA))}));
    const law: Law = new Map();
    const counts = completions.map(() => 0);
    const visit = (index: number, left: number, probability: number) => {
        if (index === completions.length - 1) {
            counts[index] = left;
            const p = probability * completions[index]!.q ** left / factorial(left);
            const total = completions.reduce((sum, c, k) => sum + counts[k]! * c.weight, 0);
            completions.forEach((c, k) => {
                if (counts[k]! > 0) law.set(c.key, (law.get(c.key) ?? 0) + factorial(PARTICLES) * p * counts[k]! * c.weight / total);
            });
            return;
        }
        for (let count = 0; count <= left; count++) {
            counts[index] = count;
            visit(index + 1, left - count, probability * completions[index]!.q ** count / factorial(count));
        }
    };
    visit(0, PARTICLES, 1);
    return law;
}

function factorial(n: number): number {
    return n <= 1 ? 1 : n * factorial(n - 1);
}

function binomialPmf(n: number, p: number): number[] {
    const pmf: number[] = [];
    let logChoose = 0;
    for (let k = 0; k <= n; k++) {
        if (k > 0) logChoose += Math.log(n - k + 1) - Math.log(k);
        pmf.push(p === 0 ? Number(k === 0) : p === 1 ? Number(k === n) : Math.exp(logChoose + k * Math.log(p) + (n - k) * Math.log(1 - p)));
    }
    return pmf;
}

/** The counts [low, high] that n draws with chance p of success fall outside with probability at most `tail`. */
function binomialInterval(n: number, p: number, tail: number): [number, number] {
    const pmf = binomialPmf(n, p);
    let low = 0;
    for (let below = 0; below + pmf[low]! <= tail / 2; low++) below += pmf[low]!;
    let high = n;
    for (let above = 0; above + pmf[high]! <= tail / 2; high--) above += pmf[high]!;
    return [low, high];
}

/** Mean and variance of the unbiased pass@k estimator over n samples with chance p each. */
function estimatorMoments(n: number, p: number, k: number): {mean: number; variance: number} {
    const pmf = binomialPmf(n, p);
    const values = pmf.map((_, c) => passAtK(n, c, k));
    const mean = values.reduce((sum, v, c) => sum + v * pmf[c]!, 0);
    return {mean, variance: values.reduce((sum, v, c) => sum + (v - mean) ** 2 * pmf[c]!, 0)};
}
