/** Strict parsing of command-line values: a bad value names its flag. */
import {InvalidInputError} from "../sampling/errors.js";

export function parseNumber(flag: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) throw new InvalidInputError(`--${flag} must be a number, got "${value}"`);
    return number;
}

export function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (!choices.includes(value as T)) throw new InvalidInputError(`--${flag} must be one of ${choices.join(", ")}, got "${value}"`);
    return value as T;
}
