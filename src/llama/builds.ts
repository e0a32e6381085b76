/**
 * The node-llama-cpp build packages of each VS Code target: the ones its VSIX carries, and the
 * CUDA builds installed on demand ("Install GPU Support"), which are too large to ship (see
 * README, "Platforms and GPUs"). Package names and their bins/ folders follow node-llama-cpp's
 * own choice of package per platform, architecture and GPU type.
 */
export const VSCODE_TARGETS = ["linux-x64", "linux-arm64", "darwin-arm64", "darwin-x64", "win32-x64", "win32-arm64"] as const;
export type VsCodeTarget = (typeof VSCODE_TARGETS)[number];

export type GpuBackend = "cuda" | "vulkan" | "metal";

export interface TargetBuilds {
    /**
     * The build that runs on the CPU. Apple silicon has no CPU-only build: its Metal build with
     * no layers offloaded is the CPU there.
     */
    readonly cpu: string;
    /** GPU builds by backend. CUDA is two packages: the build and the fallback node-llama-cpp loads beside it (CUDA 12, older GPUs). */
    readonly gpu: {readonly [B in GpuBackend]?: readonly string[]};
}

export const TARGET_BUILDS: {readonly [T in VsCodeTarget]: TargetBuilds} = {
    "linux-x64": {
        cpu: "@node-llama-cpp/linux-x64",
        gpu: {vulkan: ["@node-llama-cpp/linux-x64-vulkan"], cuda: ["@node-llama-cpp/linux-x64-cuda", "@node-llama-cpp/linux-x64-cuda-ext"]}
    },
    "linux-arm64": {cpu: "@node-llama-cpp/linux-arm64", gpu: {}},
    "darwin-arm64": {cpu: "@node-llama-cpp/mac-arm64-metal", gpu: {metal: ["@node-llama-cpp/mac-arm64-metal"]}},
    "darwin-x64": {cpu: "@node-llama-cpp/mac-x64", gpu: {}},
    "win32-x64": {
        cpu: "@node-llama-cpp/win-x64",
        gpu: {vulkan: ["@node-llama-cpp/win-x64-vulkan"], cuda: ["@node-llama-cpp/win-x64-cuda", "@node-llama-cpp/win-x64-cuda-ext"]}
    },
    "win32-arm64": {cpu: "@node-llama-cpp/win-arm64", gpu: {}}
};

/** Backends whose builds are installed on demand instead of shipped. */
export const ON_DEMAND_BACKENDS: readonly GpuBackend[] = ["cuda"];

/** The build packages a target's VSIX carries. */
export function bundledPackages(target: VsCodeTarget): string[] {
    const {cpu, gpu} = TARGET_BUILDS[target];
    const shipped = Object.entries(gpu).filter(([backend]) => !ON_DEMAND_BACKENDS.includes(backend as GpuBackend));
    return [...new Set([cpu, ...shipped.flatMap(([, packages]) => packages)])];
}

/** The build packages a target installs on demand (none where there is no CUDA build). */
export function onDemandPackages(target: VsCodeTarget): string[] {
    return ON_DEMAND_BACKENDS.flatMap((backend) => TARGET_BUILDS[target].gpu[backend] ?? []);
}

/** Every build package of every target. */
export function allBuildPackages(): string[] {
    return [...new Set(VSCODE_TARGETS.flatMap((target) => [...bundledPackages(target), ...onDemandPackages(target)]))];
}

/** This machine's VS Code target, or null where none is packaged. */
export function hostTarget(): VsCodeTarget | null {
    const target = `${process.platform}-${process.arch}`;
    return (VSCODE_TARGETS as readonly string[]).includes(target) ? target as VsCodeTarget : null;
}
