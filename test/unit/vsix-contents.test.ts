/** The VSIX content rules on entry lists: a right one passes, and each kind of mistake is named. */
import {strict as assert} from "node:assert";
import {readdir} from "node:fs/promises";
import path from "node:path";
import {NODE_LLAMA_CPP_RUNTIME_FILES, vsixProblems} from "../../scripts/vsix-contents.js";
import {REPO_ROOT} from "../support/cli.js";

/** The entries of a right linux-x64 VSIX, in short. */
function linuxX64(): string[] {
    const build = (name: string) => [`package.json`, `dist/index.js`, `bins/${name}/llama-addon.node`, `bins/${name}/_nlcBuildMetadata.json`, `bins/${name}/libggml-base.so`]
        .map((file) => `extension/node_modules/@node-llama-cpp/${name}/${file}`);
    return [
        "extension/package.json", "extension/dist/extension.cjs", "extension/dist/cli.js",
        ...NODE_LLAMA_CPP_RUNTIME_FILES.map((file) => `extension/node_modules/node-llama-cpp/${file}`),
        ...build("linux-x64"), ...build("linux-x64-vulkan")
    ];
}

describe("VSIX contents", () => {
    it("a VSIX with exactly its own builds and node-llama-cpp's runtime files passes", () => {
        assert.deepEqual(vsixProblems("linux-x64", linuxX64()), []);
    });

    it("names another platform's build and a native binary outside the builds", () => {
        const entries = [...linuxX64(),
            "extension/node_modules/@node-llama-cpp/win-x64/bins/win-x64/llama-addon.node",
            "extension/node_modules/node-llama-cpp/llama/localBuilds/linux-x64/llama-addon.node"];
        assert.deepEqual(vsixProblems("linux-x64", entries), [
            "carries a native binary outside this platform's builds: extension/node_modules/node-llama-cpp/llama/localBuilds/linux-x64/llama-addon.node",
            "carries another platform's build: @node-llama-cpp/win-x64"
        ]);
    });

    it("names a missing binary of its own and a missing runtime file", () => {
        const entries = linuxX64().filter((name) => !name.endsWith("linux-x64-vulkan/llama-addon.node") && !name.endsWith("llama/binariesGithubRelease.json"));
        assert.deepEqual(vsixProblems("linux-x64", entries), [
            "lacks its own build's extension/node_modules/@node-llama-cpp/linux-x64-vulkan/bins/linux-x64-vulkan/llama-addon.node",
            "lacks node-llama-cpp's runtime file llama/binariesGithubRelease.json"
        ]);
    });

    it("the same VSIX is wrong for another target: it lacks that target's build and carries others", () => {
        const problems = vsixProblems("darwin-arm64", linuxX64());
        assert.ok(problems.includes("lacks its own build's extension/node_modules/@node-llama-cpp/mac-arm64-metal/bins/mac-arm64-metal/llama-addon.node"), problems.join("\n"));
        assert.ok(problems.includes("carries another platform's build: @node-llama-cpp/linux-x64"), problems.join("\n"));
    });

    it("the runtime files checked include all of the installed node-llama-cpp's llama/*.json", async () => {
        const installed = (await readdir(path.join(REPO_ROOT, "node_modules", "node-llama-cpp", "llama"))).filter((name) => name.endsWith(".json"));
        assert.ok(installed.length > 0);
        for (const name of installed) assert.ok(NODE_LLAMA_CPP_RUNTIME_FILES.includes(`llama/${name}`), name);
    });
});
