/**
 * Model references to local GGUF paths. Downloads come from a local HTTP server on 127.0.0.1
 * only, `hf:` URIs from the same server standing in for the Hub (its endpoint passed in the
 * options); where no request may be made, `fetch` is replaced by a trap so that no test can
 * reach the network.
 */
import {strict as assert} from "node:assert";
import {execFile, spawn} from "node:child_process";
import {copyFile, mkdir, mkdtemp, readFile, rm, writeFile} from "node:fs/promises";
import {existsSync} from "node:fs";
import os from "node:os";
import path from "node:path";
import {pathToFileURL} from "node:url";
import {promisify} from "node:util";
import {cachedModelPath, resolveModelSource, setAsideCachedModel, type ModelDownloadProgress} from "../../src/backend/model-source.js";
import {isRemoteReference} from "../../src/protocol/model-reference.js";
import {validateGgufModel} from "../../src/gguf/validate.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {markovModelFile, PIVOTAL_CHAIN} from "../../src/testmodels/markov.js";
import {REPO_ROOT} from "../support/cli.js";
import {writeSplit} from "../support/corrupt-ggufs.js";
import {assertInvalidInput, closedPort, filesIn, literally, within, withoutNetwork} from "../support/downloads.js";
import {sharedModel} from "../support/shared.js";
import {JUNK, MODEL_PATH, ModelServer, STALL_PATH} from "../support/model-server.js";

const MODEL = sharedModel("stories260K.gguf");
const RESOLVE_SCRIPT = path.join(REPO_ROOT, "test", "support", "resolve-model.ts");

/** resolveModelSource in a separate Node process: another window or a script sharing the cache. */
async function resolveInChild(reference: string, cacheDir: string): Promise<string> {
    const {stdout} = await promisify(execFile)(process.execPath, ["--import", "tsx", RESOLVE_SCRIPT, reference, cacheDir], {cwd: REPO_ROOT});
    return stdout;
}

/** The pid of a process that has exited. */
async function exitedPid(): Promise<number> {
    const child = spawn("true");
    await new Promise((resolve) => child.once("exit", resolve));
    return child.pid!;
}

function assertMonotonic(events: ModelDownloadProgress[], total: number, file: string): void {
    assert.ok(events.length >= 1, "no progress callbacks");
    for (let i = 1; i < events.length; i++)
        assert.ok(events[i]!.downloadedBytes >= events[i - 1]!.downloadedBytes, `progress went backwards at ${i}: ${JSON.stringify(events)}`);
    for (const event of events) {
        assert.ok(event.downloadedBytes <= total);
        assert.ok(event.totalBytes === null || event.totalBytes === total);
    }
    const last = events[events.length - 1]!;
    assert.deepEqual(last, {downloadedBytes: total, totalBytes: total, file});
}

describe("model sources", function () {
    this.timeout(30_000);
    let model: Buffer;
    let server: ModelServer;
    let cacheDir: string;
    let scratch: string;

    before(async () => {
        model = await readFile(MODEL);
    });

    beforeEach(async () => {
        server = new ModelServer(model);
        await server.start();
        scratch = await mkdtemp(path.join(os.tmpdir(), "model-source-"));
        cacheDir = path.join(scratch, "cache");
    });

    afterEach(async () => {
        await server.stop();
        await rm(scratch, {recursive: true, force: true});
    });

    describe("local paths", () => {
        it("pass through absolute, relative and file:// references without touching the cache", async () => {
            const absolute = await resolveModelSource(MODEL, {cacheDir});
            assert.equal(absolute, MODEL);
            const relative = path.relative(process.cwd(), MODEL);
            assert.equal(await resolveModelSource(relative, {cacheDir}), MODEL);
            assert.equal(await resolveModelSource(pathToFileURL(MODEL).href, {cacheDir}), MODEL);
            assert.equal(existsSync(cacheDir), false);
            assert.equal(server.total, 0);
        });

        it("decode file:// URLs with escaped characters", async () => {
            const dir = path.join(scratch, "my models #1");
            await mkdir(dir);
            const file = path.join(dir, "stories 260K.gguf");
            await copyFile(MODEL, file);
            assert.equal(await resolveModelSource(pathToFileURL(file).href, {cacheDir}), file);
        });

        it("expand ~ to the home folder", async () => {
            const home = path.join(scratch, "home");
            await mkdir(path.join(home, "models"), {recursive: true});
            await copyFile(MODEL, path.join(home, "models", "stories.gguf"));
            const saved = process.env.HOME;
            process.env.HOME = home;
            try {
                assert.equal(await resolveModelSource("~/models/stories.gguf", {cacheDir}), path.join(home, "models", "stories.gguf"));
            } finally {
                if (saved === undefined) delete process.env.HOME;
                else process.env.HOME = saved;
            }
        });

        it("a missing file is an InvalidInputError naming the path", async () => {
            const missing = path.join(scratch, "nope.gguf");
            await assert.rejects(resolveModelSource(missing, {cacheDir}), (error) => assertInvalidInput(error, /^model file not found: /, literally(missing)));
            await assert.rejects(resolveModelSource(pathToFileURL(missing).href, {cacheDir}), (error) => assertInvalidInput(error, literally(missing)));
        });

        it("never report progress", async () => {
            const events: ModelDownloadProgress[] = [];
            await resolveModelSource(MODEL, {cacheDir, onProgress: (event) => events.push(event)});
            assert.deepEqual(events, []);
        });
    });

    describe("http downloads", () => {
        it("download into the cache, byte-identical, with monotonic progress ending at the total", async () => {
            server.slow = {chunkBytes: 64 * 1024, intervalMs: 10};
            const url = server.url(MODEL_PATH);
            const events: ModelDownloadProgress[] = [];
            const started = performance.now();
            const file = await within(15_000, resolveModelSource(url, {cacheDir, onProgress: (event) => events.push(event)}), "download");
            const elapsed = performance.now() - started;
            assert.equal(file, cachedModelPath(url, cacheDir));
            assert.equal(path.dirname(file), cacheDir);
            assert.ok((await readFile(file)).equals(model), "downloaded file differs from the source");
            assertMonotonic(events, model.length, file);
            // Throttled: at most ~10 a second plus the final one.
            assert.ok(events.length <= Math.ceil(elapsed / 100) + 2, `${events.length} callbacks in ${elapsed.toFixed(0)} ms`);
            assert.deepEqual(await filesIn(cacheDir), [path.basename(file)]);
        });

        it("a second resolve returns the cached file without any request, even with the server gone", async () => {
            const url = server.url(MODEL_PATH);
            const first = await within(15_000, resolveModelSource(url, {cacheDir}), "download");
            const requests = server.total;
            await server.stop();
            const events: ModelDownloadProgress[] = [];
            const started = performance.now();
            const second = await within(5_000, resolveModelSource(url, {cacheDir, onProgress: (event) => events.push(event)}), "cached resolve");
            const elapsed = performance.now() - started;
            assert.equal(second, first);
            assert.equal(server.total, requests, "the cached resolve made a request");
            assert.ok((await readFile(second)).equals(model));
            assert.deepEqual(events, [], "a cache hit downloads nothing, so reports no progress");
            assert.ok(elapsed < 1000, `cached resolve took ${elapsed.toFixed(0)} ms`);
        });

        it("cancelling midway throws CancelledError at once, leaves no complete-looking file, and a new resolve completes", async () => {
            server.slow = {chunkBytes: 16 * 1024, intervalMs: 20}; // ~1.5 s for the whole file
            const url = server.url(MODEL_PATH);
            const target = cachedModelPath(url, cacheDir);
            const controller = new AbortController();
            let abortedAt = 0;
            let bytesAtAbort = 0;
            const attempt = resolveModelSource(url, {
                cacheDir,
                signal: controller.signal,
                onProgress: ({downloadedBytes}) => {
                    if (abortedAt === 0 && downloadedBytes > 0) {
                        bytesAtAbort = downloadedBytes;
                        abortedAt = performance.now();
                        controller.abort();
                    }
                }
            });
            await within(15_000, assert.rejects(attempt, CancelledError), "cancelled download");
            const latency = performance.now() - abortedAt;
            assert.ok(abortedAt > 0, "no progress before the end");
            assert.ok(bytesAtAbort < model.length, "the download had finished before the abort");
            assert.ok(latency < 250, `CancelledError came ${latency.toFixed(0)} ms after the abort`);
            assert.equal(existsSync(target), false, "a cancelled download left a complete-looking file");
            // The transfer has ended with the call: no partial file, no lock.
            assert.deepEqual(await filesIn(cacheDir), []);

            server.slow = null;
            const events: ModelDownloadProgress[] = [];
            const file = await within(15_000, resolveModelSource(url, {cacheDir, onProgress: (event) => events.push(event)}), "download after cancel");
            assert.equal(file, target);
            assert.ok((await readFile(file)).equals(model), "the file after a cancelled download differs from the source");
            assertMonotonic(events, model.length, file);
            assert.deepEqual(await filesIn(cacheDir), [path.basename(file)]);
        });

        it("a download that stops receiving data fails as stalled and leaves no complete-looking file", async () => {
            const url = server.url(STALL_PATH);
            const started = performance.now();
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir, stallTimeoutMs: 300}), (error) => assertInvalidInput(error, /stalled/, literally(url))), "stall");
            const elapsed = performance.now() - started;
            assert.ok(elapsed < 3000, `stall detected after ${elapsed.toFixed(0)} ms`);
            assert.equal(existsSync(cachedModelPath(url, cacheDir)), false);
        });

        it("an already aborted signal throws CancelledError before any request", async () => {
            const controller = new AbortController();
            controller.abort();
            await assert.rejects(resolveModelSource(server.url(MODEL_PATH), {cacheDir, signal: controller.signal}), CancelledError);
            assert.equal(server.total, 0);
        });

        it("concurrent resolves of one URL download it once", async () => {
            const url = server.url(MODEL_PATH);
            const alone = await within(15_000, resolveModelSource(url, {cacheDir: path.join(scratch, "other")}), "download");
            assert.ok((await readFile(alone)).equals(model));
            const perDownload = server.total;
            const [a, b] = await within(15_000, Promise.all([resolveModelSource(url, {cacheDir}), resolveModelSource(url, {cacheDir})]), "concurrent downloads");
            assert.equal(a, b);
            assert.ok((await readFile(a)).equals(model));
            assert.equal(server.total, 2 * perDownload, "the second concurrent resolve made its own requests");
        });

        it("processes sharing a cache folder download a URL once: one waits for the other's file", async () => {
            const url = server.url(MODEL_PATH);
            await within(15_000, resolveModelSource(url, {cacheDir: path.join(scratch, "other")}), "download");
            const perDownload = server.total;
            server.slow = {chunkBytes: 16 * 1024, intervalMs: 20}; // ~1.5 s
            let other: Promise<string> | undefined;
            const here = resolveModelSource(url, {
                cacheDir,
                // Once this download is under way, another process asks for the same file.
                onProgress: ({downloadedBytes}) => { if (downloadedBytes > 0) other ??= resolveInChild(url, cacheDir); }
            });
            const [mine, theirs] = await within(20_000, Promise.all([here, here.then(() => other!)]), "two processes");
            assert.equal(theirs, mine);
            assert.equal(server.total, 2 * perDownload, "the other process made its own requests");
            assert.deepEqual(await filesIn(cacheDir), [path.basename(mine)]);
        });

        it("a lock left by a process that is gone is taken over", async () => {
            const url = server.url(MODEL_PATH);
            await mkdir(cacheDir, {recursive: true});
            await writeFile(`${cachedModelPath(url, cacheDir)}.lock`, `${await exitedPid()} stale`);
            const file = await within(15_000, resolveModelSource(url, {cacheDir}), "download despite a stale lock");
            assert.ok((await readFile(file)).equals(model));
            assert.deepEqual(await filesIn(cacheDir), [path.basename(file)]);
        });

        it("waiting for another process's download can be cancelled, and makes no request", async () => {
            const url = server.url(MODEL_PATH);
            const owner = spawn("sleep", ["30"]);
            try {
                await mkdir(cacheDir, {recursive: true});
                await writeFile(`${cachedModelPath(url, cacheDir)}.lock`, `${owner.pid} elsewhere`);
                const controller = new AbortController();
                const attempt = resolveModelSource(url, {cacheDir, signal: controller.signal});
                await new Promise((resolve) => setTimeout(resolve, 600));
                controller.abort();
                await within(1_000, assert.rejects(attempt, CancelledError), "cancelled wait");
                assert.equal(server.total, 0);
            } finally {
                owner.kill();
            }
        });

        it("404 is an InvalidInputError naming the URL", async () => {
            const url = server.url("/missing.gguf");
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertInvalidInput(error, /404|not found/i, literally(url))), "404");
            assert.deepEqual(await filesIn(cacheDir), []);
        });

        it("a refused connection is an InvalidInputError naming the URL", async () => {
            const url = `http://127.0.0.1:${await closedPort()}/stories260K.gguf`;
            const started = performance.now();
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertInvalidInput(error, /connection refused/i, literally(url))), "refused");
            assert.ok(performance.now() - started < 5000);
            assert.deepEqual(await filesIn(cacheDir), []);
        });

        it("a file that is not GGUF is an InvalidInputError and leaves nothing in the cache", async () => {
            const url = server.url("/junk.gguf");
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertInvalidInput(error, /not a GGUF/, literally(url))), "junk");
            assert.deepEqual(await filesIn(cacheDir), []);
        });

        it("a downloaded file that turns out not to be GGUF is deleted and reported", async () => {
            const url = server.url("/replaced.gguf");
            await within(10_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) => assertInvalidInput(error, /not a GGUF/, /deleted/, literally(url))), "replaced");
            assert.ok((server.requests.get("/replaced.gguf") ?? 0) >= 2, "the download never happened");
            assert.deepEqual(await filesIn(cacheDir), []);
        });

        it("a cached file that is not GGUF is deleted and downloaded again", async () => {
            const url = server.url(MODEL_PATH);
            const target = cachedModelPath(url, cacheDir);
            await mkdir(cacheDir, {recursive: true});
            await writeFile(target, JUNK);
            const file = await within(15_000, resolveModelSource(url, {cacheDir}), "download over junk");
            assert.equal(file, target);
            assert.ok((await readFile(file)).equals(model));
            assert.ok(server.total > 0);
        });

        it("a cached file cut short (kept by an earlier version) is set aside and downloaded again", async () => {
            const url = server.url(MODEL_PATH);
            const target = cachedModelPath(url, cacheDir);
            await mkdir(cacheDir, {recursive: true});
            const cut = model.subarray(0, model.length - 1000);
            await writeFile(target, cut);
            const file = await within(15_000, resolveModelSource(url, {cacheDir}), "download over a truncated file");
            assert.equal(file, target);
            assert.ok((await readFile(file)).equals(model));
            const [, aside] = await filesIn(cacheDir);
            assert.match(aside!, /^stories260K-[0-9a-f]{12}\.gguf\.corrupt-\d{8}T\d{6}\.\d{3}Z$/);
            assert.ok((await readFile(path.join(cacheDir, aside!))).equals(cut), "the set-aside file is the truncated one, kept");
        });

        it("a download cut short is set aside under its staging name, and the next resolve downloads the file again", async () => {
            const url = server.url("/flaky/stories260K.gguf");
            const cut = model.subarray(0, model.length - 1000);
            server.serve("/flaky/stories260K.gguf", cut);
            await within(15_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) =>
                assertInvalidInput(error, /^model is corrupt: downloaded from /, literally(url), /the file is cut short/, /set aside as .*\.download\.gguf\.corrupt-/)), "truncated download");
            assert.equal(existsSync(cachedModelPath(url, cacheDir)), false, "a truncated download got the final name");
            server.serve("/flaky/stories260K.gguf", model);
            const file = await within(15_000, resolveModelSource(url, {cacheDir}), "download after the truncated one");
            assert.ok((await readFile(file)).equals(model));
            const names = await filesIn(cacheDir);
            assert.equal(names.length, 2, names.join(", "));
            assert.ok((await readFile(path.join(cacheDir, names.find((name) => name.includes(".corrupt-"))!))).equals(cut));
        });

        it("setAsideCachedModel renames a cached download (llama.cpp could not load it) so that the next resolve downloads it again", async () => {
            const url = server.url(MODEL_PATH);
            assert.equal(await setAsideCachedModel(url, cacheDir), null, "nothing cached yet");
            const file = await within(15_000, resolveModelSource(url, {cacheDir}), "download");
            const requests = server.total;
            const aside = await setAsideCachedModel(url, cacheDir);
            assert.ok(aside?.startsWith(`${file}.corrupt-`), String(aside));
            assert.equal(existsSync(file), false);
            assert.ok((await readFile(aside!)).equals(model), "set aside, not deleted");
            assert.equal(await within(15_000, resolveModelSource(url, {cacheDir}), "download again"), file);
            assert.ok(server.total > requests, "the next resolve did not download");
            await assert.rejects(setAsideCachedModel(MODEL, cacheDir), (error) => assertInvalidInput(error, /not a remote model reference/));
            assert.ok(existsSync(MODEL), "a local model is never renamed");
        });

        describe("a model split into several files", () => {
            let parts: Buffer[];
            const partUrl = (name: string, i: number) => server.url(`/split/${name}-0000${i + 1}-of-00002.gguf`);

            before(async () => {
                const dir = await mkdtemp(path.join(os.tmpdir(), "split-model-"));
                try {
                    const first = await writeSplit(path.join(dir, "pivotal"), markovModelFile(PIVOTAL_CHAIN), [5, 7]);
                    parts = await Promise.all([first, first.replace("-00001-of-", "-00002-of-")].map((file) => readFile(file)));
                } finally {
                    await rm(dir, {recursive: true, force: true});
                }
            });

            it("downloads every part, checks them together and gives them the names llama.cpp looks for", async () => {
                parts.forEach((part, i) => server.serve(new URL(partUrl("pivotal", i)).pathname, part));
                const url = partUrl("pivotal", 0);
                const file = await within(20_000, resolveModelSource(url, {cacheDir}), "split download");
                const stem = path.basename(cachedModelPath(url, cacheDir), ".gguf");
                assert.equal(file, path.join(cacheDir, `${stem}-00001-of-00002.gguf`));
                assert.deepEqual(await filesIn(cacheDir), [`${stem}-00001-of-00002.gguf`, `${stem}-00002-of-00002.gguf`]);
                assert.equal((await validateGgufModel(file)).files.length, 2);
                const requests = server.total;
                assert.equal(await resolveModelSource(url, {cacheDir}), file);
                assert.equal(server.total, requests, "the cached split model was downloaded again");
            });

            it("refuses parts that repeat a tensor as corrupt, and sets every part aside", async () => {
                const dir = await mkdtemp(path.join(os.tmpdir(), "split-model-"));
                try {
                    const first = await writeSplit(path.join(dir, "repeated"), markovModelFile(PIVOTAL_CHAIN), [5, 7], (split) => {
                        split[1] = {...split[1]!, tensors: [...split[1]!.tensors, split[0]!.tensors[0]!]};
                    });
                    for (const [i, file] of [first, first.replace("-00001-of-", "-00002-of-")].entries())
                        server.serve(new URL(partUrl("repeated", i)).pathname, await readFile(file));
                } finally {
                    await rm(dir, {recursive: true, force: true});
                }
                const url = partUrl("repeated", 0);
                await within(20_000, assert.rejects(resolveModelSource(url, {cacheDir}), (error) =>
                    assertInvalidInput(error, /^model is corrupt: downloaded from /, /tensor "token_embd\.weight" appears in part 1 and again in part 2 of 2/)), "split download");
                const names = await filesIn(cacheDir);
                assert.equal(names.length, 2, names.join(", "));
                assert.ok(names.every((name) => /\.download-0000[12]-of-00002\.gguf\.corrupt-/.test(name)), names.join(", "));
            });
        });

        it("a model cut into byte ranges (NAME.gguf.part2of3): every range, joined into one checked file", async () => {
            const cuts = [0, 40_000, 90_000, model.length];
            for (let i = 0; i < 3; i++) server.serve(`/ranges/stories260K.gguf.part${i + 1}of3`, model.subarray(cuts[i], cuts[i + 1]));
            const url = server.url("/ranges/stories260K.gguf.part2of3");
            const events: ModelDownloadProgress[] = [];
            const file = await within(15_000, resolveModelSource(url, {cacheDir, onProgress: (event) => events.push(event)}), "joined download");
            assert.ok((await readFile(file)).equals(model), "the joined file differs from the model");
            assertMonotonic(events, model.length, file);
            assert.deepEqual(await filesIn(cacheDir), [path.basename(file)]);
            assert.deepEqual(server.log.map((request) => request.path), ["/ranges/stories260K.gguf.part1of3", ...[1, 2, 3].map((i) => `/ranges/stories260K.gguf.part${i}of3`)]);

            // A range missing on the server: one error, and nothing joined is left behind.
            const other = server.url("/missing-range/stories260K.gguf.part1of2");
            server.serve("/missing-range/stories260K.gguf.part1of2", model.subarray(0, 40_000));
            await within(10_000, assert.rejects(resolveModelSource(other, {cacheDir}), (error) => assertInvalidInput(error, /not found \(HTTP 404\)/)), "missing range");
            assert.deepEqual(await filesIn(cacheDir), [path.basename(file)]);
        });

        it("the cache file name is deterministic per reference", () => {
            const url = server.url(MODEL_PATH);
            assert.equal(cachedModelPath(url, cacheDir), cachedModelPath(url, cacheDir));
            assert.equal(cachedModelPath(url, cacheDir), cachedModelPath(`${url}#fragment`, cacheDir));
            assert.notEqual(cachedModelPath(url, cacheDir), cachedModelPath(`${url}?v=2`, cacheDir));
            assert.match(path.basename(cachedModelPath(url, cacheDir)), /^stories260K-[0-9a-f]{12}\.gguf$/);
        });
    });

    describe("hf: URIs (offline only)", () => {
        const malformed = [
            "hf:",
            "hf:user",
            "hf:/repo:Q4_K_M",
            "hf:user/:Q4_K_M",
            "hf:user/repo:",
            "hf:user/repo/",
            "hf:user/repo/model.bin",
            "hf:user/repo/../model.gguf",
            "hf:us er/repo:Q4_K_M",
            "hf:user/repo/model.gguf#"
        ];
        for (const reference of malformed) {
            it(`rejects ${JSON.stringify(reference)} without any request`, async () => {
                const {result, attempts} = await withoutNetwork(() => resolveModelSource(reference, {cacheDir}));
                assertInvalidInput(result, /Hugging Face/, literally(reference));
                assert.deepEqual(attempts, []);
                assert.equal(existsSync(cacheDir), false);
            });
        }

        it("rejects unsupported schemes without any request", async () => {
            for (const reference of ["ftp://127.0.0.1/model.gguf", "s3://bucket/model.gguf"]) {
                const {result, attempts} = await withoutNetwork(() => resolveModelSource(reference, {cacheDir}));
                assertInvalidInput(result, /unsupported/, literally(reference));
                assert.deepEqual(attempts, []);
            }
            assert.equal(server.total, 0);
        });

        for (const reference of ["hf:someone/tiny-stories-GGUF:Q8_0", "hf:someone/tiny-stories/sub/stories260K.gguf"]) {
            it(`resolves ${reference} from the cache without any request`, async () => {
                const expected = cachedModelPath(reference, cacheDir);
                await mkdir(cacheDir, {recursive: true});
                await copyFile(MODEL, expected);
                const events: ModelDownloadProgress[] = [];
                const {result, attempts} = await withoutNetwork(() =>
                    within(5_000, resolveModelSource(reference, {cacheDir, onProgress: (event) => events.push(event)}), "cached hf resolve")
                );
                assert.equal(result, expected);
                assert.deepEqual(attempts, []);
                assert.deepEqual(events, [], "a cache hit downloads nothing, so reports no progress");
            });
        }

        it("spells of one quant share a cache file; other quants and repos do not", () => {
            const q8 = cachedModelPath("hf:someone/tiny-stories-GGUF:Q8_0", cacheDir);
            assert.equal(cachedModelPath("hf:someone/tiny-stories-GGUF:q8_0", cacheDir), q8);
            assert.equal(cachedModelPath("hf://someone/tiny-stories-GGUF:Q8_0", cacheDir), q8);
            assert.notEqual(cachedModelPath("hf:someone/tiny-stories-GGUF:Q4_K_M", cacheDir), q8);
            assert.notEqual(cachedModelPath("hf:other/tiny-stories-GGUF:Q8_0", cacheDir), q8);
            assert.match(path.basename(q8), /^tiny-stories\.Q8_0-[0-9a-f]{12}\.gguf$/);
        });
    });

    describe("hf: URIs through a local Hub", () => {
        const TOKEN = "hf_testtoken1234567890";
        const hub = () => ({endpoint: server.url("/"), token: TOKEN});
        const manifest = (user: string, repo: string, tag: string, rfilename: unknown) =>
            server.respond(`/v2/${user}/${repo}/manifests/${tag}`, {status: 200, headers: {"content-type": "application/json"}, body: JSON.stringify({ggufFile: {rfilename}})});

        it("a quant is looked up in the manifest API as llama.cpp does, then downloaded with the token, once", async () => {
            manifest("someone", "tiny-stories-GGUF", "Q8_0", "stories260K.Q8_0.gguf");
            server.serve("/someone/tiny-stories-GGUF/resolve/main/stories260K.Q8_0.gguf", model);
            const reference = "hf:someone/tiny-stories-GGUF:Q8_0";
            const file = await within(15_000, resolveModelSource(reference, {cacheDir, huggingFace: hub()}), "hf download");
            assert.equal(file, cachedModelPath(reference, cacheDir));
            assert.ok((await readFile(file)).equals(model));
            const [lookup, ...downloads] = server.log;
            assert.equal(lookup!.path, "/v2/someone/tiny-stories-GGUF/manifests/Q8_0");
            assert.equal(lookup!.headers["user-agent"], "llama-cpp", "the Hub names the GGUF file only for llama.cpp's user agent");
            assert.ok(downloads.length >= 2 && downloads.every((request) => request.path === "/someone/tiny-stories-GGUF/resolve/main/stories260K.Q8_0.gguf"));
            assert.ok(server.log.every((request) => request.headers.authorization === `Bearer ${TOKEN}`));
            const requests = server.total;
            assert.equal(await resolveModelSource("hf:someone/tiny-stories-GGUF:q8_0", {cacheDir, huggingFace: hub()}), file);
            assert.equal(server.total, requests, "the cached model was looked up again");
        });

        it("a file path on a branch is fetched from that branch; without a token, none is sent; no quant asks for latest", async () => {
            server.serve("/someone/tiny-stories/resolve/dev/sub/stories260K.gguf", model);
            const file = await within(15_000, resolveModelSource("hf:someone/tiny-stories/sub/stories260K.gguf#dev", {cacheDir, huggingFace: {endpoint: server.url("/"), token: null}}), "hf file");
            assert.ok((await readFile(file)).equals(model));
            assert.ok(server.log.length > 0 && server.log.every((request) => request.path === "/someone/tiny-stories/resolve/dev/sub/stories260K.gguf" && request.headers.authorization === undefined));

            manifest("someone", "plain-GGUF", "latest", "plain.gguf");
            server.serve("/someone/plain-GGUF/resolve/main/plain.gguf", model);
            assert.ok((await readFile(await within(15_000, resolveModelSource("hf:someone/plain-GGUF", {cacheDir, huggingFace: hub()}), "latest"))).equals(model));
        });

        it("a split model named by the manifest comes with all its parts, from the manifest's folder", async () => {
            const dir = await mkdtemp(path.join(os.tmpdir(), "hf-split-"));
            try {
                const first = await writeSplit(path.join(dir, "pivotal"), markovModelFile(PIVOTAL_CHAIN), [5, 7]);
                for (const [i, part] of [first, first.replace("-00001-of-", "-00002-of-")].entries())
                    server.serve(`/someone/pivotal-GGUF/resolve/main/Q8_0/pivotal-0000${i + 1}-of-00002.gguf`, await readFile(part));
            } finally {
                await rm(dir, {recursive: true, force: true});
            }
            manifest("someone", "pivotal-GGUF", "Q8_0", "Q8_0/pivotal-00001-of-00002.gguf");
            const file = await within(15_000, resolveModelSource("hf:someone/pivotal-GGUF:Q8_0", {cacheDir, huggingFace: hub()}), "hf split");
            assert.equal((await validateGgufModel(file)).files.length, 2);
        });

        it("the token stays with the Hub when a download is redirected to another origin", async () => {
            const cdn = new ModelServer(model);
            await cdn.start();
            try {
                server.respond("/someone/tiny-stories/resolve/main/stories260K.gguf", {status: 302, headers: {location: cdn.url(MODEL_PATH)}});
                const file = await within(15_000, resolveModelSource("hf:someone/tiny-stories/stories260K.gguf", {cacheDir, huggingFace: hub()}), "redirected");
                assert.ok((await readFile(file)).equals(model));
                assert.ok(server.log.every((request) => request.headers.authorization === `Bearer ${TOKEN}`));
                assert.ok(cdn.log.length > 0 && cdn.log.every((request) => request.headers.authorization === undefined), "the token reached the other origin");
            } finally {
                await cdn.stop();
            }
        });

        const refusals: [string, () => void, RegExp[]][] = [
            ["an unknown quant", () => server.respond("/v2/someone/repo/manifests/Q9_9", {status: 404, body: "{}"}), [/^model not found on Hugging Face: hf:someone\/repo:Q9_9 \(no such repository or quantization\)$/]],
            ["a gated model without a token", () => server.respond("/v2/someone/repo/manifests/Q9_9", {status: 401, body: "{}"}), [/access denied \(HTTP 401\)/, /gated or private/, /HF_TOKEN/]],
            ["a rate limit", () => server.respond("/v2/someone/repo/manifests/Q9_9", {status: 429, headers: {ratelimit: "\"api\";r=0;t=12"}}), [/limiting requests \(HTTP 429\); try again in 12 s/]],
            ["a manifest without a GGUF file", () => server.respond("/v2/someone/repo/manifests/Q9_9", {status: 200, body: "{\"ggufFile\":null}"}), [/the manifest names no GGUF file/]],
            ["a manifest naming a path out of the repository", () => manifest("someone", "repo", "Q9_9", "../../other/repo/resolve/main/x.gguf"), [/the manifest names no GGUF file/]],
            ["a manifest that is not JSON", () => server.respond("/v2/someone/repo/manifests/Q9_9", {status: 200, body: "<html>"}), [/the manifest is not JSON/]],
        ];
        for (const [what, arrange, patterns] of refusals) {
            it(`${what}: one clear error, nothing in the cache`, async () => {
                arrange();
                await within(10_000, assert.rejects(resolveModelSource("hf:someone/repo:Q9_9", {cacheDir, huggingFace: {endpoint: server.url("/"), token: null}}), (error) =>
                    assertInvalidInput(error, ...patterns)), what);
                assert.deepEqual(server.log.map((request) => request.path), ["/v2/someone/repo/manifests/Q9_9"]);
                assert.deepEqual(await filesIn(cacheDir), []);
            });
        }

        it("a cancel midway ends the download at once and leaves an empty cache folder", async () => {
            server.slow = {chunkBytes: 16 * 1024, intervalMs: 20};
            manifest("someone", "tiny-stories-GGUF", "Q8_0", "stories260K.Q8_0.gguf");
            server.serve("/someone/tiny-stories-GGUF/resolve/main/stories260K.Q8_0.gguf", model);
            const controller = new AbortController();
            const attempt = resolveModelSource("hf:someone/tiny-stories-GGUF:Q8_0", {cacheDir, huggingFace: hub(), signal: controller.signal, onProgress: ({downloadedBytes}) => {
                if (downloadedBytes > 0) controller.abort();
            }});
            await within(5_000, assert.rejects(attempt, CancelledError), "cancelled hf download");
            assert.deepEqual(await filesIn(cacheDir), []);
            const requests = server.total;
            await new Promise((resolve) => setTimeout(resolve, 1000));
            assert.equal(server.total, requests, "a request reached the Hub after the cancel");
        });
    });

    it("isRemoteReference tells downloads from local files", () => {
        for (const remote of ["hf:user/repo:Q4_K_M", "HF:user/repo/file.gguf", "https://example.com/m.gguf", "http://127.0.0.1:8080/m.gguf", " hf:user/repo"])
            assert.equal(isRemoteReference(remote), true, remote);
        for (const local of ["/models/m.gguf", "./m.gguf", "m.gguf", "~/m.gguf", "file:///models/m.gguf", "C:\\models\\m.gguf", "ftp://host/m.gguf"])
            assert.equal(isRemoteReference(local), false, local);
    });
});
