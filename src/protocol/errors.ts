/** An input the user can fix; its message is one line that says what is wrong. */
export class InvalidInputError extends Error {
    override name = "InvalidInputError";
}

/** The model file, or what llama.cpp made of it, cannot be used: the message says how. */
export class CorruptModelError extends InvalidInputError {
    override name = "CorruptModelError";
}
