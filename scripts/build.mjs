// Bundles each entry point with esbuild. node-llama-cpp stays external: it loads native
// binaries relative to its own package folder.
import {cpSync, mkdirSync} from "node:fs";
import {dirname, join} from "node:path";
import {fileURLToPath} from "node:url";
import {build} from "esbuild";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

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

// The webview panel: one self-contained script for the browser (no eval, no remote loads), plus
// KaTeX's stylesheet and fonts beside it, which the host links from dist/webview/.
await build({
    entryPoints: {panel: "src/webview/panel.ts"},
    outdir: "dist/webview",
    bundle: true,
    platform: "browser",
    target: "es2022",
    format: "iife",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning"
});
const katex = join(root, "node_modules", "katex", "dist");
const webview = join(root, "dist", "webview");
mkdirSync(webview, {recursive: true});
cpSync(join(katex, "katex.min.css"), join(webview, "katex.min.css"));
cpSync(join(katex, "fonts"), join(webview, "fonts"), {recursive: true});

// The extension host loads extensions as CommonJS; `vscode` is provided by the host.
await build({
    entryPoints: {extension: "src/extension/extension.ts"},
    outdir: "dist",
    outExtension: {".js": ".cjs"},
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    sourcemap: true,
    external: ["vscode", "node-llama-cpp"],
    logLevel: "warning"
});
