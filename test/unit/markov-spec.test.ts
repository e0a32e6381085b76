import {strict as assert} from "node:assert";
import {
    markovTransition,
    markovVocabulary,
    MARKOV_FIRST_TOKEN_ID,
    MarkovSpecError,
    parseMarkovSpec,
    PIVOTAL_CHAIN,
} from "../../src/testmodels/markov.js";

const valid = {
    tokens: ["x", "y"],
    transitions: {
        "<s>": {x: 0.5, y: 0.5},
        x: {y: 0.7, "</s>": 0.3},
        y: {x: 0.2, y: 0.2, "</s>": 0.6},
    },
};

/** `valid` with some rows replaced. */
function withRows(rows: Record<string, unknown>, tokens: unknown = valid.tokens): unknown {
    return {tokens, transitions: {...valid.transitions, ...rows}};
}

function rejects(json: unknown, message: string): void {
    assert.throws(
        () => parseMarkovSpec(json),
        (error: unknown) => {
            assert.ok(error instanceof MarkovSpecError);
            assert.equal(error.message, `invalid Markov spec: ${message}`);
            return true;
        },
    );
}

describe("Markov spec", function () {
    it("accepts a valid spec and returns an equal copy", () => {
        const spec = parseMarkovSpec(JSON.parse(JSON.stringify(valid)));
        assert.deepEqual(spec.tokens, valid.tokens);
        assert.deepEqual({...spec.transitions}, valid.transitions);
        assert.deepEqual({...spec.transitions["x"]}, valid.transitions.x);
    });

    it("accepts PIVOTAL_CHAIN", () => {
        const spec = parseMarkovSpec(PIVOTAL_CHAIN);
        assert.deepEqual(spec.tokens, ["A", "B", "a0", "a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b"]);
    });

    it("rejects a row that does not sum to 1", () => {
        rejects(withRows({x: {y: 0.6, "</s>": 0.3}}), 'transitions["x"] sums to 0.9, expected 1');
        rejects(withRows({x: {}}), 'transitions["x"] sums to 0, expected 1');
        rejects(withRows({"<s>": {x: 0.5, y: 0.6}}), 'transitions["<s>"] sums to 1.1, expected 1');
    });

    it("tolerates rounding in row sums up to 1e-6", () => {
        parseMarkovSpec(withRows({x: {y: 0.7 + 5e-7, "</s>": 0.3}}));
        rejects(withRows({x: {y: 0.7 + 2e-6, "</s>": 0.3}}), 'transitions["x"] sums to 1.000002, expected 1');
    });

    it("rejects unknown tokens as rows or next tokens", () => {
        rejects(withRows({z: {"</s>": 1}}), 'transitions["z"]: "z" is not a declared token');
        rejects(withRows({x: {z: 1}}), 'transitions["x"]["z"]: "z" is not a declared token or "</s>"');
        rejects(withRows({x: {"<s>": 1}}), 'transitions["x"]["<s>"]: "<s>" is the start state, not a next token');
        rejects(withRows({"</s>": {x: 1}}), 'transitions["</s>"]: "</s>" is the end state and has no row');
    });

    it("rejects a missing row", () => {
        rejects({tokens: ["x", "y"], transitions: {"<s>": {x: 1}, x: {"</s>": 1}}}, 'transitions has no row for "y" (every declared token needs one)');
        rejects({tokens: ["x"], transitions: {x: {"</s>": 1}}}, 'transitions has no row for "<s>" (the start state)');
    });

    it("rejects negative, out-of-range and non-numeric probabilities", () => {
        rejects(withRows({x: {y: 1.1, "</s>": -0.1}}), 'transitions["x"]["y"] is 1.1, expected a probability in [0, 1]');
        rejects(withRows({x: {y: -0.1, "</s>": 1.1}}), 'transitions["x"]["y"] is -0.1, expected a probability in [0, 1]');
        rejects(withRows({x: {y: "0.7", "</s>": 0.3}}), 'transitions["x"]["y"] must be a number, got the string "0.7"');
        rejects(withRows({x: {y: null, "</s>": 1}}), 'transitions["x"]["y"] must be a number, got null');
    });

    it("rejects a bad JSON shape", () => {
        rejects(null, 'expected an object with "tokens" and "transitions", got null');
        rejects([valid], 'expected an object with "tokens" and "transitions", got an array');
        rejects(JSON.stringify(valid), 'expected an object with "tokens" and "transitions", got the string ' + JSON.stringify(JSON.stringify(valid)));
        rejects({...valid, extra: 1}, 'unexpected key "extra" (expected only "tokens" and "transitions")');
        rejects({transitions: valid.transitions}, '"tokens" must be an array of strings, got undefined');
        rejects({tokens: "xy", transitions: valid.transitions}, '"tokens" must be an array of strings, got the string "xy"');
        rejects({tokens: valid.tokens}, '"transitions" must be an object of rows, got undefined');
        rejects({tokens: valid.tokens, transitions: []}, '"transitions" must be an object of rows, got an array');
        rejects(withRows({x: [0.7, 0.3]}), 'transitions["x"] must be an object of next-token probabilities, got an array');
    });

    it("rejects bad token declarations", () => {
        rejects(withRows({}, ["x", 3]), "tokens[1] must be a string, got the number 3");
        rejects(withRows({}, ["x", ""]), "tokens[1] is empty");
        rejects(withRows({}, ["x", "y", "x"]), 'tokens[2] "x" is declared twice');
        rejects(withRows({}, ["x", "y", "</s>"]), 'tokens[2] "</s>" is reserved (<unk>, <s>, </s> and <0x00>..<0xFF> are built in)');
        rejects(withRows({}, ["<0x0A>", "x", "y"]), 'tokens[0] "<0x0A>" is reserved (<unk>, <s>, </s> and <0x00>..<0xFF> are built in)');
    });

    it("treats tokens named like Object.prototype members as ordinary tokens", () => {
        // JSON.parse makes "__proto__" an own key, as a spec file would.
        const spec = parseMarkovSpec(JSON.parse(`{
            "tokens": ["constructor", "__proto__"],
            "transitions": {"<s>": {"constructor": 1}, "constructor": {"__proto__": 1}, "__proto__": {"</s>": 1}}
        }`));
        const p = markovTransition(spec);
        assert.equal(p("constructor", "constructor"), 0);
        assert.equal(p("<s>", "constructor"), 1);
        assert.equal(p("constructor", "__proto__"), 1);
        assert.equal(p("__proto__", "</s>"), 1);
        assert.equal(Object.getPrototypeOf(spec.transitions), Object.prototype);
    });

    it("markovTransition gives P(next | current) by token string", () => {
        const p = markovTransition(parseMarkovSpec(valid));
        assert.equal(p("<s>", "x"), 0.5);
        assert.equal(p("x", "y"), 0.7);
        assert.equal(p("x", "</s>"), 0.3);
        assert.equal(p("x", "x"), 0); // not listed: impossible
        assert.equal(p("<s>", "</s>"), 0);
        assert.throws(() => p("</s>", "x"), /"<\/s>" is not a state of this chain/);
        assert.throws(() => p("x", "z"), /"z" is not a next token of this chain/);
    });

    it("PIVOTAL_CHAIN has the note's sequence probabilities", () => {
        const p = markovTransition(PIVOTAL_CHAIN);
        const sequenceProbability = (tokens: string[]) =>
            ["<s>", ...tokens].reduce((acc, token, i, all) => acc * p(token, all[i + 1] ?? "</s>"), 1);
        assert.ok(Math.abs(sequenceProbability(["A", "a3"]) - 0.06) < 1e-12);
        assert.ok(Math.abs(sequenceProbability(["B", "b"]) - 0.4) < 1e-12);
        assert.equal(sequenceProbability(["A", "b"]), 0);
        // Power distribution, alpha 4: B b gets 0.4^4 / (0.4^4 + 10 * 0.06^4) = 99.5 %.
        const b = 0.4 ** 4;
        const a = 10 * 0.06 ** 4;
        assert.equal((b / (a + b)).toFixed(3), "0.995");
    });

    it("markovVocabulary puts the chain's tokens after <unk>, <s>, </s> and the byte tokens", () => {
        const vocab = markovVocabulary(parseMarkovSpec(valid));
        assert.equal(vocab.length, 261);
        assert.deepEqual(vocab.slice(0, 4), ["<unk>", "<s>", "</s>", "<0x00>"]);
        assert.equal(vocab[3 + 0x0a], "<0x0A>");
        assert.equal(vocab[MARKOV_FIRST_TOKEN_ID], "x");
        assert.equal(vocab[MARKOV_FIRST_TOKEN_ID + 1], "y");
    });
});
