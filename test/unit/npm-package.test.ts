/**
 * Fetching packages by exact version and integrity from a (fake, local) registry and unpacking
 * them: progress, the cache, and everything that must leave nothing behind (a hash mismatch, a
 * missing package, a cancel, a stall, a tarball that tries to write outside its folder).
 */
import {strict as assert} from "node:assert";
import {mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {extractTarball, fetchTarball, installPackages, type NpmPackageSpec, tarballUrl} from "../../src/llama/npm-package.js";
import {CancelledError} from "../../src/sampling/errors.js";
import {FakeRegistry, integrityOf, tarball} from "../support/registry.js";

describe("npm packages by exact version and integrity", function () {
    this.timeout(20_000);
    const registry = new FakeRegistry();
    let dir: string;
    let cpu: NpmPackageSpec;
    let gpu: NpmPackageSpec;
    const big = Buffer.alloc(3 * 1024 * 1024, 7);
    before(async () => {
        await registry.start();
        cpu = registry.publish("@llama/cpu", "1.2.3", tarball([
            {path: "package/package.json", content: "{\"name\":\"@llama/cpu\"}"},
            {path: "package/bins", type: "folder"},
            {path: "package/bins/addon.node", content: "binary", mode: 0o755},
            {path: "package/dist/index.js", content: "export {};", pax: true}
        ]));
        gpu = registry.publish("@llama/gpu", "1.2.3", tarball([{path: "package/bins/big.so", content: big}]));
    });
    after(() => registry.stop());
    beforeEach(async () => { dir = await mkdtemp(path.join(tmpdir(), "power-sampling-npm-")); });
    afterEach(() => rm(dir, {recursive: true, force: true}));

    const options = (extra: object = {}) => ({cacheDir: path.join(dir, "cache"), registry: registry.url, ...extra});
    /** Every file under `folder`, relative. */
    const files = async (folder: string): Promise<string[]> =>
        (await readdir(folder, {recursive: true, withFileTypes: true})).filter((entry) => entry.isFile())
            .map((entry) => path.relative(folder, path.join(entry.parentPath, entry.name))).sort();

    it("builds the registry's tarball URL from name and version", () => {
        assert.equal(tarballUrl({name: "@node-llama-cpp/linux-x64", version: "3.21.1"}),
            "https://registry.npmjs.org/@node-llama-cpp/linux-x64/-/linux-x64-3.21.1.tgz");
        assert.equal(tarballUrl({name: "plain", version: "1.0.0"}, "http://mirror/npm///"), "http://mirror/npm/plain/-/plain-1.0.0.tgz");
    });

    it("installs packages as npm lays them out, reports progress to the total, and then needs no network", async () => {
        const events: {downloadedBytes: number; totalBytes: number | null}[] = [];
        const nodeModules = path.join(dir, "node_modules");
        const folders = await installPackages([cpu, gpu], nodeModules, options({onProgress: (progress: typeof events[number]) => events.push(progress)}));
        assert.deepEqual(folders, [path.join(nodeModules, "@llama", "cpu"), path.join(nodeModules, "@llama", "gpu")]);
        assert.deepEqual(await files(folders[0]!), ["bins/addon.node", "dist/index.js", "package.json"]);
        assert.equal(await readFile(path.join(folders[0]!, "dist", "index.js"), "utf8"), "export {};");
        assert.equal((await stat(path.join(folders[0]!, "bins", "addon.node"))).mode & 0o777, 0o755);
        assert.ok((await readFile(path.join(folders[1]!, "bins", "big.so"))).equals(big));
        const last = events.at(-1)!;
        assert.ok(last.totalBytes !== null && last.downloadedBytes === last.totalBytes, JSON.stringify(last));
        assert.ok(events.every((event, i) => i === 0 || event.downloadedBytes >= events[i - 1]!.downloadedBytes));

        const requests = registry.total;
        await rm(nodeModules, {recursive: true});
        await installPackages([cpu, gpu], nodeModules, options());
        assert.equal(registry.total, requests, "the cached tarballs were used");
        assert.deepEqual(await files(path.join(nodeModules, "@llama", "cpu")), ["bins/addon.node", "dist/index.js", "package.json"]);
    });

    it("refuses a tarball that does not match its integrity hash, keeping nothing", async () => {
        const forged = {...cpu, integrity: integrityOf(Buffer.from("something else"))};
        await assert.rejects(installPackages([forged], path.join(dir, "node_modules"), options()),
            /^Error: @llama\/cpu@1\.2\.3 from the registry does not match its integrity hash \(expected sha512-.*\); nothing was installed$/);
        assert.deepEqual(await readdir(dir), ["cache"]);
        assert.deepEqual(await readdir(path.join(dir, "cache")), []);
    });

    it("a cached tarball that no longer matches is fetched again", async () => {
        const file = await fetchTarball(cpu, options());
        await writeFile(file, "corrupted");
        const before = registry.requests.get(registry.pathOf(cpu)) ?? 0;
        assert.equal(await fetchTarball(cpu, options()), file);
        assert.equal(registry.requests.get(registry.pathOf(cpu)), before + 1);
        assert.equal(integrityOf(await readFile(file)), cpu.integrity);
    });

    it("names the package and the HTTP status when the registry has no such version", async () => {
        await assert.rejects(fetchTarball({...cpu, version: "9.9.9"}, options()),
            new RegExp(`^Error: cannot download @llama/cpu@9\\.9\\.9 from ${registry.url}@llama/cpu/-/cpu-9\\.9\\.9\\.tgz: HTTP 404 Not Found$`));
    });

    it("a cancel stops every download and leaves no partial file", async () => {
        const stalled = registry.publish("@llama/stalls", "1.0.0", tarball([{path: "package/x", content: big}]));
        registry.stalling.add(registry.pathOf(stalled));
        const controller = new AbortController();
        const install = installPackages([stalled, gpu], path.join(dir, "node_modules"), options({
            signal: controller.signal,
            onProgress: ({downloadedBytes}: {downloadedBytes: number}) => { if (downloadedBytes > 0) controller.abort(); }
        }));
        await assert.rejects(install, CancelledError);
        const cached = await readdir(path.join(dir, "cache")).catch(() => []);
        assert.ok(cached.every((name) => !name.endsWith(".partial")), cached.join(", "));
        assert.ok(!(await readdir(dir)).includes("node_modules"));
    });

    it("a download that stops sending fails after the stall timeout", async () => {
        const stalled = registry.publish("@llama/stalls-too", "1.0.0", tarball([{path: "package/x", content: big}]));
        registry.stalling.add(registry.pathOf(stalled));
        await assert.rejects(fetchTarball(stalled, options({stallTimeoutMs: 300})), /^Error: download of @llama\/stalls-too@1\.0\.0 stalled: no data for 300 ms$/);
        assert.deepEqual(await readdir(path.join(dir, "cache")), []);
    });

    for (const [what, entries, message] of [
        ["a path that leaves its folder", [{path: "package/../../evil", content: "x"}], /points outside its folder/],
        ["a symbolic link", [{path: "package/link", type: "symlink" as const}], /is not a file or folder \(type "2"\)/]
    ] as const) {
        it(`refuses a tarball with ${what}, unpacking nothing`, async () => {
            const file = path.join(dir, "bad.tgz");
            await writeFile(file, tarball([{path: "package/ok", content: "fine"}, ...entries]));
            await assert.rejects(extractTarball(file, path.join(dir, "target")), message);
            assert.deepEqual(await readdir(dir), ["bad.tgz"]);
        });
    }

    it("keeps a folder another process completed first", async () => {
        const file = await fetchTarball(cpu, options());
        const target = path.join(dir, "target");
        await mkdir(target);
        await writeFile(path.join(target, "theirs"), "complete");
        await extractTarball(file, target);
        assert.deepEqual(await files(target), ["theirs"]);
        assert.deepEqual((await readdir(dir)).sort(), ["cache", "target"]);
    });
});
