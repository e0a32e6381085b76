/**
 * Benchmark datasets as published, read into one problem type: its id, the prompt the model sees
 * (the power-sampling paper's), the reference answer and how it is graded. A malformed file is
 * refused with one line that names the file and the line.
 */
import {readFile} from "node:fs/promises";
import path from "node:path";
import {gunzipSync} from "node:zlib";
import {gsm8kReference} from "../answers/gsm8k.js";
import {mathPrompt} from "../llama/prompts.js";
import {InvalidInputError} from "../sampling/errors.js";

/**
 * math500: a JSON array of {prompt, answer, id} (MATH500.json as the paper's repository has it).
 * gsm8k: JSON lines {question, answer}, the final answer after `####` (the GSM8K test split).
 * humaneval: JSON lines, gzipped or not, {task_id, prompt, entry_point, canonical_solution, test}.
 * jsonl: JSON lines {id, prompt, answer} of your own; the prompt as is, graded like MATH.
 */
export const DATASET_FORMATS = ["math500", "gsm8k", "humaneval", "jsonl"] as const;
export type DatasetFormat = (typeof DATASET_FORMATS)[number];

export interface AnswerProblem {
    /** Unique within the dataset: the dataset's own id, or `gsm8k/<index>`. */
    readonly id: string;
    /** The text the model continues: the paper's MATH prompt around the problem, or a jsonl prompt as is. */
    readonly prompt: string;
    /** math: the last \boxed{} against the reference (mathAnswersEqual); gsm8k: numbers. */
    readonly grader: "math" | "gsm8k";
    /** The reference final answer (for GSM8K the number after `####`, as written). */
    readonly reference: string;
}

export interface CodeProblem {
    /** HumanEval's task_id, e.g. `HumanEval/0`. */
    readonly id: string;
    /** The function stub, as is: the model writes its body. */
    readonly prompt: string;
    readonly grader: "humaneval";
    /** The canonical solution (a body for the stub). */
    readonly reference: string;
    /** Python that defines check(candidate). */
    readonly test: string;
    /** The function check() is called with. */
    readonly entryPoint: string;
}

export type EvalProblem = AnswerProblem | CodeProblem;

export interface Dataset {
    readonly format: DatasetFormat;
    readonly problems: readonly EvalProblem[];
}

/** Reads a dataset file; without a format it is told from the name and the first record. */
export async function loadDataset(file: string, format?: DatasetFormat): Promise<Dataset> {
    let bytes: Buffer;
    try {
        bytes = await readFile(file);
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        throw new InvalidInputError(code === "ENOENT" ? `dataset file not found: ${file}` : `cannot read dataset ${file}: ${(error as Error).message}`);
    }
    const source = path.basename(file);
    const text = isGzip(bytes) ? gunzip(bytes, source) : bytes.toString("utf8");
    const resolved = format ?? detectFormat(text, file);
    return {format: resolved, problems: parseDataset(text, resolved, source)};
}

function isGzip(bytes: Buffer): boolean {
    return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

function gunzip(bytes: Buffer, source: string): string {
    try {
        return gunzipSync(bytes).toString("utf8");
    } catch (error) {
        throw new InvalidInputError(`${source}: not a readable gzip file (${(error as Error).message})`);
    }
}

/** The format of a dataset by its content: a JSON array is math500; JSON lines by their first record's fields. */
export function detectFormat(text: string, file: string): DatasetFormat {
    const start = text.trimStart();
    if (start.startsWith("[")) return "math500";
    const first = start.split("\n", 1)[0];
    let record: unknown;
    try {
        record = JSON.parse(first);
    } catch {
        throw new InvalidInputError(`${path.basename(file)}: neither a JSON array nor JSON lines; expected MATH500 (.json), GSM8K, HumanEval or {id, prompt, answer} lines`);
    }
    const fields = typeof record === "object" && record !== null ? Object.keys(record) : [];
    if (fields.includes("task_id")) return "humaneval";
    if (fields.includes("question")) return "gsm8k";
    if (fields.includes("prompt") && fields.includes("answer")) return "jsonl";
    throw new InvalidInputError(`${path.basename(file)}:1: unknown dataset record with fields ${JSON.stringify(fields)}; expected GSM8K {question, answer}, HumanEval {task_id, ...} or {id, prompt, answer}`);
}

/** Problems of a dataset's text; `source` names the file in error messages. */
export function parseDataset(text: string, format: DatasetFormat, source: string): EvalProblem[] {
    const records = format === "math500" ? arrayRecords(text, source) : lineRecords(text, source);
    const problems = records.map(({value, line}, index) => {
        const fields = new RecordFields(value, `${source}:${line}`);
        return toProblem(format, fields, index);
    });
    if (problems.length === 0) throw new InvalidInputError(`${source}: no problems in the file`);
    const lineOf = new Map<string, number>();
    problems.forEach((problem, index) => {
        const earlier = lineOf.get(problem.id);
        if (earlier !== undefined) throw new InvalidInputError(`${source}:${records[index].line}: id ${JSON.stringify(problem.id)} already used on line ${earlier}`);
        lineOf.set(problem.id, records[index].line);
    });
    return problems;
}

function toProblem(format: DatasetFormat, fields: RecordFields, index: number): EvalProblem {
    switch (format) {
        case "math500":
            return {id: fields.string("id"), prompt: mathPrompt(fields.string("prompt")), grader: "math", reference: fields.string("answer")};
        case "gsm8k": {
            const solution = fields.string("answer");
            const reference = gsm8kReference(solution);
            if (reference === null) throw fields.error(`"answer" has no final answer after "####"`);
            return {id: `gsm8k/${index}`, prompt: mathPrompt(fields.string("question")), grader: "gsm8k", reference};
        }
        case "humaneval":
            return {
                id: fields.string("task_id"), prompt: fields.string("prompt"), grader: "humaneval",
                reference: fields.string("canonical_solution"), test: fields.string("test"), entryPoint: fields.identifier("entry_point"),
            };
        case "jsonl":
            return {id: fields.scalar("id"), prompt: fields.string("prompt"), grader: "math", reference: fields.scalar("answer")};
    }
}

/** A record's fields, checked, with errors that name the place. */
class RecordFields {
    private readonly record: Record<string, unknown>;

    constructor(value: unknown, private readonly place: string) {
        if (typeof value !== "object" || value === null || Array.isArray(value)) throw this.error(`expected a JSON object, got ${shown(value)}`);
        this.record = value as Record<string, unknown>;
    }

    string(name: string): string {
        const value = this.record[name];
        if (typeof value !== "string" || value.trim() === "") throw this.error(`"${name}" must be a non-empty string, got ${shown(value)}`);
        return value;
    }

    /** A string, or a number taken as written (ids and answers of hand-made files). */
    scalar(name: string): string {
        const value = this.record[name];
        return typeof value === "number" && Number.isFinite(value) ? String(value) : this.string(name);
    }

    /** A Python identifier: it is pasted into the program that runs the tests. */
    identifier(name: string): string {
        const value = this.string(name);
        if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(value)) throw this.error(`"${name}" must be a Python identifier, got ${JSON.stringify(value)}`);
        return value;
    }

    error(message: string): InvalidInputError {
        return new InvalidInputError(`${this.place}: ${message}`);
    }
}

function shown(value: unknown): string {
    if (value === undefined) return "nothing";
    const text = JSON.stringify(value);
    return text.length > 40 ? `${text.slice(0, 40)}...` : text;
}

interface LocatedRecord {
    readonly value: unknown;
    /** 1-based line where the record starts. */
    readonly line: number;
}

/** JSON lines; blank lines are skipped. */
function lineRecords(text: string, source: string): LocatedRecord[] {
    const records: LocatedRecord[] = [];
    text.split("\n").forEach((content, index) => {
        if (content.trim() === "") return;
        try {
            records.push({value: JSON.parse(content), line: index + 1});
        } catch (error) {
            throw new InvalidInputError(`${source}:${index + 1}: not valid JSON (${(error as Error).message})`);
        }
    });
    return records;
}

/** A JSON array's elements, each with the line it starts on. */
function arrayRecords(text: string, source: string): LocatedRecord[] {
    let value: unknown;
    try {
        value = JSON.parse(text);
    } catch (error) {
        const position = /position (\d+)/.exec((error as Error).message);
        const place = position ? `${source}:${lineAt(text, Number(position[1]))}` : source;
        throw new InvalidInputError(`${place}: not valid JSON (${(error as Error).message})`);
    }
    if (!Array.isArray(value)) throw new InvalidInputError(`${source}: expected a JSON array of problems, got ${shown(value)}`);
    const lines = elementLines(text);
    return value.map((element, index) => ({value: element, line: lines[index]}));
}

function lineAt(text: string, offset: number): number {
    let line = 1;
    for (let i = 0; i < offset && i < text.length; i++) if (text[i] === "\n") line++;
    return line;
}

/** The line each element of a valid top-level JSON array starts on. */
function elementLines(text: string): number[] {
    const lines: number[] = [];
    let line = 1;
    let depth = 0;
    let inString = false;
    let expectingElement = false;
    for (let i = 0; i < text.length; i++) {
        const c = text[i];
        if (c === "\n") line++;
        if (inString) {
            if (c === "\\") i++;
            else if (c === "\"") inString = false;
            continue;
        }
        if (/\s/.test(c)) continue;
        if (depth === 1 && expectingElement && c !== "]") {
            lines.push(line);
            expectingElement = false;
        }
        if (c === "\"") inString = true;
        else if (c === "[" || c === "{") {
            depth++;
            if (depth === 1) expectingElement = true;
        } else if (c === "]" || c === "}") depth--;
        else if (c === "," && depth === 1) expectingElement = true;
    }
    return lines;
}
