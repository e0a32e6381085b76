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
    // CommonJS dependencies (vscode-languageserver) call require(); an ESM bundle needs one made.
    banner: {js: "#!/usr/bin/env node\nimport {createRequire as __createRequire} from \"node:module\";\nconst require = __createRequire(import.meta.url);"},
    logLevel: "warning"
});
