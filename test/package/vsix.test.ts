/**
 * Builds every platform's VSIX as `npm run package:all` does (the other platforms' builds come from
 * the npm registry once, then from ~/.cache/power-sampling/npm) and checks each one's entries:
 * exactly its own llama.cpp builds, node-llama-cpp's runtime files, and the size budget.
 * About 2 minutes with the cache, plus ~110 MB of downloads without it.
 */
import {strict as assert} from "node:assert";
import {mkdtemp, readdir, rm} from "node:fs/promises";
import {tmpdir} from "node:os";
import path from "node:path";
import {type BuiltPackage, packageTargets} from "../../scripts/package.js";
import {vsixProblems, zipEntries} from "../../scripts/vsix-contents.js";
import {VSCODE_TARGETS} from "../../src/llama/builds.js";

/** CPU plus Metal or Vulkan. */
const BUDGET_BYTES = 60e6;

describe("the VSIX of every platform", function () {
    this.timeout(1_200_000);
    let outDir: string;
    let built: BuiltPackage[];
    before(async () => {
        outDir = await mkdtemp(path.join(tmpdir(), "power-sampling-vsix-"));
        built = await packageTargets(VSCODE_TARGETS, {outDir});
    });
    after(() => rm(outDir, {recursive: true, force: true}));

    it("are built, one per target, named power-sampling-<target>.vsix", async () => {
        assert.deepEqual((await readdir(outDir)).sort(), VSCODE_TARGETS.map((target) => `power-sampling-${target}.vsix`).sort());
    });

    it("each carries exactly its own builds and node-llama-cpp's runtime files, within the size budget", async () => {
        for (const item of built) {
            const names = (await zipEntries(item.file)).map((entry) => entry.name);
            assert.deepEqual(vsixProblems(item.target, names), [], item.target);
            assert.ok(item.bytes <= BUDGET_BYTES, `${item.target}: ${(item.bytes / 1e6).toFixed(1)} MB`);
            console.log(`      ${path.basename(item.file).padEnd(34)} ${(item.bytes / 1e6).toFixed(1).padStart(5)} MB  ${item.entries} files`);
        }
    });
});
