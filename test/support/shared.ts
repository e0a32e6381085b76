/**
 * Test fixtures by name (see fixtures.ts for where they are found), checked before any test
 * runs: when some are missing, the run says so once, up front, with how to get them, and every
 * test of a file that asked for a missing fixture fails at once with that message instead of
 * running into "model file not found" or a timeout. A fixture asked for while tests run (in a
 * test or hook) throws that message itself.
 */
import path from "node:path";
import {fileURLToPath} from "node:url";
import {FIXTURE_CACHE_DIR, locateFixture, missingFixturesMessage, SHARED_DIR} from "./fixtures.js";

export {FIXTURE_CACHE_DIR, SHARED_DIR};

/** The path of models/`file`. */
export function sharedModel(file: string): string {
    return fixture(path.posix.join("models", file));
}

/** The path of datasets/`file`. */
export function sharedDataset(file: string): string {
    return fixture(path.posix.join("datasets", file));
}

/** Fixtures each test file asked for while it loaded (module-level constants). */
const needs = new Map<string, Set<string>>();
let running = false;

function fixture(relative: string): string {
    const found = locateFixture(relative);
    if (running) {
        if (found === null) throw new Error(missingFixturesMessage([relative]));
        return found;
    }
    const file = callingTestFile();
    if (file !== null) needs.set(file, (needs.get(file) ?? new Set()).add(relative));
    // A placeholder while loading: the check below fails the file's tests before they use it.
    return found ?? path.join(SHARED_DIR, relative);
}

/** The *.test.ts file on the call stack: the one asking for a fixture. */
function callingTestFile(): string | null {
    for (const line of (new Error().stack ?? "").split("\n").slice(1)) {
        const match = /((?:file:\/\/)?\/[^\s():]*\.test\.[cm]?[jt]s):\d+:\d+/.exec(line);
        if (match) return match[1]!.startsWith("file:") ? fileURLToPath(match[1]!) : match[1]!;
    }
    return null;
}

/** Mocha's hook lists, which its types leave out. */
type SuiteHooks = {[K in "_beforeAll" | "_beforeEach" | "_afterEach" | "_afterAll"]: Mocha.Hook[]};

/**
 * Replaces every test of `suite` by one that fails with `message`, and its hooks by nothing (they
 * would start processes or load the very files that are missing).
 */
function failSuite(suite: Mocha.Suite, message: string): void {
    const hooks = suite as unknown as SuiteHooks;
    for (const hook of [...hooks._beforeAll, ...hooks._beforeEach, ...hooks._afterEach, ...hooks._afterAll]) hook.fn = () => {};
    for (const test of suite.tests) {
        test.fn = () => {
            throw new Error(message);
        };
    }
    for (const child of suite.suites) failSuite(child, message);
}

// A root hook (registered once, when the first test file imports this module): runs before all tests.
if (typeof before === "function") {
    before(function () {
        running = true;
        const missingByFile = new Map<string, string[]>();
        for (const [file, relatives] of needs) {
            const missing = [...relatives].filter((relative) => locateFixture(relative) === null);
            if (missing.length > 0) missingByFile.set(file, missing);
        }
        if (missingByFile.size === 0) return;
        console.error(`\n  ${missingFixturesMessage([...new Set([...missingByFile.values()].flat())].sort())}\n`);
        const failing = (suite: Mocha.Suite): void => {
            const missing = suite.file === undefined ? undefined : missingByFile.get(path.resolve(suite.file));
            if (missing) failSuite(suite, missingFixturesMessage(missing));
            else suite.suites.forEach(failing);
        };
        failing(this.test!.parent!);
    });
}
