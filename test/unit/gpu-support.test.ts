/**
 * The build packages of each VS Code target and the on-demand GPU support: the pinned versions
 * and hashes agree with package-lock.json (a node-llama-cpp upgrade that forgets them fails
 * here), and installing is a no-op once installed and refused where there is nothing to install.
 */
import {strict as assert} from "node:assert";
import {readFileSync} from "node:fs";
import {mkdir, mkdtemp, rm, writeFile} from "node:fs/promises";
import net from "node:net";
import {tmpdir} from "node:os";
import path from "node:path";
import {allBuildPackages, bundledPackages, onDemandPackages, VSCODE_TARGETS} from "../../src/llama/builds.js";
import {GPU_SUPPORT_VERSION, gpuSupportFor, installedGpuSupport, installGpuSupport} from "../../src/llama/gpu-support.js";
import {InvalidInputError} from "../../src/sampling/errors.js";
import {REPO_ROOT} from "../support/cli.js";

const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as {packages: Record<string, {version: string; integrity?: string; optionalDependencies?: Record<string, string>}>};

describe("llama.cpp builds per platform, and GPU support on demand", () => {
    it("every target carries its CPU build and its shipped GPU build, and installs CUDA on demand where it exists", () => {
        assert.deepEqual(bundledPackages("linux-x64"), ["@node-llama-cpp/linux-x64", "@node-llama-cpp/linux-x64-vulkan"]);
        assert.deepEqual(bundledPackages("win32-x64"), ["@node-llama-cpp/win-x64", "@node-llama-cpp/win-x64-vulkan"]);
        assert.deepEqual(bundledPackages("darwin-arm64"), ["@node-llama-cpp/mac-arm64-metal"]);
        assert.deepEqual(onDemandPackages("linux-x64"), ["@node-llama-cpp/linux-x64-cuda", "@node-llama-cpp/linux-x64-cuda-ext"]);
        for (const target of ["linux-arm64", "darwin-arm64", "darwin-x64", "win32-arm64"] as const) assert.deepEqual(onDemandPackages(target), [], target);
    });

    it("every build package is one of node-llama-cpp's, in package-lock.json at node-llama-cpp's version", () => {
        const nodeLlamaCpp = lock.packages["node_modules/node-llama-cpp"]!;
        assert.equal(nodeLlamaCpp.version, GPU_SUPPORT_VERSION);
        for (const name of allBuildPackages()) {
            assert.ok(nodeLlamaCpp.optionalDependencies?.[name], `${name} is not a build package of node-llama-cpp`);
            const entry = lock.packages[`node_modules/${name}`];
            assert.equal(entry?.version, GPU_SUPPORT_VERSION, name);
            assert.match(entry?.integrity ?? "", /^sha512-/, name);
        }
    });

    it("pins each on-demand package at the lockfile's version and integrity", () => {
        for (const target of VSCODE_TARGETS) {
            for (const spec of gpuSupportFor("/cache", target)?.packages ?? []) {
                const entry = lock.packages[`node_modules/${spec.name}`]!;
                assert.deepEqual({version: spec.version, integrity: spec.integrity}, {version: entry.version, integrity: entry.integrity}, spec.name);
            }
        }
        assert.equal(gpuSupportFor("/cache", "linux-x64")!.backend, "cuda");
        assert.equal(gpuSupportFor("/cache", "linux-x64")!.folder, path.resolve("/cache/gpu-support/node-llama-cpp-3.21.1"));
    });

    describe("installing", () => {
        let cacheDir: string;
        /** Nothing listens there: any download fails at once. */
        let NO_REGISTRY: string;
        before(async () => {
            const server = net.createServer();
            await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
            NO_REGISTRY = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}/`;
            await new Promise((resolve) => server.close(resolve));
        });
        beforeEach(async () => { cacheDir = await mkdtemp(path.join(tmpdir(), "power-sampling-gpu-")); });
        afterEach(() => rm(cacheDir, {recursive: true, force: true}));

        const fakeInstall = async (name: string, version = GPU_SUPPORT_VERSION) => {
            const folder = path.join(gpuSupportFor(cacheDir, "linux-x64")!.folder, ...name.split("/"));
            await mkdir(path.join(folder, "bins"), {recursive: true});
            await writeFile(path.join(folder, "package.json"), JSON.stringify({name, version}));
            return folder;
        };

        it("is refused where there is no CUDA build, saying so", async () => {
            await assert.rejects(installGpuSupport({cacheDir, target: "darwin-arm64", registry: NO_REGISTRY}),
                (error: Error) => error instanceof InvalidInputError && /^there is no CUDA build of llama\.cpp for darwin-arm64/.test(error.message));
        });

        it("counts as installed only when every package is there at the pinned version", async () => {
            const [build, fallback] = onDemandPackages("linux-x64") as [string, string];
            const buildFolder = await fakeInstall(build);
            assert.equal((await installedGpuSupport(cacheDir, "linux-x64")).size, 0);
            await fakeInstall(fallback, "3.0.0");
            assert.equal((await installedGpuSupport(cacheDir, "linux-x64")).size, 0);
            const fallbackFolder = await fakeInstall(fallback);
            assert.deepEqual([...await installedGpuSupport(cacheDir, "linux-x64")], [[build, buildFolder], [fallback, fallbackFolder]]);
        });

        it("downloads nothing once installed", async () => {
            for (const name of onDemandPackages("linux-x64")) await fakeInstall(name);
            const support = await installGpuSupport({cacheDir, target: "linux-x64", registry: NO_REGISTRY});
            assert.equal(support.packages.length, 2);
        });

        it("downloads what is missing, and names the package when that fails", async () => {
            await fakeInstall("@node-llama-cpp/linux-x64-cuda");
            await assert.rejects(installGpuSupport({cacheDir, target: "linux-x64", registry: NO_REGISTRY}),
                (error: Error) => error.message === `cannot download @node-llama-cpp/linux-x64-cuda-ext@3.21.1 from ${NO_REGISTRY}@node-llama-cpp/linux-x64-cuda-ext/-/linux-x64-cuda-ext-3.21.1.tgz: connection refused (${new URL(NO_REGISTRY).host})`);
        });
    });
});
