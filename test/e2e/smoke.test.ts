// Proves the e2e harness end to end, independently of the Power Sampling extension: a
// throwaway extension is written and packaged with vsce at test time, installed into
// code-server, and driven through the palette, a webview and the editor.
// Run: bash scripts/e2e-setup.sh && npx mocha --timeout 300000 'test/e2e/**/*.test.ts'
import assert from "node:assert/strict";
import {mkdtempSync, rmSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {join} from "node:path";
import {VSCodeE2E, vscePackage} from "./harness.js";

const SMOKE_PACKAGE = {
    name: "e2e-smoke",
    displayName: "E2E Smoke",
    description: "Throwaway extension for the e2e harness smoke test",
    publisher: "e2e",
    version: "0.0.1",
    engines: {vscode: "^1.80.0"},
    main: "./extension.js",
    capabilities: {untrustedWorkspaces: {supported: true}},
    contributes: {
        commands: [
            {command: "e2eSmoke.hello", title: "Hello", category: "E2E Smoke"},
            {command: "e2eSmoke.insert", title: "Insert Text", category: "E2E Smoke"},
            {command: "e2eSmoke.showSelection", title: "Show Selection", category: "E2E Smoke"},
        ],
    },
};

const SMOKE_JS = String.raw`
const vscode = require("vscode");
function activate(context) {
  context.subscriptions.push(
    vscode.commands.registerCommand("e2eSmoke.hello", () => {
      const panel = vscode.window.createWebviewPanel("e2eSmoke", "E2E Smoke", vscode.ViewColumn.Beside, {enableScripts: true});
      panel.webview.onDidReceiveMessage((m) => {
        if (m && m.type === "ping") panel.webview.postMessage({type: "pong", text: "pong from extension"});
      });
      panel.webview.html = '<!DOCTYPE html><html><head><meta charset="utf-8">' +
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; script-src \'unsafe-inline\'; style-src \'unsafe-inline\';">' +
        '</head><body><h1 id="greeting">hello from webview</h1><button id="ping">Ping</button><p id="reply"></p>' +
        '<script>const api = acquireVsCodeApi();' +
        'document.getElementById("ping").addEventListener("click", () => api.postMessage({type: "ping"}));' +
        'window.addEventListener("message", (e) => { if (e.data.type === "pong") document.getElementById("reply").textContent = e.data.text; });' +
        '</script></body></html>';
      vscode.window.showInformationMessage("E2E Smoke: panel opened");
    }),
    vscode.commands.registerCommand("e2eSmoke.insert", async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) { vscode.window.showErrorMessage("E2E Smoke: no editor"); return; }
      await editor.edit((b) => b.insert(editor.selection.active, "inserted by e2e"));
    }),
    vscode.commands.registerCommand("e2eSmoke.showSelection", () => {
      const editor = vscode.window.activeTextEditor;
      const text = editor ? editor.document.getText(editor.selection) : "";
      vscode.window.showInformationMessage("E2E Smoke selection: [" + text + "]");
    }),
  );
}
module.exports = {activate, deactivate() {}};
`;

describe("e2e harness smoke (code-server + Chromium)", function () {
    this.timeout(300_000);
    let extDir = "";
    let vsc: VSCodeE2E | undefined;

    before(async function () {
        extDir = mkdtempSync(join(tmpdir(), "e2e-smoke-ext-"));
        writeFileSync(join(extDir, "package.json"), JSON.stringify(SMOKE_PACKAGE, null, 2));
        writeFileSync(join(extDir, "extension.js"), SMOKE_JS);
        writeFileSync(join(extDir, "README.md"), "# E2E Smoke\n\nThrowaway extension for the e2e harness.\n");
        let t = Date.now();
        const vsix = vscePackage(extDir, join(extDir, "e2e-smoke.vsix"), ["--no-dependencies"]);
        console.log(`      vsce package: ${Date.now() - t} ms`);
        t = Date.now();
        vsc = await VSCodeE2E.start({
            name: "smoke",
            vsix: [vsix],
            settings: {"editor.fontSize": 14},
            files: {"hello.txt": "first line\nsecond line\n", "sub/other.md": "# other\n"},
        });
        console.log(`      code-server + workbench + extension host ready: ${Date.now() - t} ms`);
    });

    after(async function () {
        await vsc?.stop();
        if (extDir) rmSync(extDir, {recursive: true, force: true});
    });

    it("runs a contributed command from the palette and reads its webview", async function () {
        const v = vsc!;
        await v.openFile("hello.txt");
        assert.equal(await v.editorText(), "first line\nsecond line\n");
        await v.runCommand("E2E Smoke: Hello");
        const frame = await v.webviewFrame({contains: "hello from webview"});
        assert.equal((await frame.locator("#greeting").innerText()).trim(), "hello from webview");
        await frame.locator("#ping").click();
        await frame.locator("#reply", {hasText: "pong from extension"}).waitFor({timeout: 15_000});
        await v.waitForNotification("E2E Smoke: panel opened");
        await v.screenshot("smoke-webview");
    });

    it("inserts text at the cursor and reads the editor's text", async function () {
        const v = vsc!;
        await v.openFile("hello.txt", {viewColumn: 1}); // the first group: the webview stays in view
        await v.select({line: 2, column: 1});
        await v.runCommand("E2E Smoke: Insert Text");
        const text = await v.waitForEditorText("inserted by e2e");
        assert.equal(text, "first line\ninserted by e2esecond line\n");
        const st = await v.editorState();
        assert.match(st.fileName, /hello\.txt$/);
        assert.equal(st.isDirty, true);
        await v.screenshot("smoke-inserted");
    });

    it("selects a range and all text, seen by a command", async function () {
        const v = vsc!;
        await v.openFile("sub/other.md");
        await v.select({line: 1, column: 3}, {line: 1, column: 8});
        assert.deepEqual((await v.editorState()).selections, [{anchor: {line: 1, column: 3}, active: {line: 1, column: 8}}]);
        await v.runCommand("E2E Smoke: Show Selection");
        await v.waitForNotification("E2E Smoke selection: [other]");
        await v.selectAll();
        await v.runCommand("E2E Smoke: Show Selection");
        // A notification shows the newline of "# other\n" as white space.
        await v.waitForNotification(/E2E Smoke selection: \[# other\s*\]/);
        assert.ok((await v.statusBarItems()).length > 0, "status bar has items");
        await v.screenshot("smoke-selection");
    });
});
