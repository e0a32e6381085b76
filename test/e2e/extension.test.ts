/**
 * Power Sampling in a real VS Code (code-server + Chromium): the packaged VSIX, real models
 * (stories260K, and a Markov-chain model that answers \boxed{42} to anything), the panel as a new
 * user meets it with the default settings (auto prompt mode, Balanced preset), the answer and its
 * actions, the alternatives from the keyboard, a long run's estimate and Stop, a webview and a
 * window reload, the history, a bad model path, inline suggestions, downloading then selecting a
 * model, a llama-server instead of a local model, an evaluation report opened from the explorer, the walkthrough on first start, and
 * screenshots in light, dark and high-contrast themes.
 */
import {strict as assert} from "node:assert";
import {execFile} from "node:child_process";
import {mkdtempSync, readdirSync, readFileSync, writeFileSync} from "node:fs";
import {tmpdir} from "node:os";
import {promisify} from "node:util";
import path from "node:path";
import {parseMarkovSpec, writeMarkovModel} from "../../src/testmodels/markov.js";
import {REPO_ROOT, runCli} from "../support/cli.js";
import {RemoteFixture} from "../support/llama-server.js";
import {MODEL_PATH, ModelServer} from "../support/model-server.js";
import {sharedModel} from "../support/shared.js";
import {VSCodeE2E} from "./harness.js";

const VSIX = path.join(REPO_ROOT, `power-sampling-linux-x64.vsix`);
const STORIES = sharedModel("stories260K.gguf");
/** Stories with small runs: the tests of the panel's workings need no long sampling. */
const QUICK = {
    "powerSampling.model": STORIES,
    "powerSampling.threads": 1,
    "powerSampling.preset": "custom",
    "powerSampling.method": "power",
    "powerSampling.maxTokens": 32,
    "powerSampling.blockSize": 16,
    "powerSampling.mcmcSteps": 2,
    "powerSampling.samples": 3
};
const FRAME = {timeoutMs: 60_000};

describe("Power Sampling in VS Code", function () {
    this.timeout(300_000);
    let vsc: VSCodeE2E;
    let answers: string;

    before(async () => {
        await promisify(execFile)("npm", ["run", "package"], {cwd: REPO_ROOT, maxBuffer: 64 * 1024 * 1024});
        const folder = mkdtempSync(path.join(tmpdir(), "power-sampling-e2e-models-"));
        answers = path.join(folder, "answers-42.gguf");
        // Whatever the prompt ends with (its bytes take the "*" row), the model answers \boxed{42}.
        await writeMarkovModel(parseMarkovSpec({
            tokens: ["The answer is ", "\\boxed{42}"],
            transitions: {"<s>": {"The answer is ": 1}, "*": {"The answer is ": 1}, "The answer is ": {"\\boxed{42}": 1}, "\\boxed{42}": {"</s>": 1}}
        }), answers);
        vsc = await VSCodeE2E.start({
            name: "extension",
            vsix: [VSIX],
            // A new user's settings: only the model and one thread (two cores shared with others here).
            settings: {"powerSampling.model": answers, "powerSampling.threads": 1},
            files: {
                "problem.md": "What is 6 times 7?\n",
                "story.md": "Once upon a time\n",
                "add.py": "def add(a, b):\n    "
            },
            timeoutMs: 60_000
        });
    });
    after(() => vsc?.stop());

    it("with the default settings, a maths problem gets the maths prompt and a boxed answer, first", async () => {
        await vsc.openFile("problem.md");
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const started = performance.now();
        await vsc.webviewFrame({contains: "Power Sampling", timeoutMs: 30_000});
        console.log(`      the panel showed ${Math.round(performance.now() - started)} ms after the command ran`);
        const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
        const answer = frame.locator("#answer");
        assert.equal(await answer.getAttribute("data-answer"), "42");
        assert.match(await frame.locator(".panel-header .meta").innerText(), /Maths prompt mode \(auto\)/);
        assert.equal(await frame.locator("select[data-choice=preset]").inputValue(), "balanced");
        assert.equal(await frame.locator("#how").getAttribute("open"), null, "How it got there starts collapsed");
        await vsc.screenshot("extension-first-answer");
        assert.ok((await vsc.statusBarItems()).some((item) => /Power Sampling: answers-42 · CPU/.test(item)), String(await vsc.statusBarItems()));
    });

    it("Insert puts the answer after the selection and selects it alone; Diff opens beside the panel", async () => {
        const frame = await vsc.webviewFrame({contains: "Done"});
        await frame.locator("#answer [data-action=insert]").click();
        await vsc.waitForEditorText((t) => t.includes("\\boxed{42}"));
        const state = await vsc.editorState();
        assert.equal(state.selections.length, 1);
        assert.match(selectedText(state.text, state.selections[0]!), /^The answer is \\boxed\{42\}$/, "the inserted text, selected alone");
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const again = await vsc.webviewFrame({contains: "Done", ...FRAME});
        await again.locator("#answer [data-action=diff]").click();
        await vsc.poll("a diff editor", 15_000, async () => (await vsc.page.locator(".monaco-diff-editor").count()) > 0);
        assert.ok(await vsc.page.locator("iframe.webview.ready").first().isVisible(), "the panel stays visible beside the diff");
        await vsc.screenshot("extension-diff");
    });

    it("explores alternatives: cards in one list, arrow keys select, the answer above follows, Insert from the keyboard", async () => {
        await vsc.configure(QUICK);
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Explore Alternative Solutions");
        const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
        assert.equal(await frame.locator("#primary .cards .alternative").count(), 3);
        await frame.locator("#status").click();
        const onCard = async () => frame.evaluate(() => document.activeElement?.matches(".alternative") ?? false);
        for (let presses = 0; !(await onCard()); presses++) {
            assert.ok(presses <= 40, "Tab never reached the alternatives");
            await vsc.page.keyboard.press("Tab");
        }
        const before = await frame.locator("#answer").getAttribute("data-ref");
        await vsc.page.keyboard.press("ArrowDown");
        await vsc.poll("the answer to follow the selection", 5000, async () => (await frame.locator("#answer").getAttribute("data-ref")) !== before);
        const onInsert = async () => frame.evaluate(() => document.activeElement?.matches("#answer [data-action=insert]") ?? false);
        for (let presses = 0; !(await onInsert()); presses++) {
            assert.ok(presses <= 20, "Shift+Tab never reached Insert");
            await vsc.page.keyboard.press("Shift+Tab");
        }
        const editorBefore = await vsc.editorText();
        await vsc.page.keyboard.press("Enter");
        await vsc.waitForEditorText((text) => text !== editorBefore && text.length > editorBefore.length);
        await vsc.screenshot("extension-keyboard");
    });

    it("restores the answer and alternatives when the panel's webview reloads", async () => {
        const old = await vsc.webviewFrame({contains: "Done"});
        const marker = await old.locator("#answer").getAttribute("data-ref");
        await old.evaluate(() => { (window as {beforeReload?: boolean}).beforeReload = true; });
        await vsc.runCommand("Developer: Reload Webviews");
        const frame = await vsc.poll("the reloaded panel", 30_000, async () => {
            const current = await vsc.webviewFrame({contains: "Done"});
            return await current.evaluate(() => (window as {beforeReload?: boolean}).beforeReload !== true).catch(() => false) ? current : undefined;
        });
        await frame.locator("#answer").waitFor({timeout: 30_000});
        assert.equal(await frame.locator("#answer").getAttribute("data-ref"), marker);
        assert.equal(await frame.locator("#primary .alternative").count(), 3);
    });

    it("shows the estimate before a long run; Stop leaves a normal state, the partial text with its actions", async () => {
        await vsc.configure({"powerSampling.maxTokens": 1500, "powerSampling.blockSize": 64, "powerSampling.mcmcSteps": 400, "powerSampling.samples": 1});
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Estimated", ...FRAME});
        assert.match(await frame.locator(".estimate").innerText(), /Estimated: about \d+(\.\d)?[kM]? tokens/);
        await vsc.screenshot("extension-estimate");
        await vsc.poll("progress with the time left", 60_000, async () => /Running · \d+ %/.test(await frame.locator("#status").innerText()));
        await frame.locator("#stop").click();
        await vsc.poll("the panel to say Stopped", 15_000, async () => (await frame.locator("#status").innerText()).trim() === "Stopped");
        assert.equal(await frame.locator("#answer").getAttribute("data-ref"), "partial");
        assert.ok(await frame.locator("#answer [data-action=copy]").isEnabled());
        assert.equal(await frame.locator("#error").count(), 0);
        assert.ok(!(await vsc.statusBarItems()).some((item) => /error/i.test(item)), `status bar: ${await vsc.statusBarItems()}`);
        await vsc.screenshot("extension-stopped");
        await vsc.configure(QUICK);
    });

    it("the history reopens an earlier run after a window reload", async () => {
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
        const entries = await frame.locator("#history button[data-reopen]").count();
        assert.ok(entries >= 3, `${entries} runs in the history`);
        await vsc.runCommand("Developer: Reload Window");
        const reloaded = await vsc.webviewFrame({contains: "History", ...FRAME});
        await reloaded.locator("#history summary").click();
        // The first problem of this workspace: the maths one, answered 42.
        await reloaded.locator("#history button[data-reopen]").last().click();
        await vsc.poll("the reopened run", 15_000, async () => (await reloaded.locator("#answer").getAttribute("data-answer").catch(() => null)) === "42");
        await vsc.screenshot("extension-history");
    });

    it("shows a clear error in the panel and a notification for a bad model path", async () => {
        await vsc.configure({"powerSampling.model": "/nonexistent/model.gguf"});
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Error", ...FRAME});
        assert.match(await frame.locator("#error").innerText(), /not found.*\/nonexistent\/model\.gguf/);
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
        const server = new ModelServer(readFileSync(STORIES));
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
            assert.ok(server.requests.get(MODEL_PATH) !== undefined, "the download went to the local server");
            assert.ok(readdirSync(cache).some((name) => name.endsWith(".gguf")), `cache folder holds: ${readdirSync(cache).join(", ")}`);
        } finally {
            await server.stop();
        }
        await vsc.configure({"powerSampling.model": STORIES});
        await vsc.runCommand("Power Sampling: Select Model...");
        await vsc.page.locator(".quick-input-widget .monaco-list-row", {hasText: url}).first().click();
        const userSettings = path.join(vsc.userDataDir, "User", "settings.json");
        await vsc.poll("powerSampling.model to be the URL in the user settings", 10_000,
            async () => JSON.parse(readFileSync(userSettings, "utf8"))["powerSampling.model"] === url);
        await vsc.openFile("story.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Solve with Power Sampling");
        const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
        assert.equal(await frame.locator("#error").count(), 0);
        await vsc.configure(QUICK);
    });

    it("on a llama-server: the status bar names it and its model, Solve runs there, and the status follows the server between runs", async () => {
        const remote = new RemoteFixture();
        await remote.open();
        try {
            const server = await remote.server({model: answers, contextSize: 8192});
            const host = `127.0.0.1:${server.port}`;
            const item = async (pattern: RegExp) => (await vsc.statusBarItems()).find((text) => pattern.test(text));
            await vsc.configure({"powerSampling.server": server.url});
            await vsc.poll("the status bar to name the server's model", 60_000, () => item(new RegExp(`answers-42 · ${host}`)));
            await vsc.openFile("problem.md", {viewColumn: 1});
            await vsc.selectAll();
            await vsc.runCommand("Power Sampling: Solve with Power Sampling");
            const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
            assert.equal(await frame.locator("#answer").getAttribute("data-answer"), "42");
            assert.match(await frame.locator(".panel-header").innerText(), new RegExp(`answers-42 @ ${host}`));
            await vsc.screenshot("extension-remote-answer");
            // The backend looks at the server every 30 s while idle: no run is needed to see it go and come back.
            await server.stop();
            await vsc.poll("the status bar to say the server is unavailable", 60_000, () => item(new RegExp(`${host} unavailable`)));
            await vsc.screenshot("extension-remote-down");
            await server.restart();
            await vsc.poll("the status bar to name the server's model again", 60_000, () => item(new RegExp(`answers-42 · ${host}`)));
        } finally {
            await vsc.configure({"powerSampling.server": ""});
            await remote.close();
        }
    });

    it("opens an evaluation's report from the explorer, drawn in the editor's theme", async () => {
        const dataset = vsc.path("problems.jsonl");
        writeFileSync(dataset, ["six-times-seven", "five-times-eight"].map((id, i) => JSON.stringify({id, prompt: `Problem ${i + 1}.`, answer: i === 0 ? "42" : "40"})).join("\n"));
        const run = await runCli(["eval", "--dataset", dataset, "--model", answers, "--methods", "standard,power", "--samples", "2",
            "--max-tokens", "8", "--block-size", "4", "--mcmc-steps", "1", "--threads", "1", "--seed", "1", "--out", vsc.path("eval-run")]);
        assert.equal(run.code, 0, run.stderr);
        await vsc.executeCommand("workbench.view.explorer");
        await vsc.page.locator(".explorer-folders-view .monaco-list-row", {hasText: "eval-run"}).first().click();
        const summaryRow = vsc.page.locator(".explorer-folders-view .monaco-list-row", {hasText: "summary.json"}).first();
        const menuItem = vsc.page.locator(".context-view .action-item", {hasText: "Open Evaluation Report"}).first();
        // A click on a context menu that is still appearing can be lost (the menu stays open): open it and click until it closes.
        await vsc.poll("the context menu's Open Evaluation Report to be taken", 30_000, async () => {
            if (!(await menuItem.isVisible())) await summaryRow.click({button: "right"});
            await menuItem.click({timeout: 5_000}).catch(() => undefined);
            await vsc.page.waitForTimeout(500);
            return await menuItem.isVisible() ? undefined : true;
        });
        const frame = await vsc.webviewFrame({contains: "Evaluation: ", ...FRAME});
        const text = await frame.evaluate(() => document.body.innerText);
        assert.match(text, /standard/);
        assert.match(text, /power/);
        assert.match(text, /50(\.0)?\s?%/, "each method answers one problem of two right");
        assert.ok(await frame.locator("svg").count() >= 2, "the charts are drawn");
        await vsc.screenshot("extension-evaluation-report");
    });

    it("looks right in light, dark and high-contrast themes", async () => {
        await vsc.configure({"powerSampling.model": answers});
        await vsc.openFile("problem.md", {viewColumn: 1});
        await vsc.selectAll();
        await vsc.runCommand("Power Sampling: Explore Alternative Solutions");
        const frame = await vsc.webviewFrame({contains: "Done", ...FRAME});
        // Open How it got there (a notification toast may cover the panel's corner).
        await frame.locator("#how").evaluate((details) => { (details as HTMLDetailsElement).open = true; });
        for (const [theme, name] of [["Default Light Modern", "light"], ["Default Dark Modern", "dark"], ["Default High Contrast", "high-contrast"]] as const) {
            await vsc.configure({"workbench.colorTheme": theme});
            await vsc.poll(`the ${name} theme`, 10_000, async () => {
                const body = await frame.evaluate(() => document.body.className);
                return name === "light" ? body.includes("vscode-light") : name === "dark" ? body.includes("vscode-dark") : body.includes("vscode-high-contrast");
            });
            await vsc.screenshot(`extension-theme-${name}`);
        }
    });
});

/** The text a selection covers (positions 1-based, as the harness gives them). */
function selectedText(text: string, selection: {anchor: {line: number; column: number}; active: {line: number; column: number}}): string {
    const lines = text.split("\n");
    const offset = ({line, column}: {line: number; column: number}) => lines.slice(0, line - 1).reduce((sum, l) => sum + l.length + 1, 0) + column - 1;
    const [start, end] = [offset(selection.anchor), offset(selection.active)].sort((a, b) => a - b);
    return text.slice(start, end);
}

describe("Power Sampling on first start", function () {
    this.timeout(300_000);
    let vsc: VSCodeE2E;
    after(() => vsc?.stop());

    it("opens the walkthrough, and the status bar offers to select a model", async () => {
        vsc = await VSCodeE2E.start({name: "first-start", vsix: [VSIX], settings: {}, files: {"notes.md": "hello\n"}, timeoutMs: 60_000});
        await vsc.poll("the walkthrough", 60_000, async () => (await vsc.page.getByText("better answers from a local model").count()) > 0);
        await vsc.poll("the status bar item", 30_000, async () => (await vsc.statusBarItems()).some((item) => item.includes("Power Sampling: no model")));
        await vsc.screenshot("first-start-walkthrough");
    });
});
