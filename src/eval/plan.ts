/**
 * The order of an evaluation's work: which problems go into one engine call with which method.
 * A call decodes several problems' samples in step (a wide step costs little more than a narrow
 * one), and the methods take turns as they go through the problems, so that a machine that speeds
 * up or slows down during the run does so for every method alike.
 */
import type {Method} from "../protocol/params.js";
import type {EvalProblem} from "./datasets.js";

export interface EvalCall {
    readonly method: Method;
    readonly problems: readonly EvalProblem[];
}

export interface PlanOptions {
    readonly methods: readonly Method[];
    /** Samples per problem and method. */
    readonly samples: number;
    /** smc: sequences per sample. */
    readonly particles: number;
    /** Most sequences one call should decode in step; a problem that needs more gets a call of its own. */
    readonly parallel: number;
    /** Whether the (problem, method) is already in the results. */
    readonly done: (problem: EvalProblem, method: Method) => boolean;
}

/** Sequences one problem's samples take with `method`. */
export function sequencesPerProblem(method: Method, samples: number, particles: number): number {
    return samples * (method === "smc" ? particles : 1);
}

/** Problems per call with `method`: as many as fill `parallel` sequences, at least one. */
export function problemsPerCall(method: Method, options: Pick<PlanOptions, "samples" | "particles" | "parallel">): number {
    return Math.max(1, Math.floor(options.parallel / sequencesPerProblem(method, options.samples, options.particles)));
}

/**
 * The calls still to make: each method's problems not yet done, in calls of problemsPerCall, all
 * methods' calls in the order of their first problem (methods in the order given at a tie).
 */
export function planCalls(problems: readonly EvalProblem[], options: PlanOptions): EvalCall[] {
    const position = new Map(problems.map((problem, index) => [problem, index]));
    const calls = options.methods.flatMap((method) => {
        const todo = problems.filter((problem) => !options.done(problem, method));
        const perCall = problemsPerCall(method, options);
        return Array.from({length: Math.ceil(todo.length / perCall)}, (_, k): EvalCall => ({method, problems: todo.slice(k * perCall, (k + 1) * perCall)}));
    });
    // A stable sort: a method's calls keep their order, and methods theirs at equal positions.
    return calls.sort((a, b) => position.get(a.problems[0]!)! - position.get(b.problems[0]!)!);
}
