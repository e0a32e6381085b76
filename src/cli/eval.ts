/**
 * `power-sampling eval`: a dataset's problems through several methods on one model, graded, with
 * accuracy, pass@k, votes and cost per method; results.jsonl, summary.json and report.html in
 * --out, resumable. Sampling flags are solve's.
 */
import path from "node:path";
import {METHODS, type Method, resolveParams, resolvePromptMode} from "../protocol/params.js";
import {InvalidInputError} from "../sampling/errors.js";
import {datasetsFolder, openDataset} from "../eval/dataset-source.js";
import {type EvalEngine, llamaEngine, remoteEngine} from "../eval/engine.js";
import {type EvalOutcome, runEvaluation} from "../eval/harness.js";
import {formatCount, formatDuration, formatPercent} from "../protocol/figures.js";
import {describeIsolation, PythonSandbox} from "../eval/sandbox.js";
import {flagOf, parseCommandLine, parseThreads, positiveInteger, samplingFlagOptions, samplingFlagValues, takesNoArguments} from "./args.js";
import {cacheDirOption} from "./cache.js";
import {ProgressBar, REDRAW_EVERY_MS} from "./progress.js";
import {SERVER_FLAGS, serversInsteadOfModel, withModel, withRemoteModel} from "./session.js";

/** The paper's comparison: power sampling against low temperature and the base model. */
const DEFAULT_METHODS: readonly Method[] = ["power", "low-temperature", "standard"];
/** Sequences per step: on a 2-core CPU 16-64 decode at about the same rate per step (README, Evaluation). */
const DEFAULT_PARALLEL = 32;
const MAX_PARALLEL = 4096;

export const EVAL_USAGE = `  power-sampling eval --dataset D (--model PATH | --server URL ...) --out DIR [options]
      --dataset D           math500 | gsm8k | humaneval (files in <cache-dir>/datasets) or a file: MATH500 .json,
                            GSM8K or HumanEval lines (.jsonl, .jsonl.gz), or {id, prompt, answer} lines graded like MATH
      --server URL          llama-servers holding the model instead of --model (repeat it: problems spread over them);
                            --api-key-env NAME, --allow-plain-http as for solve
      --out DIR             results.jsonl (one line per sample), summary.json, report.html; a DIR with a run resumes it
      --methods M,M,...     of ${METHODS.join(", ")} (default ${DEFAULT_METHODS.join(",")})
      --samples K           samples per problem and method: pass@k for k <= K (default 1)
      --limit N             the first N problems (default all)
      --mode raw|chat       the dataset's prompt as is (base models), or in the model's chat template (default raw)
      --parallel N          most sequences decoded in step, over several problems (default ${DEFAULT_PARALLEL})
      --seed S              the run's seed; each problem's and method's is derived from it (default random, kept in DIR)
      sampling options as solve's: --alpha --max-tokens --block-size --mcmc-steps --particles --resample-interval
                            --ess-threshold --alpha-ramp; --threads N; --json prints summary.json`;

export async function evalCommand(argv: string[]): Promise<void> {
    const {values, positionals} = parseCommandLine(argv, {
        ...samplingFlagOptions(), dataset: {type: "string"}, model: {type: "string"}, out: {type: "string"}, methods: {type: "string"},
        limit: {type: "string"}, mode: {type: "string"}, parallel: {type: "string"}, threads: {type: "string"}, json: {type: "boolean"},
        "cache-dir": {type: "string"}, ...SERVER_FLAGS
    });
    takesNoArguments("eval", positionals);
    const datasetName = required(values.dataset, "--dataset", "math500, gsm8k, humaneval or a file's path");
    const outDir = required(values.out, "--out", "a folder for results.jsonl, summary.json and report.html");
    const methods = parseMethods(values.methods);
    const given = samplingFlagValues(values);
    const params = resolveParams(given, (field) => `--${flagOf(field)}`);
    const mode = resolvePromptMode(values.mode, "--mode");
    if (mode !== "raw" && mode !== "chat") throw new InvalidInputError(`--mode must be raw or chat for eval (the dataset writes its prompts), got "${mode}"`);
    const limit = positiveInteger("limit", values.limit);
    const parallel = positiveInteger("parallel", values.parallel, MAX_PARALLEL) ?? DEFAULT_PARALLEL;
    const threads = parseThreads(values.threads);
    const remote = serversInsteadOfModel(values, threads);
    const modelPath = remote ? undefined : required(values.model, "--model", "the path of a GGUF file, or --server URL");
    const dataset = await openDataset(datasetName, datasetsFolder(await cacheDirOption(values["cache-dir"])));

    const evaluate = async (engine: EvalEngine, signal: AbortSignal) => {
        const bar = new ProgressBar();
        try {
            return await runEvaluation(engine, {
                dataset, methods, params, seed: given.seed, mode, limit, parallel, outDir: path.resolve(outDir), openSandbox, signal,
                progressIntervalMs: REDRAW_EVERY_MS,
                onProgress: (progress) => bar.update(progress.call, progress)
            });
        } finally {
            bar.finish();
        }
    };
    const outcome = modelPath === undefined
        ? await withRemoteModel(remote!, (model, _loadMs, signal) => evaluate(remoteEngine(model), signal))
        : await withModel(modelPath, {threads}, (model, _loadMs, signal) => evaluate(llamaEngine(model, path.resolve(modelPath)), signal));
    await writeOutput(values.json ? `${JSON.stringify(outcome.summary, null, 2)}\n` : readableSummary(outcome));
}

/** The one way this command writes to stdout: resolves once the text is handed over, rejects if it cannot be. */
function writeOutput(text: string): Promise<void> {
    return new Promise((resolve, reject) => process.stdout.write(text, (error) => (error ? reject(error) : resolve())));
}

function required(value: string | undefined, flag: string, what: string): string {
    if (value === undefined || value === "") throw new InvalidInputError(`eval needs ${flag}: ${what}`);
    return value;
}

function parseMethods(value: string | undefined): Method[] {
    if (value === undefined) return [...DEFAULT_METHODS];
    const methods = value.split(",").map((method) => method.trim());
    for (const method of methods) {
        if (!METHODS.includes(method as Method)) throw new InvalidInputError(`--methods: "${method}" is not one of ${METHODS.join(", ")}`);
    }
    const repeated = methods.find((method, i) => methods.indexOf(method) !== i);
    if (repeated !== undefined) throw new InvalidInputError(`--methods names ${repeated} twice`);
    return methods as Method[];
}

/** HumanEval runs generated code: find python3, and say how it is contained before any runs. */
async function openSandbox(): Promise<PythonSandbox> {
    const sandbox = await PythonSandbox.create();
    process.stderr.write(`power-sampling: warning: ${describeIsolation(sandbox.isolation)}\n`);
    return sandbox;
}

function readableSummary({summary, resumed, drawn, files}: EvalOutcome): string {
    const lines = [`${summary.dataset}: ${summary.problems} problems, ${summary.samples} sample${summary.samples === 1 ? "" : "s"} each, `
        + `model ${summary.model}, seed ${summary.seed}${resumed > 0 ? ` (${resumed} of ${resumed + drawn} method runs resumed from ${path.dirname(files.results)})` : ""}`];
    const header = ["method", "accuracy", "95 % interval", `pass@${summary.samples}`, "majority", "weight vote", "tokens/problem", "time/problem", "vs standard"];
    const rows = (Object.entries(summary.methods) as [Method, NonNullable<(typeof summary.methods)[Method]>][]).map(([method, f]) => [
        method, formatPercent(f.accuracy, 1), `${formatPercent(f.accuracyInterval.low, 1)}-${formatPercent(f.accuracyInterval.high, 1)}`,
        formatPercent(f.passAtK[summary.samples] ?? 0, 1), formatPercent(f.majorityAccuracy, 1),
        f.weightVoteAccuracy === undefined ? "-" : formatPercent(f.weightVoteAccuracy, 1), formatCount(f.tokensPerProblem), formatDuration(f.wallMsPerProblem),
        f.costVsStandard ? `${f.costVsStandard.tokens.toFixed(2)}x tokens, ${f.costVsStandard.wallTime.toFixed(2)}x time` : "-"
    ]);
    const widths = header.map((cell, i) => Math.max(cell.length, ...rows.map((row) => row[i]!.length)));
    const format = (row: readonly string[]) => row.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ").trimEnd();
    lines.push(format(header), ...rows.map(format), `files: ${files.results}, ${files.summary}, ${files.report}`);
    return `${lines.join("\n")}\n`;
}
