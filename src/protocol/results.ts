/**
 * What a solve returns and reports while it runs: one shape for the command line's JSON, the
 * backend's answers and the panel.
 */
import type {Method, ResolvedPromptMode, SamplingParams} from "./params.js";

export interface SolvedSample {
    readonly text: string;
    /** Each generated token's text, read in context; the end token (EOS, end of turn) excluded. */
    readonly tokens: string[];
    /** "eos": ended with an end token; "length": cut at max tokens. */
    readonly finishReason: "eos" | "length";
    /** Base-model log p of the completion (its end token included), temperature 1. */
    readonly logProb: number;
    readonly tokenCount: number;
    /** The last \boxed{...}, else the final code block (code mode), else the last line; null for blank text. */
    readonly finalAnswer: string | null;
    /** Character offsets in `text` where accepted MCMC moves changed it, oldest first (power only). */
    readonly changedOffsets: number[];
}

/** Alternatives gathered by normalised final answer. */
export interface AnswerGroup {
    /** answerKey of the members' answers (a value for maths, normalised code); "" for samples without one. */
    readonly key: string;
    /** Display form: the answer of the likeliest member, or "(no answer)". */
    readonly answer: string;
    readonly count: number;
    /** count / number of samples. */
    readonly share: number;
    /** Indices into the samples, highest logProb first. */
    readonly members: number[];
}

/** One point of an SMC run's effective-sample-size trace, taken every resampleInterval tokens. */
export interface EssPoint {
    /** Generated tokens (per live particle) when it was taken. */
    readonly token: number;
    /** Effective sample size before any resampling, 1..particles. */
    readonly ess: number;
    /** Whether the particles were resampled here (ess < essThreshold * particles). */
    readonly resampled: boolean;
}

/** A distinct final particle of an SMC run. */
export interface SmcParticle {
    /** Index into the run's particles at token 0 whose line this one descends from. */
    readonly origin: number;
    /** How many of the run's particles ended as this completion. */
    readonly copies: number;
    /** Normalised importance weight, summed over the copies; the run's weights add up to 1. */
    readonly weight: number;
    readonly text: string;
    readonly tokenCount: number;
    readonly finishReason: "eos" | "length";
    readonly logProb: number;
    readonly finalAnswer: string | null;
    /** The weight of every particle with this one's answer (answerKey): the weight vote's share for it. */
    readonly answerWeight: number;
}

/** How one SMC run got to its draw. */
export interface SmcRun {
    /** Distinct final particles, heaviest first. */
    readonly particles: SmcParticle[];
    /** Index into `particles` of the one drawn as the run's sample. */
    readonly drawn: number;
    readonly ess: EssPoint[];
    /** log of the mean final weight: the run's estimate of log sum_x p(x)^alpha. */
    readonly logNormaliser: number;
}

export interface SolveStats {
    /** Every token drawn from the model: blocks, proposals, particles, direct samples. */
    readonly proposedTokens: number;
    readonly mcmcSteps: number;
    readonly acceptedSteps: number;
    /** acceptedSteps / mcmcSteps; null when no MCMC step ran. */
    readonly acceptanceRate: number | null;
    /** smc: resampling events over all runs. */
    readonly resamplings: number;
    /** Sampling time; model load and queueing excluded. */
    readonly wallMs: number;
    readonly loadMs: number;
    readonly queuedMs: number;
    readonly promptTokens: number;
}

export interface SolveResult {
    readonly method: Method;
    /** The mode is the one the prompt was built in ("auto" resolved). */
    readonly params: Omit<SamplingParams, "method"> & {readonly mode: ResolvedPromptMode};
    /** params.samples samples: chains, or one draw per SMC run. */
    readonly samples: SolvedSample[];
    /** The sample to show: the likeliest member of the largest answer group. */
    readonly answerIndex: number;
    /** Samples gathered by normalised final answer, largest group first. */
    readonly groups: AnswerGroup[];
    /** smc: one entry per run, in sample order. */
    readonly smc?: SmcRun[];
    readonly stats: SolveStats;
}

/** Where a run stands; sent a few times a second. */
export interface SolveProgress {
    readonly method: Method;
    /** Current text of each chain or particle being shown (the first few). */
    readonly texts: string[];
    readonly proposedTokens: number;
    /** Estimated share of the run's work done, 0..1. */
    readonly fraction: number;
    /** power: the least advanced chain's block and step; the acceptance rate so far. */
    readonly power?: {readonly block: number; readonly blocks: number; readonly mcmcStep: number; readonly mcmcSteps: number; readonly acceptanceRate: number | null};
    /** smc: tokens generated per live particle, the latest effective sample size, resamplings so far. */
    readonly smc?: {readonly token: number; readonly maxTokens: number; readonly ess: number | null; readonly particles: number; readonly resamplings: number};
}
