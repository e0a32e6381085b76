/**
 * The `gpu` choice on a machine without a usable GPU (CI, this one): every choice loads the CPU
 * build with a reason instead of failing, and a CUDA build installed in the model cache is found
 * through the resolution hook, tested by node-llama-cpp, and refused with a reason when it does
 * not load. The installed "CUDA build" is the CPU build under CUDA's name, which fails
 * node-llama-cpp's GPU-type check just as a CUDA build fails without a driver.
 */
import {strict as assert} from "node:assert";
import {cp, mkdir, mkdtemp, rm, symlink, writeFile} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import type {Llama} from "node-llama-cpp";
import {hostTarget} from "../../src/llama/builds.js";
import {gpuSupportFor, GPU_SUPPORT_VERSION} from "../../src/llama/gpu-support.js";
import type {GpuChoice} from "../../src/protocol/backend.js";
import {describeCompute, loadGgufModel, openLlama} from "../../src/llama/runtime.js";
import {REPO_ROOT} from "../support/cli.js";
import {sharedModel} from "../support/shared.js";

describe("llama.cpp runtime: GPU choice and CPU fallback", function () {
    this.timeout(120_000);
    let cacheDir: string;
    const opened: Llama[] = [];
    const open = async (gpu: GpuChoice, dir?: string) => {
        const llama = await openLlama({gpu, cacheDir: dir});
        opened.push(llama);
        return llama;
    };
    before(async function () {
        // The expectations below are those of a Linux x64 machine with no GPU driver.
        const {getLlamaGpuTypes} = await import("node-llama-cpp");
        if (hostTarget() !== "linux-x64" || (await getLlamaGpuTypes("supported")).some((type) => type !== false)) this.skip();
        cacheDir = await mkdtemp(path.join(tmpdir(), "power-sampling-gpu-"));
    });
    after(async () => {
        for (const llama of opened) await llama.dispose();
        if (cacheDir) await rm(cacheDir, {recursive: true, force: true});
    });

    it("cpu runs on the CPU with no reason to report", async () => {
        const description = await describeCompute(await open("cpu"));
        assert.deepEqual(description, {backend: "cpu", devices: [], layers: null, reason: null, summary: "CPU"});
    });

    it("cuda without GPU support installed: the CPU, and the reason says to install it", async () => {
        const llama = await open("cuda", cacheDir);
        assert.equal(llama.gpu, false);
        const {backend, reason} = await describeCompute(llama);
        assert.equal(backend, "cpu");
        assert.match(reason!, /^CUDA support is not installed: run "Power Sampling: Install GPU Support"/);
    });

    it("vulkan in the lean npm install, metal on Linux, auto with no driver: the CPU, each with its reason", async () => {
        assert.match((await describeCompute(await open("vulkan"))).reason!, /no Vulkan build/);
        assert.match((await describeCompute(await open("metal"))).reason!, /no Metal build for linux-x64/);
        assert.match((await describeCompute(await open("auto"))).summary, /^CPU: no GPU driver found/);
    });

    it("a CUDA build in the model cache that fails to load: found, tested, refused, and the model still loads on the CPU", async () => {
        await installFakeCuda(cacheDir);
        const llama = await open("cuda", cacheDir);
        assert.equal(llama.gpu, false);
        const model = await loadGgufModel(llama, sharedModel("stories260K.gguf"));
        try {
            const description = await describeCompute(llama, model);
            assert.equal(description.backend, "cpu");
            assert.deepEqual(description.layers, {offloaded: 0, total: model.fileInsights.totalLayers});
            assert.match(description.reason!, /^the CUDA build did not load: no driver found; it needs an NVIDIA GPU/);
        } finally {
            await model.dispose();
        }
    });
});

/** The CPU build's package under the CUDA packages' names, where Install GPU Support puts them. */
async function installFakeCuda(cacheDir: string): Promise<void> {
    const support = gpuSupportFor(cacheDir, "linux-x64")!;
    const cpuPackage = path.join(REPO_ROOT, "node_modules", "@node-llama-cpp", "linux-x64");
    for (const {name} of support.packages) {
        const folder = path.join(support.folder, ...name.split("/"));
        await mkdir(path.join(folder, "bins"), {recursive: true});
        await cp(path.join(cpuPackage, "dist"), path.join(folder, "dist"), {recursive: true});
        await writeFile(path.join(folder, "package.json"), JSON.stringify({name, version: GPU_SUPPORT_VERSION, type: "module", exports: {".": "./dist/index.js"}}));
        if (name.endsWith("-ext")) await mkdir(path.join(folder, "bins", "linux-x64-cuda", "fallback"), {recursive: true});
        else await symlink(path.join(cpuPackage, "bins", "linux-x64"), path.join(folder, "bins", "linux-x64-cuda"));
    }
}
