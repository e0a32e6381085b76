/** An input the user can fix; its message is one line that says what is wrong. */
export class InvalidInputError extends Error {
    override name = "InvalidInputError";
}

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
