/**
 * A fresh clone has no ../shared beside it: `npm run fixtures` gets the fixtures (copied from
 * ../shared, else downloaded and checked), and without them the suites fail at once with one
 * message saying what is missing and how to get it, instead of timeouts. Downloads come from a
 * local mirror on 127.0.0.1 (POWER_SAMPLING_FIXTURES_MIRROR); the public origins are not reached.
 */
import {strict as assert} from "node:assert";
import {spawn} from "node:child_process";
import {createHash} from "node:crypto";
import {mkdir, mkdtemp, readFile, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {REPO_ROOT} from "../support/cli.js";
import {filesIn} from "../support/downloads.js";
import {FIXTURES, locateFixture, SHARED_DIR} from "../support/fixtures.js";
import {ModelServer} from "../support/model-server.js";

interface Run {
    readonly code: number | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly ms: number;
}

/** Runs `args` with node (tsx loaded) in the repository, with `env` added and the fixture variables cleared. */
function run(args: readonly string[], env: Record<string, string>): Promise<Run> {
    return new Promise((resolve, reject) => {
        const started = performance.now();
        const inherited = Object.fromEntries(Object.entries(process.env).filter(([key]) => !key.startsWith("POWER_SAMPLING_")));
        const child = spawn(process.execPath, ["--import", "tsx", ...args], {cwd: REPO_ROOT, env: {...inherited, ...env}, stdio: ["ignore", "pipe", "pipe"]});
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk: Buffer) => { stdout += chunk.toString(); });
        child.stderr.on("data", (chunk: Buffer) => { stderr += chunk.toString(); });
        child.on("error", reject);
        child.on("close", (code) => resolve({code, stdout, stderr, ms: performance.now() - started}));
    });
}

const sha256 = (bytes: Buffer) => createHash("sha256").update(bytes).digest("hex");

describe("fixtures for a fresh clone", function () {
    this.timeout(120_000);
    const contents = new Map<string, Buffer>();
    let server: ModelServer;
    let scratch: string;
    let emptyShared: string;
    let cache: string;
    const fixturesScript = (extra: Record<string, string> = {}) => run([path.join("scripts", "fixtures.ts")], {
        POWER_SAMPLING_SHARED: emptyShared, POWER_SAMPLING_FIXTURES: cache, POWER_SAMPLING_FIXTURES_MIRROR: server.url("/mirror/"), ...extra,
    });

    before(async () => {
        for (const fixture of FIXTURES) {
            const file = locateFixture(fixture.path);
            assert.ok(file, `this test serves the real fixtures, and ${fixture.path} is missing: run npm run fixtures`);
            contents.set(fixture.path, await readFile(file));
        }
    });

    beforeEach(async () => {
        server = new ModelServer(Buffer.alloc(0));
        await server.start();
        scratch = await mkdtemp(path.join(os.tmpdir(), "fixtures-"));
        emptyShared = path.join(scratch, "no-shared");
        cache = path.join(scratch, "cache");
        await mkdir(emptyShared);
    });

    afterEach(async () => {
        await server.stop();
        await rm(scratch, {recursive: true, force: true});
    });

    describe("npm run fixtures", () => {
        it("downloads every fixture, checks it, and then finds them in the cache without a request", async () => {
            for (const [relative, bytes] of contents) server.serve(`/mirror/${relative}`, bytes);
            const first = await fixturesScript();
            assert.equal(first.code, 0, first.stderr);
            for (const fixture of FIXTURES) {
                assert.match(first.stdout, new RegExp(`^${fixture.path}: downloaded from ${server.url(`/mirror/${fixture.path}`)}$`, "m"));
                assert.equal(sha256(await readFile(path.join(cache, fixture.path))), fixture.sha256);
            }
            const requests = server.total;
            const second = await fixturesScript();
            assert.equal(second.code, 0, second.stderr);
            assert.equal(server.total, requests, "the second run downloaded again");
            assert.match(second.stdout, /^models\/stories260K\.gguf: present in /m);
        });

        it("keeps nothing that fails its checksum or its download, and says which and why", async () => {
            for (const [relative, bytes] of contents) server.serve(`/mirror/${relative}`, bytes);
            const flipped = Buffer.from(contents.get("models/stories260K.gguf")!);
            flipped[1000] ^= 0xff;
            server.serve("/mirror/models/stories260K.gguf", flipped);
            const missing = FIXTURES.find((fixture) => fixture.path.startsWith("datasets/"))!.path;
            server.serve(`/mirror/${missing}`, Buffer.alloc(0));
            const result = await fixturesScript({POWER_SAMPLING_FIXTURES_MIRROR: server.url("/mirror")});
            assert.equal(result.code, 1);
            assert.match(result.stderr, /^models\/stories260K\.gguf: downloaded from \S+, but it is sha256 [0-9a-f]{64}, expected 270cba1b[0-9a-f]+: not kept$/m);
            assert.match(result.stderr, new RegExp(`^${missing}: downloaded from \\S+, but it is 0 bytes, expected \\d+: not kept$`, "m"));
            assert.match(result.stderr, /npm run fixtures: 2 of 5 fixtures missing/);
            assert.deepEqual(await filesIn(path.join(cache, "models")), ["llama-2-tiny-random.gguf"], "a bad or partial file was kept");
        });

        it("says which fixture could not be downloaded", async () => {
            const result = await fixturesScript();
            assert.equal(result.code, 1);
            assert.match(result.stderr, /^models\/stories260K\.gguf: cannot download http:\/\/127\.0\.0\.1:\d+\/mirror\/models\/stories260K\.gguf: HTTP 404/m);
            assert.deepEqual(await filesIn(path.join(cache, "models")), []);
        });

        it("copies them from ../shared when it is there, without a request", async () => {
            const result = await fixturesScript({POWER_SAMPLING_SHARED: SHARED_DIR});
            assert.equal(result.code, 0, result.stderr);
            assert.equal(server.total, 0);
            assert.match(result.stdout, /^models\/stories260K\.gguf: copied from /m);
        });
    });

    it("without fixtures, a suite fails at once with one message saying what is missing and how to get it", async () => {
        const result = await run([path.join(REPO_ROOT, "node_modules", "mocha", "bin", "mocha.js"),
            "--timeout", "120000", "test/integration/cli.test.ts", "test/integration/llama-batch.test.ts", "test/unit/redact.test.ts"],
        {POWER_SAMPLING_SHARED: emptyShared, POWER_SAMPLING_FIXTURES: cache});
        const output = `${result.stdout}\n${result.stderr}`;
        assert.notEqual(result.code, 0);
        const message = /missing test fixtures: models\/stories260K\.gguf \(looked in .*no-shared and .*cache\): run `npm run fixtures`/;
        assert.match(result.stderr, message, "the message up front");
        assert.match(result.stdout, /passing/);
        assert.match(result.stdout, /masks "https:\/\/user:hunter2@example\.com\/m\.gguf"/, "tests that need no fixture still run");
        assert.ok(!/model file not found|Timeout of/.test(output), output.slice(0, 3000));
        const failures = [...result.stdout.matchAll(/^\s+Error: (.*)$/gm)].map((m) => m[1]!);
        assert.ok(failures.length > 1 && failures.every((line) => message.test(line)), failures.join("\n"));
        assert.ok(result.ms < 60_000, `took ${Math.round(result.ms)} ms`);
    });
});
