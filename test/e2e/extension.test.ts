/**
 * Power Sampling in a real VS Code (code-server + Chromium): the packaged VSIX, a real model
 * (stories260K), the panel (with a webview reload and the keyboard), Stop, a bad model path,
 * inline suggestions, and downloading then selecting a model.
 */
import {strict as assert} from "node:assert";
import {execFile} from "node:child_process";
import {mkdtempSync, readdirSync, readFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {promisify} from "node:util";
import path from "node:path";
import {REPO_ROOT} from "../support/cli.js";
import {MODEL_PATH, ModelServer} from "../support/model-server.js";
import {sharedModel} from "../support/shared.js";
import {VSCodeE2E} from "./harness.js";

const VSIX = path.join(REPO_ROOT, "power-sampling-linux-x64.vsix");
const QUICK = {
    "powerSampling.model": sharedModel("stories260K.gguf"),
    "powerSampling.threads": 1,
    "powerSampling.maxTokens": 32,
    "powerSampling.blockSize": 16,
    "powerSampling.mcmcSteps": 2,
    "powerSampling.samples": 3
};

describe("Power Sampling in VS Code", function () {
    this.timeout(300_000);
    let vsc: VSCodeE2E;

    before(async () => {
        await promisify(execFile)("npm", ["run", "package"], {cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024});
        vsc = await VSCodeE2E.start({
            name: "extension",
            vsix: [VSIX],
            settings: QUICK,
            files: {"story.md": "Once upon a time\n", "add.py": "def add(a, b):\n    "},
            timeoutMs: 60_000
        });
    });
    after(() => vsc?.stop());

    it("explores alternatives of the selection in the panel, and inserts one into the editor", async () => {
        await vsc.openFile("story.md");
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Explore Alternative Solutions");
        const frame = await vsc.webviewFrame({contains: "Done"});
        await frame.locator("#answer").waitFor({timeout: 60_000});
        assert.equal(await frame.locator("#primary .alternative").count(), 3);
        assert.equal((await frame.locator("#status").innerText()).trim(), "Done");
        await vsc.screenshot("extension-explore");
        const before = await vsc.editorText();
        await frame.locator('#primary .alternative[data-index="0"] button[data-action="insert"]').click();
        const after = await vsc.waitForEditorText((text) => text !== before && text.length > before.length);
        assert.ok(after.startsWith("Once upon a time"), after);
        await vsc.screenshot("extension-inserted");
    });

    it("restores the answer and alternatives when the panel's webview reloads", async () => {
        const old = await vsc.webviewFrame({contains: "Done"});
        const marker = await old.locator("#answer").innerText();
        await old.evaluate(() => { (window as {beforeReload?: boolean}).beforeReload = true; });
        await vsc.runCommand("Developer: Reload Webviews");
        // A new document: the old one's marker is gone, and the view comes back from setState.
        const frame = await vsc.poll("the reloaded panel", 30_000, async () => {
            const current = await vsc.webviewFrame({contains: "Done"});
            return await current.evaluate(() => (window as {beforeReload?: boolean}).beforeReload !== true).catch(() => false) ? current : undefined;
        });
        await frame.locator("#answer").waitFor({timeout: 30_000});
        assert.equal(await frame.locator("#answer").innerText(), marker);
        assert.equal(await frame.locator("#primary .alternative").count(), 3);
    });

    it("is usable from the keyboard: Tab reaches an alternative's Insert, Enter inserts it", async () => {
        const insert = '#primary .alternative[data-index="1"] button[data-action="insert"]';
        const frame = await vsc.webviewFrame({contains: "Done"});
        await frame.locator("#status").click();
        const focused = async () => frame.evaluate((selector) => document.activeElement?.matches(selector) ?? false, insert);
        let presses = 0;
        while (!(await focused())) {
            assert.ok(++presses <= 60, "Tab never reached the Insert button of the second alternative");
            await vsc.page.keyboard.press("Tab");
        }
        const before = await vsc.editorText();
        await vsc.page.keyboard.press("Enter");
        await vsc.waitForEditorText((text) => text !== before && text.length > before.length);
        await vsc.screenshot("extension-keyboard");
    });

    it("stops a long run from the panel's Stop button", async () => {
        await vsc.configure({"powerSampling.maxTokens": 1500, "powerSampling.blockSize": 64, "powerSampling.mcmcSteps": 400});
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Running"});
        await frame.locator("#stop").click({timeout: 60_000});
        await vsc.poll("the panel to say Stopped", 10_000, async () => (await frame.locator("#status").innerText()).trim() === "Stopped");
        await vsc.screenshot("extension-stopped");
        await vsc.configure(QUICK);
    });

    it("shows a clear error in the panel and a notification for a bad model path", async () => {
        await vsc.configure({"powerSampling.model": "/nonexistent/model.gguf"});
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Error"});
        const message = await frame.locator("#error").innerText();
        assert.match(message, /not found.*\/nonexistent\/model\.gguf/);
        await vsc.waitForNotification(/model file not found/);
        await vsc.screenshot("extension-bad-model");
        await vsc.configure(QUICK);
    });

    it("suggests code at the cursor as an inline suggestion", async () => {
        await vsc.openFile("add.py", {viewColumn: 1});
        await vsc.select({line: 2, column: 5});
        await vsc.runCommand("Power Sampling: Suggest Code with Power Sampling");
        const ghost = vsc.page.locator(".monaco-editor .ghost-text-decoration, .monaco-editor .ghost-text");
        await vsc.poll("an inline suggestion (ghost text) in the editor", 60_000,
            async () => (await ghost.allInnerTexts()).join("").trim().length > 0);
        await vsc.screenshot("extension-suggest");
    });

    it("downloads a model by URL, then Select Model picks it from Recent and it runs from the cache offline", async () => {
        const server = new ModelServer(readFileSync(sharedModel("stories260K.gguf")));
        await server.start();
        const cache = mkdtempSync(path.join(tmpdir(), "power-sampling-e2e-cache-"));
        const url = server.url(MODEL_PATH);
        try {
            await vsc.configure({"powerSampling.modelCacheFolder": cache});
            await vsc.runCommand("Power Sampling: Download Model...");
            const input = vsc.page.locator(".quick-input-widget input").first();
            await input.fill(url);
            await input.press("Enter");
            await vsc.waitForNotification(/stories260K is ready/, 60_000);
            assert.equal(server.requests.get(MODEL_PATH) !== undefined, true, "the download went to the local server");
            assert.ok(readdirSync(cache).some((name) => name.endsWith(".gguf")), `cache folder holds: ${readdirSync(cache).join(", ")}`);
        } finally {
            await server.stop();
        }

        // Offline now: picking the URL from Recent must resolve from the cache folder.
        await vsc.configure({"powerSampling.model": sharedModel("stories260K.gguf")});
        await vsc.runCommand("Power Sampling: Select Model...");
        await vsc.page.locator(".quick-input-widget .monaco-list-row", {hasText: url}).first().click();
        const userSettings = path.join(vsc.userDataDir, "User", "settings.json");
        await vsc.poll("powerSampling.model to be the URL in the user settings", 10_000,
            async () => JSON.parse(readFileSync(userSettings, "utf8"))["powerSampling.model"] === url);
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Done", timeoutMs: 60_000});
        assert.equal(await frame.locator("#error").count(), 0);
        await vsc.screenshot("extension-downloaded-model");
        await vsc.configure(QUICK);
    });
});
