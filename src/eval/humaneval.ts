/** HumanEval: a completion of the stub, cut as HumanEval harnesses cut it, run against the problem's tests. */
import type {CodeProblem} from "./datasets.js";
import type {PythonSandbox, SandboxResult, SandboxRunOptions} from "./sandbox.js";

/**
 * Where the function body ends: at the first line, after the first, that starts a new top-level
 * `def`, `class`, `if`, `print` or comment (the Codex paper's stop sequences), or at a line that
 * closes a Markdown code block.
 */
const COMPLETION_END = /\n(?=(?:def|class|if|print)\b|#|[ \t]*```)/;

/** The completion cut where the stub's function ends. */
export function truncateCompletion(completion: string): string {
    const end = COMPLETION_END.exec(completion);
    return end === null ? completion : completion.slice(0, end.index);
}

/** The program HumanEval runs: the stub, the completion, the tests, and the call of check. */
export function humanEvalProgram(problem: CodeProblem, completion: string): string {
    return `${problem.prompt}${completion}\n${problem.test}\ncheck(${problem.entryPoint})\n`;
}

/** Runs the (already cut) completion with the problem's tests; it passes when the outcome is "passed". */
export function runHumanEval(sandbox: PythonSandbox, problem: CodeProblem, completion: string, options: SandboxRunOptions = {}): Promise<SandboxResult> {
    return sandbox.run(humanEvalProgram(problem, completion), options);
}
