/**
 * `npm run package` builds this machine's VSIX; `npm run package:all` builds one per VS Code
 * target; `npm run package -- --target T [--target U] [--out DIR]` builds those. Each is
 * power-sampling-<target>.vsix and carries exactly its target's llama.cpp builds (builds.ts).
 *
 * The extension's files and its production dependencies, minus every @node-llama-cpp build, are
 * staged (hard links) in .cache/vsix/<target>; the target's builds come from the npm registry at
 * the exact version and integrity package-lock.json gives, cached in ~/.cache/power-sampling/npm
 * (the only network access); vsce packages the staged folder; and the VSIX's entries are checked
 * (vsix-contents.ts) before it counts.
 */
import {execFile} from "node:child_process";
import {copyFile, link, lstat, mkdir, readdir, readFile, readlink, rm, stat, symlink, writeFile} from "node:fs/promises";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {promisify} from "node:util";
import {createVSIX, listFiles, PackageManager} from "@vscode/vsce";
import {defaultCacheDir} from "../src/cli/cache.js";
import {bundledPackages, hostTarget, VSCODE_TARGETS, type VsCodeTarget} from "../src/llama/builds.js";
import {DEFAULT_REGISTRY, installPackages, type NpmPackageSpec} from "../src/llama/npm-package.js";
import {vsixProblems, zipEntries} from "./vsix-contents.js";

const run = promisify(execFile);
export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

export interface BuiltPackage {
    readonly target: VsCodeTarget;
    readonly file: string;
    readonly bytes: number;
    readonly entries: number;
}

export interface PackageOptions {
    /** Where the VSIX files go; the repository root by default. */
    readonly outDir?: string;
    /** Progress lines; none by default. */
    readonly log?: (line: string) => void;
}

/** Builds and checks one VSIX per target. */
export async function packageTargets(targets: readonly VsCodeTarget[], options: PackageOptions = {}): Promise<BuiltPackage[]> {
    const log = options.log ?? (() => {});
    const outDir = path.resolve(options.outDir ?? REPO_ROOT);
    await mkdir(outDir, {recursive: true});
    log("building dist/");
    await run(process.execPath, [path.join(REPO_ROOT, "scripts", "build.mjs")], {cwd: REPO_ROOT});
    const lock = JSON.parse(await readFile(path.join(REPO_ROOT, "package-lock.json"), "utf8")) as LockFile;
    const manifest = JSON.parse(await readFile(path.join(REPO_ROOT, "package.json"), "utf8")) as Manifest;
    const registry = (await run("npm", ["config", "get", "registry"], {cwd: REPO_ROOT})).stdout.trim() || DEFAULT_REGISTRY;
    const files = await extensionFiles();
    const built: BuiltPackage[] = [];
    for (const target of targets) {
        const staging = path.join(REPO_ROOT, ".cache", "vsix", target);
        const file = path.join(outDir, `power-sampling-${target}.vsix`);
        await rm(staging, {recursive: true, force: true});
        try {
            log(`${target}: staging`);
            for (const relative of files) await linkTree(path.join(REPO_ROOT, relative), path.join(staging, relative));
            // Written, not linked: a write through a hard link would change the repository's file.
            await writeFile(path.join(staging, "package.json"), `${JSON.stringify(stagedManifest(manifest), null, 2)}\n`);
            const builds = bundledPackages(target).map((name) => lockedSpec(lock, name));
            log(`${target}: ${builds.map((spec) => spec.name).join(", ")} from ${registry}`);
            await installPackages(builds, path.join(staging, "node_modules"), {cacheDir: path.join(defaultCacheDir(), "npm"), registry});
            await createVSIX({cwd: staging, target, packagePath: file, allowMissingRepository: true, useYarn: false});
            const entries = await zipEntries(file);
            const problems = vsixProblems(target, entries.map((entry) => entry.name));
            if (problems.length > 0) throw new Error(`${path.basename(file)} is wrong:\n  ${problems.join("\n  ")}`);
            built.push({target, file, bytes: (await stat(file)).size, entries: entries.length});
        } finally {
            await rm(staging, {recursive: true, force: true});
        }
    }
    return built;
}

interface LockFile {
    readonly packages: Readonly<Record<string, {readonly version?: string; readonly integrity?: string}>>;
}

interface Manifest {
    readonly dependencies?: Readonly<Record<string, string>>;
    readonly [key: string]: unknown;
}

function lockedSpec(lock: LockFile, name: string): NpmPackageSpec {
    const entry = lock.packages[`node_modules/${name}`];
    if (!entry?.version || !entry.integrity) throw new Error(`package-lock.json has no version and integrity for ${name}; run npm install`);
    return {name, version: entry.version, integrity: entry.integrity};
}

/**
 * The manifest vsce reads in the staging folder: no scripts (dist/ is built already), no dev
 * dependencies, and no pinned build package (package.json pins the host's for the lean install;
 * the staged node_modules holds the target's).
 */
function stagedManifest(manifest: Manifest): Manifest {
    const {scripts: _scripts, devDependencies: _devDependencies, ...rest} = manifest;
    const dependencies = Object.fromEntries(Object.entries(manifest.dependencies ?? {}).filter(([name]) => !name.startsWith("@node-llama-cpp/")));
    return {...rest, dependencies};
}

/**
 * What to stage, relative to the repository: the files vsce would package outside node_modules
 * (package.json apart: it is staged changed), and the folders of the production dependencies (each without its nested node_modules, which are
 * listed on their own), so that vsce's dependency listing in the staging folder finds them all.
 * @node-llama-cpp builds are left out: each target brings its own.
 */
async function extensionFiles(): Promise<string[]> {
    const own = (await listFiles({cwd: REPO_ROOT, packageManager: PackageManager.Npm}))
        .filter((file) => !file.startsWith("node_modules/") && file !== "package.json");
    const {stdout} = await run("npm", ["ls", "--omit=dev", "--parseable", "--all"], {cwd: REPO_ROOT, maxBuffer: 16 * 1024 * 1024});
    const dependencies = stdout.split(/\r?\n/).filter((line) => line.trim() !== "").map((dir) => path.relative(REPO_ROOT, dir))
        .filter((dir) => dir.startsWith("node_modules") && !dir.replaceAll("\\", "/").includes("node_modules/@node-llama-cpp/"));
    return [...own, ".vscodeignore", ...dependencies];
}

/** Hard-links a file, or a folder's files except nested node_modules, into `target` (copies across file systems). */
async function linkTree(source: string, target: string): Promise<void> {
    const info = await lstat(source);
    if (info.isSymbolicLink()) {
        await mkdir(path.dirname(target), {recursive: true});
        await symlink(await readlink(source), target);
    } else if (info.isDirectory()) {
        await mkdir(target, {recursive: true});
        for (const name of await readdir(source)) if (name !== "node_modules") await linkTree(path.join(source, name), path.join(target, name));
    } else {
        await mkdir(path.dirname(target), {recursive: true});
        await link(source, target).catch(async (error: NodeJS.ErrnoException) => {
            if (error.code !== "EXDEV") throw error;
            await copyFile(source, target);
        });
    }
}

function parseTargets(args: readonly string[]): {targets: VsCodeTarget[]; outDir?: string} {
    const targets: VsCodeTarget[] = [];
    let outDir: string | undefined;
    for (let i = 0; i < args.length; i++) {
        const arg = args[i]!;
        if (arg === "--all") targets.push(...VSCODE_TARGETS);
        else if (arg === "--out" && args[i + 1]) outDir = args[++i];
        else if (arg === "--target" && (VSCODE_TARGETS as readonly string[]).includes(args[i + 1] ?? "")) targets.push(args[++i] as VsCodeTarget);
        else throw new Error(`unknown argument ${JSON.stringify(arg)}${arg === "--target" ? ` (targets: ${VSCODE_TARGETS.join(", ")})` : ""}; use --all, --target T or --out DIR`);
    }
    if (targets.length === 0) {
        const host = hostTarget();
        if (!host) throw new Error(`no VS Code target for ${process.platform}-${process.arch}; use --target T`);
        targets.push(host);
    }
    return {targets: [...new Set(targets)], outDir};
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
    try {
        const {targets, outDir} = parseTargets(process.argv.slice(2));
        const built = await packageTargets(targets, {outDir, log: (line) => process.stderr.write(`${line}\n`)});
        for (const item of built)
            process.stdout.write(`${path.relative(process.cwd(), item.file).padEnd(34)} ${(item.bytes / 1e6).toFixed(1).padStart(6)} MB  ${item.entries} files\n`);
    } catch (error) {
        process.stderr.write(`package: ${error instanceof Error ? error.message : String(error)}\n`);
        process.exitCode = 1;
    }
}
