/** Grading a completion of a problem by its dataset's rules. */
import {lastBoxed} from "../answers/extract.js";
import {extractGsm8kAnswer, gsm8kAnswersEqual} from "../answers/gsm8k.js";
import {mathAnswersEqual} from "../answers/math-equivalence.js";
import type {AnswerProblem, EvalProblem} from "./datasets.js";
import {runHumanEval, truncateCompletion} from "./humaneval.js";
import type {PythonSandbox, SandboxLimits, SandboxResult} from "./sandbox.js";

export interface Grade {
    /**
     * What was graded: the last \boxed{} (MATH and jsonl: no box, no answer, as the paper grades),
     * the last box or else the last number (GSM8K), the completion cut where the function ends
     * (HumanEval); null when there is none.
     */
    readonly answer: string | null;
    readonly correct: boolean;
    /** HumanEval: how the tests ran. */
    readonly execution?: SandboxResult;
}

export interface GradeOptions {
    /** Required for HumanEval problems. */
    readonly sandbox?: PythonSandbox;
    readonly limits?: Partial<SandboxLimits>;
    readonly signal?: AbortSignal;
}

/** Grades a MATH-style or GSM8K problem's completion; pure. */
export function gradeAnswer(problem: AnswerProblem, completion: string): Grade {
    if (problem.grader === "gsm8k") {
        const answer = extractGsm8kAnswer(completion);
        return {answer, correct: answer !== null && gsm8kAnswersEqual(answer, problem.reference)};
    }
    const answer = lastBoxed(completion);
    return {answer, correct: answer !== null && mathAnswersEqual(answer, problem.reference)};
}

/** Grades any problem's completion; HumanEval runs the tests in the sandbox. */
export async function gradeCompletion(problem: EvalProblem, completion: string, options: GradeOptions = {}): Promise<Grade> {
    if (problem.grader !== "humaneval") return gradeAnswer(problem, completion);
    if (options.sandbox === undefined) throw new Error("grading HumanEval needs a PythonSandbox");
    const answer = truncateCompletion(completion);
    const execution = await runHumanEval(options.sandbox, problem, answer, {limits: options.limits, signal: options.signal});
    return {answer, correct: execution.outcome === "passed", execution};
}
