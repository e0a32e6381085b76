/**
 * `npm run fixtures`: puts the test fixtures (test/support/fixtures.json) into the fixture cache
 * (POWER_SAMPLING_FIXTURES, else ~/.cache/power-sampling/fixtures), outside git. Each is copied
 * from ../shared (POWER_SAMPLING_SHARED) when it is there, else downloaded from its public origin,
 * or from POWER_SAMPLING_FIXTURES_MIRROR (a URL laid out as models/ and datasets/) when set, and
 * gets its final name only once its size and sha256 match. One line per fixture; exit 1 when any
 * is missing afterwards.
 */
import {createHash} from "node:crypto";
import {existsSync} from "node:fs";
import {copyFile, mkdir, readFile, rename, rm, writeFile} from "node:fs/promises";
import path from "node:path";
import {FIXTURE_CACHE_DIR, FIXTURES, type Fixture, SHARED_DIR} from "../test/support/fixtures.js";

/** A fixture is at most a few MB; a download that takes longer than this has stalled. */
const DOWNLOAD_TIMEOUT_MS = 120_000;

/** Why the bytes at `file` are not `fixture`, or null when they are. */
async function mismatch(file: string, fixture: Fixture): Promise<string | null> {
    const bytes = await readFile(file);
    if (bytes.length !== fixture.bytes) return `${bytes.length} bytes, expected ${fixture.bytes}`;
    const sha256 = createHash("sha256").update(bytes).digest("hex");
    return sha256 === fixture.sha256 ? null : `sha256 ${sha256}, expected ${fixture.sha256}`;
}

function origin(fixture: Fixture): string {
    const mirror = process.env.POWER_SAMPLING_FIXTURES_MIRROR;
    return mirror ? new URL(fixture.path, mirror.endsWith("/") ? mirror : `${mirror}/`).href : fixture.url;
}

async function download(url: string, file: string): Promise<void> {
    const response = await fetch(url, {signal: AbortSignal.timeout(DOWNLOAD_TIMEOUT_MS)});
    if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""} from ${url}`);
    await writeFile(file, Buffer.from(await response.arrayBuffer()));
}

/** Makes `fixture` present in the cache; says where it came from. */
async function ensure(fixture: Fixture): Promise<string> {
    const target = path.join(FIXTURE_CACHE_DIR, fixture.path);
    if (existsSync(target) && (await mismatch(target, fixture)) === null) return `present in ${target}`;
    await mkdir(path.dirname(target), {recursive: true});
    const partial = `${target}.partial-${process.pid}`;
    try {
        const shared = path.join(SHARED_DIR, fixture.path);
        let source: string;
        if (existsSync(shared)) {
            await copyFile(shared, partial);
            source = `copied from ${shared}`;
        } else {
            const url = origin(fixture);
            try {
                await download(url, partial);
            } catch (error) {
                throw new Error(`cannot download ${url}: ${(error as Error).message}`);
            }
            source = `downloaded from ${url}`;
        }
        const wrong = await mismatch(partial, fixture);
        if (wrong !== null) throw new Error(`${source}, but it is ${wrong}: not kept`);
        await rename(partial, target);
        return source;
    } finally {
        await rm(partial, {force: true});
    }
}

let missing = 0;
for (const fixture of FIXTURES) {
    try {
        console.log(`${fixture.path}: ${await ensure(fixture)}`);
    } catch (error) {
        missing++;
        console.error(`${fixture.path}: ${(error as Error).message}`);
    }
}
if (missing > 0) {
    console.error(`npm run fixtures: ${missing} of ${FIXTURES.length} fixtures missing (see above); the tests that need them will fail until they are in ${FIXTURE_CACHE_DIR} or ${SHARED_DIR}`);
    process.exitCode = 1;
} else {
    console.log(`fixtures ready (${FIXTURE_CACHE_DIR})`);
}
