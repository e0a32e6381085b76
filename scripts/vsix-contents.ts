/**
 * What a platform's VSIX must and must not carry, checked on the list of its entries: exactly its
 * own llama.cpp builds (no other platform's binary, none of its own missing) and the files
 * node-llama-cpp reads at run time (llama/*.json, whose absence once broke the extension only at
 * run time).
 */
import {readFile} from "node:fs/promises";
import {bundledPackages, type VsCodeTarget} from "../src/llama/builds.js";

export interface ZipEntry {
    readonly name: string;
    /** Uncompressed bytes. */
    readonly size: number;
}

/** Files of node-llama-cpp, relative to its package folder, that it needs at run time. */
export const NODE_LLAMA_CPP_RUNTIME_FILES = ["package.json", "dist/index.js", "llama/binariesGithubRelease.json", "llama/llama.cpp.info.json", "llama/package.json"];

const ROOT = "extension/";
const BUILDS = `${ROOT}node_modules/@node-llama-cpp/`;
const NATIVE = /\.(node|so|dylib|dll|exe|metallib)$/i;

/** Everything wrong with a target's VSIX, given its entries' names; empty when it is right. */
export function vsixProblems(target: VsCodeTarget, names: readonly string[]): string[] {
    const problems: string[] = [];
    const present = new Set(names);
    const own = bundledPackages(target).map((name) => name.slice("@node-llama-cpp/".length));
    for (const build of own) {
        const folder = `${BUILDS}${build}/`;
        for (const file of ["package.json", "dist/index.js", `bins/${build}/llama-addon.node`, `bins/${build}/_nlcBuildMetadata.json`])
            if (!present.has(folder + file)) problems.push(`lacks its own build's ${folder}${file}`);
    }
    const others = new Set<string>();
    for (const name of names) {
        if (name.startsWith(BUILDS)) {
            const build = name.slice(BUILDS.length).split("/")[0]!;
            if (!own.includes(build)) {
                others.add(build);
                continue;
            }
        }
        // A native file belongs in one of this target's builds, under that build's own bins folder.
        if (NATIVE.test(name) && !own.some((build) => name.startsWith(`${BUILDS}${build}/bins/${build}/`)))
            problems.push(`carries a native binary outside this platform's builds: ${name}`);
    }
    for (const build of others) problems.push(`carries another platform's build: @node-llama-cpp/${build}`);
    for (const file of NODE_LLAMA_CPP_RUNTIME_FILES)
        if (!present.has(`${ROOT}node_modules/node-llama-cpp/${file}`)) problems.push(`lacks node-llama-cpp's runtime file ${file}`);
    for (const file of ["package.json", "dist/extension.cjs", "dist/cli.js"])
        if (!present.has(ROOT + file)) problems.push(`lacks ${ROOT}${file}`);
    return problems;
}

/** The entries of a zip file (a VSIX), from its central directory. */
export async function zipEntries(file: string): Promise<ZipEntry[]> {
    const zip = await readFile(file);
    // The end-of-central-directory record: its signature within the last 64 KB + 22 bytes.
    let end = -1;
    for (let i = zip.length - 22; i >= Math.max(0, zip.length - 65_557); i--) {
        if (zip.readUInt32LE(i) === 0x06054b50) {
            end = i;
            break;
        }
    }
    if (end < 0) throw new Error(`${file} is not a zip file`);
    const count = zip.readUInt16LE(end + 10);
    let offset = zip.readUInt32LE(end + 16);
    const entries: ZipEntry[] = [];
    for (let i = 0; i < count; i++) {
        if (zip.readUInt32LE(offset) !== 0x02014b50) throw new Error(`${file}: damaged central directory`);
        const nameLength = zip.readUInt16LE(offset + 28);
        const extraLength = zip.readUInt16LE(offset + 30);
        const commentLength = zip.readUInt16LE(offset + 32);
        entries.push({name: zip.toString("utf8", offset + 46, offset + 46 + nameLength), size: zip.readUInt32LE(offset + 24)});
        offset += 46 + nameLength + extraLength + commentLength;
    }
    return entries;
}
