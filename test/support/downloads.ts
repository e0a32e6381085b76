/** Checks shared by the download tests (integration and reliability). */
import {strict as assert} from "node:assert";
import {readdir} from "node:fs/promises";
import http from "node:http";
import type {AddressInfo} from "node:net";
import {InvalidInputError} from "../../src/sampling/errors.js";

/** Rejects when `promise` takes longer than `ms`, so a hang fails with a clear message. */
export async function within<T>(ms: number, promise: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    });
    try {
        return await Promise.race([promise, timeout]);
    } finally {
        clearTimeout(timer);
    }
}

/** Runs `body` with `fetch` replaced by a trap that fails and counts every attempt. */
export async function withoutNetwork<T>(body: () => Promise<T>): Promise<{result: T | Error; attempts: string[]}> {
    const original = globalThis.fetch;
    const attempts: string[] = [];
    globalThis.fetch = (async (input: string | URL | Request) => {
        attempts.push(String(input instanceof Request ? input.url : input));
        throw new Error("network access attempted in an offline test");
    }) as typeof fetch;
    try {
        return {result: await body(), attempts};
    } catch (error) {
        return {result: error as Error, attempts};
    } finally {
        globalThis.fetch = original;
    }
}

/** A port on 127.0.0.1 that nothing listens on. */
export async function closedPort(): Promise<number> {
    const server = http.createServer();
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
    const {port} = server.address() as AddressInfo;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    return port;
}

export async function filesIn(dir: string): Promise<string[]> {
    try {
        return (await readdir(dir)).sort();
    } catch {
        return [];
    }
}

/** An InvalidInputError whose one-line message matches every pattern. */
export function assertInvalidInput(error: unknown, ...patterns: RegExp[]): true {
    assert.ok(error instanceof InvalidInputError, `expected InvalidInputError, got ${(error as Error)?.name}: ${(error as Error)?.message}`);
    assert.ok(!error.message.includes("\n"), `message is not one line: ${JSON.stringify(error.message)}`);
    for (const pattern of patterns) assert.match(error.message, pattern);
    return true;
}

/** A RegExp matching `text` literally. */
export function literally(text: string): RegExp {
    return new RegExp(text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
}
