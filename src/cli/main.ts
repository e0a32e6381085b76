/**
 * power-sampling: the command line. Exit codes: 0 done and all output written, 2 bad input,
 * 130 interrupted (Ctrl-C), 143 terminated (SIGTERM), 1 anything else (output that could not be
 * written among it); each failure says what it was in one line on stderr.
 */
import {readFile} from "node:fs/promises";
import {addAbortSignal} from "node:stream";
import {InvalidInputError} from "../sampling/errors.js";
import {METHODS, PROMPT_MODES, resolveParams, resolvePromptMode} from "../protocol/params.js";
import {writeMarkovModel, parseMarkovSpec} from "../testmodels/markov.js";
import {SHAPES, type ShapeName, writeShapeModel} from "../testmodels/shapes.js";
import {flagOf, parseChoice, parseCommandLine as parse, parseNumber, parseThreads, samplingFlagOptions, samplingFlagValues, takesNoArguments} from "./args.js";
import {builtinModelPath, cacheDirOption, defaultCacheDir} from "./cache.js";
import {runDemo} from "./demo.js";
import {EVAL_USAGE, evalCommand} from "./eval.js";
import {toJson, toReadable} from "./output.js";
import {ProgressBar, REDRAW_EVERY_MS} from "./progress.js";
import {BENCH_PARTS, runBench} from "./bench.js";
import {debugLine, InterruptedError, OutputError, reportEnd, stderrLost, stderrWritten, stdoutWritten, stopSignal, watchRun} from "./lifetime.js";
import {SERVER_FLAGS, serverOptions, serversInsteadOfModel, withModel, withRemoteModel} from "./session.js";
import {solve, type SolveModel} from "../llama/solve.js";

const USAGE = `usage:
  power-sampling solve [options] PROMPT      PROMPT "-" reads stdin; "" starts right after BOS
      --model PATH          GGUF model (default: the built-in pivotal-chain demo model)
      --method M            ${METHODS.join(" | ")} (default power)
      --mode M              ${PROMPT_MODES.join(" | ")}: how PROMPT becomes the model's prompt (default raw)
      --alpha A             target p^A, proposal temperature 1/A (default 4)
      --max-tokens T        most generated tokens (default 1024)
      --samples K           K independent samples, drawn in step: chains, or whole SMC runs (default 1)
    power (Metropolis-Hastings):
      --block-size B        tokens per block (default 192)
      --mcmc-steps N        MH steps per block (default 10)
    smc (Power-SMC):
      --particles N         particles per run, decoded as one batch (default 16)
      --resample-interval R tokens between effective-sample-size checks (default 16)
      --ess-threshold X     resample when ESS < X * particles (default 0.5)
      --alpha-ramp T        ramp alpha up from 1 over the first T tokens, exactly (default 0: none)
      --seed S              reproducible runs (default random, printed)
      --threads N           CPU threads (default: physical cores - 1, at least 1)
      --json                one JSON object on stdout
    on llama-server instead of a local model (see README, Remote engines):
      --server URL          a llama-server holding the model; repeat it to spread the chains over several
      --api-key-env NAME    the environment variable holding llama-server's --api-key
      --allow-plain-http    send prompts over plain http to another machine (readable on the network)
${EVAL_USAGE}
  power-sampling demo [--samples K] [--seed S]
  power-sampling make-test-model markov SPEC.json OUT.gguf
  power-sampling serve --stdio [--threads N]   the backend language server (JSON-RPC on stdio)
  power-sampling bench [--quick] [--json] [--threads N] [--only ${BENCH_PARTS.join("|")} ...]
                       [--server URL [--api-key-env NAME] [--allow-plain-http]]   remote: the power run locally and on the server
  power-sampling make-test-model shape ${Object.keys(SHAPES).join("|")} OUT.gguf [--seed S]
common: --cache-dir DIR (default ${defaultCacheDir()})`;

async function main(argv: string[]): Promise<void> {
    const [command, ...rest] = argv;
    switch (command) {
        case "solve": return solveCommand(rest);
        case "eval": return evalCommand(rest);
        case "demo": return demoCommand(rest);
        case "make-test-model": return makeTestModelCommand(rest);
        case "bench": return benchCommand(rest);
        case "serve": return serveCommand(rest);
        case "engine": return engineCommand();
        case undefined:
        case "help":
        case "--help":
        case "-h":
            process.stdout.write(`${USAGE}\n`);
            return;
        default:
            throw new InvalidInputError(`unknown command "${command}"; run power-sampling --help`);
    }
}

async function solveCommand(argv: string[]): Promise<void> {
    const {values, positionals} = parse(argv, {
        ...samplingFlagOptions(), model: {type: "string"}, method: {type: "string"}, mode: {type: "string"}, threads: {type: "string"},
        json: {type: "boolean"}, "cache-dir": {type: "string"}, ...SERVER_FLAGS
    });
    if (positionals.length !== 1) throw new InvalidInputError(`solve takes one PROMPT argument, got ${positionals.length}`);
    const params = resolveParams({method: values.method, ...samplingFlagValues(values)}, (field) => `--${flagOf(field)}`);
    const mode = resolvePromptMode(values.mode, "--mode");
    const threads = parseThreads(values.threads);
    const remote = serversInsteadOfModel(values, threads);
    if (values.model === "") throw new InvalidInputError("--model is empty: give the path of a GGUF file");
    const prompt = positionals[0] === "-" ? await readStdin() : positionals[0]!;
    const run = async (model: SolveModel, loadMs: number, signal: AbortSignal) => {
        const bar = new ProgressBar();
        try {
            return await solve(model, prompt, mode, params, {signal, loadMs, progressIntervalMs: REDRAW_EVERY_MS, onProgress: (p) => bar.update(p)});
        } finally {
            bar.finish();
        }
    };
    const result = remote
        ? await withRemoteModel(remote, run)
        : await withModel(values.model ?? await builtinModelPath(await cacheDirOption(values["cache-dir"])), {threads}, run);
    process.stdout.write(`${values.json ? toJson(result) : toReadable(result)}\n`);
}

async function demoCommand(argv: string[]): Promise<void> {
    const {values, positionals} = parse(argv, {samples: {type: "string"}, seed: {type: "string"}, "cache-dir": {type: "string"}});
    takesNoArguments("demo", positionals);
    const samples = parseNumber("samples", values.samples);
    const seed = parseNumber("seed", values.seed);
    // The demo's own defaults differ from solve's; the limits on what a user gives are the same.
    resolveParams({samples, seed}, (field) => `--${flagOf(field)}`);
    await runDemo({cacheDir: await cacheDirOption(values["cache-dir"]), samples, seed});
}

async function makeTestModelCommand(argv: string[]): Promise<void> {
    const {values, positionals} = parse(argv, {seed: {type: "string"}});
    const [kind, source, out] = positionals;
    if (positionals.length !== 3) throw new InvalidInputError("make-test-model takes KIND (markov|shape), SPEC.json or NAME, and OUT.gguf");
    if (kind === "markov") {
        let json: unknown;
        try {
            json = JSON.parse(await readFile(source!, "utf8"));
        } catch (error) {
            throw new InvalidInputError(`cannot read Markov spec ${source}: ${(error as Error).message}`);
        }
        const spec = parseMarkovSpec(json);
        await writingTo(out!, () => writeMarkovModel(spec, out!));
    } else if (kind === "shape") {
        const shapes = Object.keys(SHAPES) as ShapeName[];
        if (!shapes.includes(source as ShapeName)) throw new InvalidInputError(`make-test-model shape: unknown shape "${source}", expected ${shapes.join(" or ")}`);
        const name = source as ShapeName;
        const seed = parseNumber("seed", values.seed);
        await writingTo(out!, () => writeShapeModel(name, out!, {seed}));
    } else {
        throw new InvalidInputError(`make-test-model: unknown kind "${kind}", expected markov or shape`);
    }
    process.stderr.write(`wrote ${out}\n`);
}

/** The backend language server; runs until the client sends exit. */
async function serveCommand(argv: string[]): Promise<void> {
    // vscode-languageclient adds --stdio and --clientProcessId=PID to the arguments it is given.
    const {values, positionals} = parse(argv, {stdio: {type: "boolean"}, clientProcessId: {type: "string"}, threads: {type: "string"}, "cache-dir": {type: "string"}});
    takesNoArguments("serve", positionals);
    if (!values.stdio) throw new InvalidInputError("serve needs --stdio (the only transport)");
    const {startStdioServer} = await import("../backend/server.js");
    const connection = startStdioServer({
        script: process.argv[1]!,
        cacheDir: await cacheDirOption(values["cache-dir"]),
        threads: parseThreads(values.threads),
        clientProcessId: parseNumber("clientProcessId", values.clientProcessId)
    });
    await new Promise<void>((resolve) => connection.onExit(resolve));
}

/** The backend's engine process (internal): started by `serve` over an IPC channel. */
async function engineCommand(): Promise<void> {
    if (!process.send) throw new InvalidInputError("engine is started by the backend (serve), not by hand");
    const {runEngine} = await import("../backend/engine.js");
    runEngine();
    await new Promise<never>(() => {});
}

async function benchCommand(argv: string[]): Promise<void> {
    const {values, positionals} = parse(argv, {quick: {type: "boolean"}, json: {type: "boolean"}, threads: {type: "string"}, "cache-dir": {type: "string"},
        only: {type: "string", multiple: true}, ...SERVER_FLAGS});
    takesNoArguments("bench", positionals);
    const remote = serverOptions(values);
    if (remote && remote.urls.length > 1) throw new InvalidInputError("bench takes one --server: it compares one server with the local engine");
    const parts = values.only?.map((part) => parseChoice("only", part, BENCH_PARTS)!);
    if (parts?.includes("remote") && !remote) throw new InvalidInputError("--only remote needs --server URL: a llama-server holding the benchmark's model");
    await runBench({
        cacheDir: await cacheDirOption(values["cache-dir"]),
        quick: values.quick ?? false,
        json: values.json ?? false,
        threads: parseThreads(values.threads),
        parts,
        remote
    });
}


/** A file that cannot be written is the user's to fix: say which and why. */
async function writingTo(file: string, write: () => Promise<void>): Promise<void> {
    try {
        await write();
    } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "EACCES" || code === "EISDIR" || code === "ENOTDIR" || code === "EROFS")
            throw new InvalidInputError(`cannot write ${file}: ${code === "ENOENT" ? "its folder does not exist" : code}`);
        throw error;
    }
}

async function readStdin(): Promise<string> {
    debugLine("reading the prompt from stdin");
    const chunks: Buffer[] = [];
    // A stop destroys stdin, which ends the loop with an error: Ctrl-C works while waiting for input.
    for await (const chunk of addAbortSignal(stopSignal, process.stdin)) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks).toString("utf8");
}

/**
 * Exits once the command has settled: 0 only when it completed and stdout took all it wrote;
 * otherwise the code for what went wrong, said in one line on stderr. A stop (signal, lost
 * output) explains whatever failed after it.
 */
async function exitWhenDone(error?: unknown): Promise<never> {
    try {
        await stdoutWritten();
    } catch (notWritten) {
        error ??= notWritten;
    }
    const failure: unknown = stopSignal.aborted ? stopSignal.reason : error;
    const {code, message} = describeEnd(failure);
    if (message !== undefined) reportEnd(message);
    if (process.env.POWER_SAMPLING_DEBUG && code === 1 && !(failure instanceof OutputError)) console.error(failure);
    await stderrWritten();
    process.exit(code === 0 && stderrLost() ? 1 : code);
}

function describeEnd(error: unknown): {code: number; message?: string} {
    if (error === undefined) return {code: 0};
    if (error instanceof InvalidInputError) return {code: 2, message: error.message};
    if (error instanceof InterruptedError) return {code: error.exitCode, message: error.message};
    if (error instanceof OutputError) return {code: 1, message: error.message};
    return {code: 1, message: `internal error: ${(error as Error)?.message ?? String(error)}`};
}

const argv = process.argv.slice(2);
// The backend keeps Node's own handling (a signal ends it at once); its client manages its life.
if (argv[0] !== "serve") watchRun();
main(argv).then(() => exitWhenDone(), exitWhenDone);
