// Bundles each entry point with esbuild. node-llama-cpp stays external: it loads native
// binaries relative to its own package folder.
import {build} from "esbuild";

await build({
    entryPoints: {cli: "src/cli/main.ts"},
    outdir: "dist",
    bundle: true,
    platform: "node",
    target: "node20",
    format: "esm",
    sourcemap: true,
    external: ["node-llama-cpp"],
    banner: {js: "#!/usr/bin/env node"},
    logLevel: "warning"
});
