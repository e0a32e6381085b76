/**
 * Seeds of an evaluation: every (problem, method) draws from a seed derived from the run's seed,
 * its problem id and its method, never from its place in the run. A resumed run, a run with
 * another --limit or more methods, and an uninterrupted one give a problem the same draws.
 */
import {createHash} from "node:crypto";
import type {Method} from "../protocol/params.js";

/** The seed of one problem's samples with one method: 32 bits of SHA-256 over the three. */
export function unitSeed(runSeed: number, problemId: string, method: Method): number {
    const digest = createHash("sha256").update(JSON.stringify([runSeed, problemId, method])).digest();
    return digest.readUInt32BE(0);
}
