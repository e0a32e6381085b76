/**
 * Downloads that fail in each way a server or a network can fail them, references that try to
 * leave their place, and secrets in references: each is one clear error, nothing broken is kept
 * under the final name (so it is fetched again next time), nothing is lost, and no message shows
 * a password or token. Downloads come from a local server on 127.0.0.1 only.
 */
import {strict as assert} from "node:assert";
import {existsSync} from "node:fs";
import {mkdtemp, readFile, rm} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {cachedModelPath, resolveModelSource} from "../../src/backend/model-source.js";
import {assertInvalidInput, closedPort, filesIn, literally, within, withoutNetwork} from "../support/downloads.js";
import {FAULTS, MODEL_PATH, ModelServer, TRUNCATED_BYTES} from "../support/model-server.js";
import {sharedModel} from "../support/shared.js";

const SECRET = "hunter2";

describe("downloads that fail, references that stray, secrets in references", function () {
    this.timeout(60_000);
    let model: Buffer;
    let server: ModelServer;
    let scratch: string;
    let cacheDir: string;

    before(async () => {
        model = await readFile(sharedModel("stories260K.gguf"));
    });

    beforeEach(async () => {
        server = new ModelServer(model);
        await server.start();
        scratch = await mkdtemp(path.join(os.tmpdir(), "downloads-"));
        cacheDir = path.join(scratch, "cache");
    });

    afterEach(async () => {
        await server.stop();
        await rm(scratch, {recursive: true, force: true});
    });

    describe("each way a download fails: one error, nothing under the final name", () => {
        const truncatedSize = () => model.length - TRUNCATED_BYTES;
        /** [what, URL path, what the error says, what may stay in the cache]. */
        const failures: [string, string, RegExp[], RegExp][] = [
            ["404", "/missing.gguf", [/^model not found \(HTTP 404\)/], /^$/],
            ["500", FAULTS.serverError, [/^cannot download model .*: HTTP 500/], /^$/],
            ["an HTML page instead of a GGUF", "/junk.gguf", [/^not a GGUF model file: /, /does not start with "GGUF"/], /^$/],
            ["a connection reset midway, every time", FAULTS.reset, [/^cannot download model .*: the server closed the connection$/], /^$/],
            ["a connection closed midway, every time", FAULTS.closesEarly, [/^cannot download model .*: the server closed the connection$/], /^$/],
            ["cut short but sent as complete (Content-Length matching)", FAULTS.truncated,
                [/^model is corrupt: downloaded from .*: the file is cut short: tensor "[^"]+" needs bytes \d+ to \d+, the file has \d+ bytes; set aside as /],
                /\.download\.gguf\.corrupt-/],
            ["cut short, sent without a length (chunked)", FAULTS.truncatedChunked, [/^model is corrupt: downloaded from .*: the file is cut short/], /\.download\.gguf\.corrupt-/],
            ["shorter than the size the server announced first", FAULTS.inconsistentSize,
                [/is incomplete: received \d+ of the \d+ bytes the server announced; set aside as /],
                /\.download\.gguf\.corrupt-/],
        ];
        for (const [what, urlPath, says, leftovers] of failures) {
            it(what, async () => {
                const url = server.url(urlPath);
                const started = performance.now();
                await within(20_000, assert.rejects(resolveModelSource(url, {cacheDir, stallTimeoutMs: 2000}), (error) =>
                    assertInvalidInput(error, literally(url), ...says)), what);
                assert.ok(performance.now() - started < 15_000, `took ${Math.round(performance.now() - started)} ms`);
                assert.equal(existsSync(cachedModelPath(url, cacheDir)), false, "something was kept under the final name");
                for (const name of await filesIn(cacheDir)) assert.match(name, leftovers);
                // Nothing goes on once the call has failed: node-llama-cpp's downloader went on
                // retrying such a transfer for minutes (every 0.2-10 s), and left connections open.
                const requests = server.total;
                await new Promise((resolve) => setTimeout(resolve, 3000));
                assert.equal(server.total, requests, "requests after the download had failed");
            });
        }

        it("the set-aside file is what the server sent, kept for inspection", async () => {
            const url = server.url(FAULTS.truncated);
            await within(20_000, assert.rejects(resolveModelSource(url, {cacheDir})), "truncated download");
            const [aside] = await filesIn(cacheDir);
            assert.ok((await readFile(path.join(cacheDir, aside!))).equals(model.subarray(0, truncatedSize())));
        });
    });

    describe("references that try to leave their place", () => {
        const straying = [
            "hf:user/repo/%2e%2e/other-repo/model.gguf",
            "hf:user/repo/sub/%2E%2E/%2e%2e/model.gguf",
            "hf:user/repo/..%2fmodel.gguf",
            "hf:user/repo/%2fetc%2fmodel.gguf",
            "hf:user/repo/sub%5c..%5cmodel.gguf",
            "hf:user/repo/model.gguf#main/../../other",
            "hf:user/repo/model.gguf#..",
        ];
        for (const reference of straying) {
            it(`refuses ${reference} without any request`, async () => {
                const {result, attempts} = await withoutNetwork(() => resolveModelSource(reference, {cacheDir}));
                assertInvalidInput(result, /^malformed Hugging Face reference /, literally(reference));
                assert.deepEqual(attempts, []);
                assert.equal(existsSync(cacheDir), false);
            });
        }

        it("keeps URLs with encoded dot segments and separators inside the cache folder", () => {
            for (const url of [
                "http://127.0.0.1/a/%2e%2e/%2e%2e/%2e%2e/etc/model.gguf",
                "http://127.0.0.1/..%2F..%2F..%2Fescape.gguf",
                "http://127.0.0.1/%2e%2e%5c%2e%2e%5cescape.gguf",
                "http://127.0.0.1/.hidden.gguf",
            ]) {
                const file = cachedModelPath(url, cacheDir);
                assert.equal(path.dirname(file), path.resolve(cacheDir), `${url} -> ${file}`);
                assert.match(path.basename(file), /^[A-Za-z0-9][A-Za-z0-9._-]*-[0-9a-f]{12}\.gguf$/, url);
            }
        });
    });

    describe("secrets in references never reach a message", () => {
        const assertMasked = (error: unknown, ...says: RegExp[]) => {
            assertInvalidInput(error, ...says);
            assert.ok(!(error as Error).message.includes(SECRET), `the secret is in: ${(error as Error).message}`);
            return true;
        };

        it("a password in the URL", async () => {
            const url = server.url("/missing.gguf").replace("http://", `http://user:${SECRET}@`);
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertMasked(error, /http:\/\/\*\*\*@127\.0\.0\.1/)), "password");
        });

        it("a token in the query of a URL the server does not have", async () => {
            const url = `${server.url("/missing.gguf")}?token=${SECRET}`;
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertMasked(error, /404/, /\?token=\*\*\*/)), "404");
        });

        it("a signature in the query of a URL no server answers", async () => {
            const url = `http://127.0.0.1:${await closedPort()}/m.gguf?v=1&sig=${SECRET}`;
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertMasked(error, /connection refused/, /&sig=\*\*\*/)), "refused");
        });

        it("a token in the query of a download cut short", async () => {
            const url = `${server.url(FAULTS.truncated)}?access_token=${SECRET}`;
            await within(20_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertMasked(error, /model is corrupt/, /access_token=\*\*\*/)), "truncated");
            for (const name of await filesIn(cacheDir)) assert.ok(!name.includes(SECRET), name);
        });

        it("a password in a reference of an unsupported scheme", async () => {
            await assert.rejects(resolveModelSource(`ftp://user:${SECRET}@127.0.0.1/m.gguf`, {cacheDir}), (error) => assertMasked(error, /unsupported/));
        });

        it("a download with a token in its query still works, cached under a name without it", async () => {
            const url = `${server.url(MODEL_PATH)}?token=${SECRET}`;
            const file = await within(20_000, resolveModelSource(url, {cacheDir}), "download");
            assert.ok(!file.includes(SECRET), file);
            assert.ok((await readFile(file)).equals(model));
        });
    });
});
