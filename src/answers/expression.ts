/**
 * LaTeX math answers as expressions, and their numeric values: a small recursive-descent parser
 * over normalised answers (normalise.ts) and a complex-number evaluator. Nothing is executed but
 * arithmetic, so answers can be compared by value safely: 2\sqrt{2} and \sqrt{8}, 0.5 and
 * \frac{1}{2}, 6+9i and 9i+6, and (with variables, at sample points) (a+5)(b+2) and ab+2a+5b+10.
 */
import {GREEK_LETTERS} from "./normalise.js";

export type FunctionName = "sin" | "cos" | "tan" | "cot" | "sec" | "csc" | "arcsin" | "arccos" | "arctan"
    | "sinh" | "cosh" | "tanh" | "ln" | "exp" | "abs";

export type Expression =
    | {readonly kind: "number"; readonly value: number; readonly text: string}
    | {readonly kind: "variable"; readonly name: string}
    | {readonly kind: "constant"; readonly name: "pi" | "i" | "infinity"}
    | {readonly kind: "negate"; readonly operand: Expression}
    | {readonly kind: "binary"; readonly operator: "+" | "-" | "*" | "/" | "^"; readonly left: Expression; readonly right: Expression}
    | {readonly kind: "function"; readonly name: FunctionName; readonly argument: Expression}
    /** The real n-th root (odd roots of negative numbers are negative), as \sqrt[n]{x} means. */
    | {readonly kind: "root"; readonly degree: Expression; readonly radicand: Expression}
    | {readonly kind: "factorial"; readonly operand: Expression}
    | {readonly kind: "binomial"; readonly n: Expression; readonly k: Expression};

export interface Complex {
    readonly re: number;
    readonly im: number;
}

/** Answers longer than this are compared as strings only: no real answer is, and parsing stays cheap. */
const MAX_PARSED_LENGTH = 400;

const FUNCTIONS: ReadonlySet<string> = new Set<FunctionName>([
    "sin", "cos", "tan", "cot", "sec", "csc", "arcsin", "arccos", "arctan", "sinh", "cosh", "tanh", "ln", "exp",
]);
const INVERSES: Partial<Record<FunctionName, FunctionName>> = {sin: "arcsin", cos: "arccos", tan: "arctan"};
const GREEK: ReadonlySet<string> = new Set(GREEK_LETTERS);
const UNICODE: Readonly<Record<string, string>> = {"π": "\\pi", "∞": "\\infty", "×": "*", "·": "*", "⋅": "*", "−": "-", "√": "\\sqrt"};

type Token = {readonly kind: "number" | "letter" | "command" | "symbol"; readonly text: string};

function tokenize(text: string): Token[] | null {
    const tokens: Token[] = [];
    const source = text.replace(/[π∞×·⋅−√]/g, (c) => UNICODE[c]);
    for (let i = 0; i < source.length;) {
        const rest = source.slice(i);
        const match = /^\d+(?:\.\d+)?/.exec(rest) ?? /^\\[a-zA-Z]+/.exec(rest) ?? /^\\[{}|]/.exec(rest);
        if (match) {
            const kind = /\d/.test(match[0][0]) ? "number" : /^\\[a-zA-Z]/.test(match[0]) ? "command" : "symbol";
            tokens.push({kind, text: kind === "command" ? match[0].slice(1) : match[0]});
            i += match[0].length;
        } else if (/\s/.test(rest[0])) {
            i++;
        } else if (/[a-zA-Z]/.test(rest[0])) {
            tokens.push({kind: "letter", text: rest[0]});
            i++;
        } else if ("+-*/^_()[]{}!|".includes(rest[0])) {
            tokens.push({kind: "symbol", text: rest[0]});
            i++;
        } else {
            return null; // a character no scalar answer has (=, <, ', a \\ line break, ...)
        }
    }
    return tokens;
}

/** The expression a normalised answer writes, or null when it is not one (text, relations, tuples). */
export function parseExpression(text: string): Expression | null {
    if (text.length > MAX_PARSED_LENGTH) return null;
    const tokens = tokenize(text);
    if (tokens === null || tokens.length === 0) return null;
    try {
        const parser = new Parser(tokens);
        const expression = parser.sum();
        return parser.atEnd() ? expression : null;
    } catch (error) {
        if (error instanceof SyntaxError) return null;
        throw error;
    }
}

const number = (value: number): Expression => ({kind: "number", value, text: String(value)});
const binary = (operator: "+" | "-" | "*" | "/" | "^", left: Expression, right: Expression): Expression => ({kind: "binary", operator, left, right});

class Parser {
    private at = 0;

    constructor(private readonly tokens: readonly Token[]) {}

    atEnd(): boolean {
        return this.at === this.tokens.length;
    }

    sum(): Expression {
        let left = this.product();
        for (let token = this.peek(); token?.kind === "symbol" && (token.text === "+" || token.text === "-"); token = this.peek()) {
            this.at++;
            left = binary(token.text === "+" ? "+" : "-", left, this.product());
        }
        return left;
    }

    private product(): Expression {
        let left = this.unary();
        for (let factors = 1; ; factors++) {
            const token = this.peek();
            if (token === undefined) return left;
            if (this.isSymbol(token, "*", "/") || this.isCommand(token, "cdot", "times", "div")) {
                this.at++;
                left = binary(token.text === "/" || token.text === "div" ? "/" : "*", left, this.unary());
            } else if (this.startsFactor(token)) {
                const right = this.power();
                // 1\frac{4}{5} is a mixed number (MATH writes them so), not a product.
                left = factors === 1 && this.isCommand(token, "frac") && isIntegerLiteral(left) && isIntegerFraction(right)
                    ? (left.kind === "negate" ? {kind: "negate", operand: binary("+", left.operand, right)} : binary("+", left, right))
                    : binary("*", left, right);
            } else {
                return left;
            }
        }
    }

    private unary(): Expression {
        const token = this.peek();
        if (token !== undefined && this.isSymbol(token, "-", "+")) {
            this.at++;
            const operand = this.unary();
            return token.text === "-" ? {kind: "negate", operand} : operand;
        }
        return this.power();
    }

    private power(): Expression {
        const base = this.postfix();
        const token = this.peek();
        if (token === undefined || !this.isSymbol(token, "^")) return base;
        this.at++;
        return binary("^", base, this.exponent());
    }

    /** `x^2`, `x^{n+1}`, `x^-1`, `2^10` (a number token is one exponent, as people mean it). */
    private exponent(): Expression {
        const token = this.peek();
        if (token !== undefined && this.isSymbol(token, "-")) {
            this.at++;
            return {kind: "negate", operand: this.exponent()};
        }
        return this.postfix();
    }

    private postfix(): Expression {
        let operand = this.atom();
        for (let token = this.peek(); token !== undefined && this.isSymbol(token, "!"); token = this.peek()) {
            this.at++;
            operand = {kind: "factorial", operand};
        }
        return operand;
    }

    private atom(): Expression {
        const token = this.next();
        switch (token.kind) {
            case "number":
                return {kind: "number", value: Number(token.text), text: token.text};
            case "letter":
                return token.text === "i" ? {kind: "constant", name: "i"} : {kind: "variable", name: token.text};
            case "symbol":
                return this.group(token.text);
            case "command":
                return this.command(token.text);
        }
    }

    private group(open: string): Expression {
        const close = {"(": ")", "[": "]", "{": "}", "|": "|"}[open];
        if (close === undefined) throw new SyntaxError(`unexpected ${open}`);
        const inner = this.sum();
        this.expect(close);
        return open === "|" ? {kind: "function", name: "abs", argument: inner} : inner;
    }

    private command(name: string): Expression {
        if (name === "pi") return {kind: "constant", name: "pi"};
        if (name === "infty") return {kind: "constant", name: "infinity"};
        if (GREEK.has(name)) return {kind: "variable", name: `\\${name}`};
        if (name === "frac" || name === "binom") {
            const top = this.braced();
            const bottom = this.braced();
            return name === "frac" ? binary("/", top, bottom) : {kind: "binomial", n: top, k: bottom};
        }
        if (name === "sqrt") {
            let degree: Expression = number(2);
            if (this.peek()?.text === "[") {
                this.at++;
                degree = this.sum();
                this.expect("]");
            }
            return {kind: "root", degree, radicand: this.braced()};
        }
        if (name === "log" || FUNCTIONS.has(name)) return this.application(name);
        throw new SyntaxError(`unknown command \\${name}`);
    }

    /** `\sin x`, `\sin(2x)`, `\sin^2 x`, `\sin^{-1} x`, `\log_2 8`, `\ln x`, `\log x` (natural, as sympy reads it). */
    private application(name: string): Expression {
        let base: Expression | null = null;
        let exponent: Expression | null = null;
        for (let token = this.peek(); token !== undefined && this.isSymbol(token, "_", "^"); token = this.peek()) {
            this.at++;
            if (token.text === "_") base = this.postfix();
            else exponent = this.exponent();
        }
        const argument = this.argument();
        const inverse = INVERSES[name as FunctionName];
        if (exponent !== null && inverse !== undefined && isMinusOne(exponent)) return {kind: "function", name: inverse, argument};
        const ln = (x: Expression): Expression => ({kind: "function", name: "ln", argument: x});
        const applied: Expression = name === "log"
            ? (base === null ? ln(argument) : binary("/", ln(argument), ln(base)))
            : {kind: "function", name: name as FunctionName, argument};
        return exponent === null ? applied : binary("^", applied, exponent);
    }

    /** A bracketed group, or the implicit product up to the next function (`\sin 2x \cos x`). */
    private argument(): Expression {
        const first = this.peek();
        if (first === undefined) throw new SyntaxError("missing argument");
        // \sin(x)^2 is (\sin x)^2: the exponent is left to the caller.
        if (this.isSymbol(first, "(", "[", "{")) return this.postfix();
        let argument = this.power();
        for (let token = this.peek(); token !== undefined && this.startsFactor(token) && !this.isFunction(token); token = this.peek()) {
            argument = binary("*", argument, this.power());
        }
        return argument;
    }

    private braced(): Expression {
        this.expect("{");
        const inner = this.sum();
        this.expect("}");
        return inner;
    }

    /** Whether the token can begin a factor of an implicit product (`2x`, `3\sqrt{2}`, `(a+1)(b+2)`). */
    private startsFactor(token: Token): boolean {
        if (token.kind === "number" || token.kind === "letter") return true;
        if (token.kind === "symbol") return token.text === "(" || token.text === "[" || token.text === "{";
        return ["pi", "infty", "frac", "sqrt", "binom", "log"].includes(token.text) || GREEK.has(token.text) || FUNCTIONS.has(token.text);
    }

    private isFunction(token: Token): boolean {
        return token.kind === "command" && (token.text === "log" || FUNCTIONS.has(token.text));
    }

    private isSymbol(token: Token, ...texts: string[]): boolean {
        return token.kind === "symbol" && texts.includes(token.text);
    }

    private isCommand(token: Token, ...names: string[]): boolean {
        return token.kind === "command" && names.includes(token.text);
    }

    private peek(): Token | undefined {
        return this.tokens[this.at];
    }

    private next(): Token {
        const token = this.tokens[this.at++];
        if (token === undefined) throw new SyntaxError("unexpected end");
        return token;
    }

    private expect(text: string): void {
        if (this.next().text !== text) throw new SyntaxError(`expected ${text}`);
    }
}

function isMinusOne(expression: Expression): boolean {
    return expression.kind === "negate" && expression.operand.kind === "number" && expression.operand.value === 1;
}

/** A whole number as written: digits, with a minus in front or not (`2`, `-7`; not `4/2`, not `2.5`). */
export function isIntegerLiteral(expression: Expression): boolean {
    const literal = expression.kind === "negate" ? expression.operand : expression;
    return literal.kind === "number" && /^\d+$/.test(literal.text);
}

/** A fraction of two whole numbers as written, its sign in the numerator; null for anything else. */
export function integerFraction(expression: Expression): {numerator: number; denominator: number} | null {
    if (expression.kind === "negate") {
        const inner = integerFraction(expression.operand);
        return inner && {numerator: -inner.numerator, denominator: inner.denominator};
    }
    if (expression.kind !== "binary" || expression.operator !== "/") return null;
    const {left, right} = expression;
    if (!isIntegerLiteral(left) || !isIntegerLiteral(right)) return null;
    const value = (literal: Expression): number => literal.kind === "negate" ? -value(literal.operand) : (literal as {value: number}).value;
    const denominator = value(right);
    return denominator < 0 ? {numerator: -value(left), denominator: -denominator} : {numerator: value(left), denominator};
}

function isIntegerFraction(expression: Expression): boolean {
    return expression.kind === "binary" && expression.operator === "/" && integerFraction(expression) !== null;
}

/** The variable names in the expression (Greek letters with their backslash). */
export function variablesOf(expression: Expression, into = new Set<string>()): Set<string> {
    switch (expression.kind) {
        case "variable":
            into.add(expression.name);
            break;
        case "negate":
        case "factorial":
            variablesOf(expression.operand, into);
            break;
        case "binary":
            variablesOf(expression.left, into);
            variablesOf(expression.right, into);
            break;
        case "function":
            variablesOf(expression.argument, into);
            break;
        case "root":
            variablesOf(expression.degree, into);
            variablesOf(expression.radicand, into);
            break;
        case "binomial":
            variablesOf(expression.n, into);
            variablesOf(expression.k, into);
            break;
    }
    return into;
}

const complex = (re: number, im = 0): Complex => ({re, im});
const NAN = complex(NaN, NaN);

/** The expression's value with the given variable values; NaN parts where it has none (0/0, a missing variable). */
export function evaluate(expression: Expression, variables: ReadonlyMap<string, number> = new Map()): Complex {
    switch (expression.kind) {
        case "number":
            return complex(expression.value);
        case "variable": {
            const value = variables.get(expression.name);
            return value === undefined ? NAN : complex(value);
        }
        case "constant":
            return expression.name === "pi" ? complex(Math.PI) : expression.name === "i" ? complex(0, 1) : complex(Infinity);
        case "negate": {
            const value = evaluate(expression.operand, variables);
            return complex(-value.re, -value.im);
        }
        case "binary":
            return arithmetic(expression.operator, evaluate(expression.left, variables), evaluate(expression.right, variables));
        case "function":
            return apply(expression.name, evaluate(expression.argument, variables));
        case "root":
            return root(evaluate(expression.degree, variables), evaluate(expression.radicand, variables));
        case "factorial": {
            const n = real(evaluate(expression.operand, variables));
            return Number.isInteger(n) && n >= 0 && n <= 170 ? complex(product(1, n)) : NAN;
        }
        case "binomial": {
            const n = real(evaluate(expression.n, variables));
            const k = real(evaluate(expression.k, variables));
            if (!Number.isInteger(n) || !Number.isInteger(k) || k < 0 || k > n || n > 1000) return NAN;
            return complex(Math.round(product(n - k + 1, n) / product(1, k)));
        }
    }
}

function product(from: number, to: number): number {
    let result = 1;
    for (let i = from; i <= to; i++) result *= i;
    return result;
}

/** The real part of a value with no imaginary part to speak of, else NaN. */
function real(value: Complex): number {
    return Math.abs(value.im) <= 1e-12 * Math.max(1, Math.abs(value.re)) ? value.re : NaN;
}

function arithmetic(operator: "+" | "-" | "*" | "/" | "^", a: Complex, b: Complex): Complex {
    switch (operator) {
        case "+":
            return complex(a.re + b.re, a.im + b.im);
        case "-":
            return complex(a.re - b.re, a.im - b.im);
        case "*":
            return multiply(a, b);
        case "/":
            return divide(a, b);
        case "^":
            return power(a, b);
    }
}

function multiply(a: Complex, b: Complex): Complex {
    // Real operands stay exactly real (Infinity * 0i would make NaN).
    if (a.im === 0 && b.im === 0) return complex(a.re * b.re);
    return complex(a.re * b.re - a.im * b.im, a.re * b.im + a.im * b.re);
}

function divide(a: Complex, b: Complex): Complex {
    if (b.im === 0) return complex(a.re / b.re, a.im === 0 ? 0 : a.im / b.re);
    const scale = b.re * b.re + b.im * b.im;
    return complex((a.re * b.re + a.im * b.im) / scale, (a.im * b.re - a.re * b.im) / scale);
}

function power(base: Complex, exponent: Complex): Complex {
    const n = real(exponent);
    if (Number.isInteger(n) && Math.abs(n) <= 4096) {
        // Exact for integers, and right for negative bases (-2)^3.
        let result = complex(1);
        let square = base;
        for (let e = Math.abs(n); e > 0; e >>= 1) {
            if (e & 1) result = multiply(result, square);
            square = multiply(square, square);
        }
        return n < 0 ? divide(complex(1), result) : result;
    }
    if (base.im === 0 && base.re >= 0 && !Number.isNaN(n)) return complex(Math.pow(base.re, n));
    if (base.re === 0 && base.im === 0) return NAN;
    return exp(multiply(exponent, log(base)));
}

function root(degree: Complex, radicand: Complex): Complex {
    const n = real(degree);
    const x = real(radicand);
    if (n === 2) return sqrt(radicand);
    if (Number.isInteger(n) && n % 2 === 1 && x < 0) return complex(-Math.pow(-x, 1 / n));
    return power(radicand, divide(complex(1), degree));
}

function sqrt(value: Complex): Complex {
    if (value.im === 0) return value.re >= 0 ? complex(Math.sqrt(value.re)) : complex(0, Math.sqrt(-value.re));
    const modulus = Math.hypot(value.re, value.im);
    const re = Math.sqrt((modulus + value.re) / 2);
    return complex(re, value.im / (2 * re));
}

function log(value: Complex): Complex {
    return complex(Math.log(Math.hypot(value.re, value.im)), Math.atan2(value.im, value.re));
}

function exp(value: Complex): Complex {
    const scale = Math.exp(value.re);
    return value.im === 0 ? complex(scale) : complex(scale * Math.cos(value.im), scale * Math.sin(value.im));
}

function apply(name: FunctionName, argument: Complex): Complex {
    switch (name) {
        case "ln":
            return argument.im === 0 && argument.re > 0 ? complex(Math.log(argument.re)) : log(argument);
        case "exp":
            return exp(argument);
        case "abs":
            return complex(Math.hypot(argument.re, argument.im));
    }
    // The rest is needed for real arguments only: MATH has no complex trigonometry.
    const x = real(argument);
    const value = {
        sin: Math.sin, cos: Math.cos, tan: Math.tan, cot: (t: number) => 1 / Math.tan(t), sec: (t: number) => 1 / Math.cos(t),
        csc: (t: number) => 1 / Math.sin(t), arcsin: Math.asin, arccos: Math.acos, arctan: Math.atan,
        sinh: Math.sinh, cosh: Math.cosh, tanh: Math.tanh,
    }[name](x);
    return complex(value);
}
