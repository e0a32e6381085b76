/**
 * The files the suites read but git does not hold (tiny real models, benchmark datasets), listed
 * with their sizes, checksums and public origins in fixtures.json. They are found in the read-only
 * ../shared folder beside the project (as CI lays it out) or in the cache that `npm run fixtures`
 * fills (scripts/fixtures.ts), so a fresh clone can get them.
 */
import {existsSync, readFileSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";

export interface Fixture {
    /** Relative to the fixtures folder: models/NAME or datasets/NAME. */
    readonly path: string;
    readonly bytes: number;
    readonly sha256: string;
    /** Its public origin. */
    readonly url: string;
}

export const FIXTURES: readonly Fixture[] = (JSON.parse(readFileSync(new URL("./fixtures.json", import.meta.url), "utf8")) as {fixtures: Fixture[]}).fixtures;

/** ../shared beside the project, or POWER_SAMPLING_SHARED. */
export const SHARED_DIR = process.env.POWER_SAMPLING_SHARED || fileURLToPath(new URL("../../../shared", import.meta.url));

/** Where `npm run fixtures` puts them: POWER_SAMPLING_FIXTURES, else ~/.cache/power-sampling/fixtures. */
export const FIXTURE_CACHE_DIR = process.env.POWER_SAMPLING_FIXTURES
    || path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), ".cache"), "power-sampling", "fixtures");

/** How to get missing fixtures, for messages. */
export const FIXTURES_HOWTO = "run `npm run fixtures` (it copies them from ../shared, else downloads them from their public origins and checks their sha256)";

/** The fixture's file in ../shared, else in the cache; null when neither has it. */
export function locateFixture(relative: string): string | null {
    for (const dir of [SHARED_DIR, FIXTURE_CACHE_DIR]) {
        const file = path.join(dir, relative);
        if (existsSync(file)) return file;
    }
    return null;
}

/** One line naming the missing fixtures, where they were looked for and how to get them. */
export function missingFixturesMessage(missing: readonly string[]): string {
    return `missing test fixtures: ${missing.join(", ")} (looked in ${SHARED_DIR} and ${FIXTURE_CACHE_DIR}): ${FIXTURES_HOWTO}`;
}
