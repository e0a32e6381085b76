/** Errors the samplers throw; an invalid input is the protocol's (every boundary throws it). */
export {InvalidInputError} from "../protocol/errors.js";

/** The caller cancelled the run through its AbortSignal. */
export class CancelledError extends Error {
    override name = "CancelledError";

    constructor() {
        super("cancelled");
    }
}

export function throwIfCancelled(signal: AbortSignal | undefined): void {
    if (signal?.aborted) throw new CancelledError();
}
