/** Strict parsing of command-line values: a bad value names its flag. */
import {parseArgs, type ParseArgsConfig} from "node:util";
import {type NumericParamName, PARAMETERS} from "../protocol/params.js";
import {InvalidInputError} from "../sampling/errors.js";

export function parseNumber(flag: string, value: string | undefined): number | undefined {
    if (value === undefined) return undefined;
    const number = Number(value);
    if (value.trim() === "" || !Number.isFinite(number)) throw new InvalidInputError(`--${flag} must be a number, got "${value}"`);
    return number;
}

/** An integer >= 1 (and <= max), or undefined when the flag is absent. */
export function positiveInteger(flag: string, value: string | undefined, max = Infinity): number | undefined {
    const number = parseNumber(flag, value);
    if (number !== undefined && (!Number.isInteger(number) || number < 1 || number > max))
        throw new InvalidInputError(`--${flag} must be an integer ${max === Infinity ? ">= 1" : `in 1..${max}`}, got ${number}`);
    return number;
}

export function parseThreads(value: string | undefined): number | undefined {
    return positiveInteger("threads", value);
}

/** A stray word would otherwise be ignored, and a long run started on a typo. */
export function takesNoArguments(command: string, positionals: string[]): void {
    if (positionals.length > 0) throw new InvalidInputError(`${command} takes no arguments, got "${positionals[0]}"`);
}

export function parseChoice<T extends string>(flag: string, value: string | undefined, choices: readonly T[]): T | undefined {
    if (value === undefined) return undefined;
    if (!choices.includes(value as T)) throw new InvalidInputError(`--${flag} must be one of ${choices.join(", ")}, got "${value}"`);
    return value as T;
}

/** Each sampling parameter's flag; the rest are the field's name in kebab case. */
const FLAGS: Partial<Record<NumericParamName, string>> = {alphaRampTokens: "alpha-ramp"};

export function flagOf(field: string): string {
    return FLAGS[field as NumericParamName] ?? field.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

/** parseArgs options for every sampling parameter's flag (numbers, read as strings). */
export function samplingFlagOptions(): Record<string, {type: "string"}> {
    return Object.fromEntries(Object.keys(PARAMETERS).map((field) => [flagOf(field), {type: "string"} as const]));
}

/** The sampling parameters given by flags, as numbers; absent flags are undefined. Check them with resolveParams. */
export function samplingFlagValues(values: Readonly<Record<string, unknown>>): Partial<Record<NumericParamName, number>> {
    return Object.fromEntries(Object.keys(PARAMETERS).map((field) => [field, parseNumber(flagOf(field), values[flagOf(field)] as string | undefined)]));
}

/** node:util's parseArgs, strict, with errors as one line; "--seed -1" reads as one option with its value. */
export function parseCommandLine<T extends ParseArgsConfig["options"] & {}>(args: string[], options: T) {
    const joined: string[] = [];
    for (let i = 0; i < args.length; i++) {
        const name = args[i]!.startsWith("--") ? args[i]!.slice(2) : undefined;
        if (name && options[name]?.type === "string" && /^-\d/.test(args[i + 1] ?? "")) joined.push(`${args[i]}=${args[++i]}`);
        else joined.push(args[i]!);
    }
    try {
        return parseArgs({args: joined, options, allowPositionals: true, strict: true});
    } catch (error) {
        throw new InvalidInputError((error as Error).message.split("\n")[0]!);
    }
}
