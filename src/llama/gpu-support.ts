/**
 * "Install GPU Support": this platform's CUDA build of llama.cpp, too large for the VSIX (about
 * 320 MB to download), fetched only on an explicit user action from the npm registry at
 * node-llama-cpp's pinned version, checked against the integrity hashes below, and unpacked into
 * the model cache folder, where openLlama (runtime.ts) finds it. No vscode import: the extension
 * wraps installGpuSupport in a command with a progress notification and a cancel button.
 */
import {stat, readFile, rm} from "node:fs/promises";
import path from "node:path";
import {InvalidInputError} from "../sampling/errors.js";
import {type GpuBackend, hostTarget, ON_DEMAND_BACKENDS, onDemandPackages, TARGET_BUILDS, type VsCodeTarget} from "./builds.js";
import {type DownloadProgress, installPackages, type NpmPackageSpec} from "./npm-package.js";

/** node-llama-cpp's version: it loads only builds of its own version. */
export const GPU_SUPPORT_VERSION = "3.21.1";

/** package-lock.json's integrity of each on-demand package (a unit test keeps them equal). */
const INTEGRITY: Readonly<Record<string, string>> = {
    "@node-llama-cpp/linux-x64-cuda": "sha512-idsE55VoD/FbvLhnBC9krUJaUoC0XnebseAAnCpm/brKf61HEbu+idgbb5eN6mxkjLSrHtILprJ0nDcUJjVrFg==",
    "@node-llama-cpp/linux-x64-cuda-ext": "sha512-1PuURowccBcks3CCoMe1mTHh5vD0V5bFHMUEgtbI/OSDjpP+Pdbn+lf42CGUrepTzR8kCH1HovQ7d8q6/vuIKA==",
    "@node-llama-cpp/win-x64-cuda": "sha512-PLz70neFEMkQTlmJqG1ujUtCSgHasLPMxQ9rLkqQVmZYAXqkRj+45TIHCjdn3XqUeaoun0vrO9rRaxZ8NVq9jg==",
    "@node-llama-cpp/win-x64-cuda-ext": "sha512-L2MxLVEYPDDe4O8EDWPmX6brldc9+Vt9hNoT/anj3pSnmrjkQcmaoKhHs6oP5qhEhb5Uog0rj6lgzNGtJO3p9Q=="
};

export interface GpuSupport {
    readonly backend: GpuBackend;
    readonly packages: readonly NpmPackageSpec[];
    /** Holds @node-llama-cpp/NAME for each package, as a node_modules folder does. */
    readonly folder: string;
}

/** What Install GPU Support installs for `target` (this machine by default) into `cacheDir`, or null where there is no such build. */
export function gpuSupportFor(cacheDir: string, target: VsCodeTarget | null = hostTarget()): GpuSupport | null {
    const names = target ? onDemandPackages(target) : [];
    if (names.length === 0) return null;
    const backend = ON_DEMAND_BACKENDS.find((candidate) => TARGET_BUILDS[target!].gpu[candidate])!;
    return {
        backend,
        packages: names.map((name) => ({name, version: GPU_SUPPORT_VERSION, integrity: INTEGRITY[name]!})),
        folder: path.join(path.resolve(cacheDir), "gpu-support", `node-llama-cpp-${GPU_SUPPORT_VERSION}`)
    };
}

/** Each installed package's folder by name: empty unless all of `target`'s GPU support is installed in `cacheDir`. */
export async function installedGpuSupport(cacheDir: string, target: VsCodeTarget | null = hostTarget()): Promise<ReadonlyMap<string, string>> {
    const support = gpuSupportFor(cacheDir, target);
    if (!support) return new Map();
    const folders = new Map(support.packages.map((spec) => [spec.name, packageFolder(support, spec)]));
    const complete = await Promise.all([...folders.values()].map((folder) => isInstalled(folder)));
    return complete.every(Boolean) ? folders : new Map();
}

export interface InstallGpuSupportOptions {
    /** The model cache folder. */
    readonly cacheDir: string;
    readonly signal?: AbortSignal;
    /** Bytes downloaded over all packages, at most ~10 calls a second per package. */
    readonly onProgress?: (progress: DownloadProgress) => void;
    /** The npm registry; registry.npmjs.org by default. */
    readonly registry?: string;
    /** This machine by default. */
    readonly target?: VsCodeTarget | null;
    /** A download that receives no data for this long fails (60 s by default). */
    readonly stallTimeoutMs?: number;
}

/**
 * Installs `target`'s GPU support (a no-op when it is installed) and returns it. Throws
 * InvalidInputError where the platform has none, CancelledError when the signal aborts, and an
 * Error naming the package and the cause when a download fails or does not match its hash;
 * nothing half-installed stays behind.
 */
export async function installGpuSupport(options: InstallGpuSupportOptions): Promise<GpuSupport> {
    const target = options.target === undefined ? hostTarget() : options.target;
    const support = gpuSupportFor(options.cacheDir, target);
    if (!support) throw new InvalidInputError(`there is no CUDA build of llama.cpp for ${target ?? `${process.platform}-${process.arch}`}; the VSIX already carries this platform's GPU build, if it has one`);
    const installed = await Promise.all(support.packages.map((spec) => isInstalled(packageFolder(support, spec))));
    const missing = support.packages.filter((_, index) => !installed[index]);
    if (missing.length === 0) return support;
    const downloads = path.join(support.folder, ".downloads");
    await installPackages(missing, support.folder, {
        cacheDir: downloads,
        signal: options.signal,
        onProgress: options.onProgress,
        registry: options.registry,
        stallTimeoutMs: options.stallTimeoutMs
    });
    // The tarballs are only needed until their packages are unpacked.
    await rm(downloads, {recursive: true, force: true});
    return support;
}

function packageFolder(support: GpuSupport, spec: NpmPackageSpec): string {
    return path.join(support.folder, ...spec.name.split("/"));
}

/** Unpacking renames a complete package into place, so its package.json at the right version means it is all there. */
async function isInstalled(folder: string): Promise<boolean> {
    try {
        const manifest = JSON.parse(await readFile(path.join(folder, "package.json"), "utf8")) as {version?: unknown};
        return manifest.version === GPU_SUPPORT_VERSION && (await stat(path.join(folder, "bins"))).isDirectory();
    } catch {
        return false;
    }
}
