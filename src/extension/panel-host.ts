/**
 * The Power Sampling panel on the host side: creates the webview (strict CSP with a nonce, local
 * resources only), streams runs into it and carries out what the user asks of an alternative.
 */
import {randomBytes} from "node:crypto";
import * as vscode from "vscode";
import type {ProgressNotification} from "../protocol/backend.js";
import type {Method} from "../protocol/params.js";
import type {SolvedSample, SolveResult} from "../protocol/results.js";
import type {AlternativeAction, FromPanel, RunInfo, ToPanel} from "../protocol/panel.js";

export const PANEL_VIEW_TYPE = "powerSampling.panel";
const DIFF_SCHEME = "power-sampling-diff";
const RUNS_KEY = "powerSampling.panelRuns";

/** Where a run's text came from, so insert/replace/diff act on the right place. */
export interface EditTarget {
    readonly uri: string;
    readonly range: {readonly start: [number, number]; readonly end: [number, number]} | null;
    readonly selectionText: string;
}

interface StoredRun {
    readonly info: RunInfo;
    readonly target: EditTarget | null;
    result?: SolveResult;
}

export type ExecuteRun = (token: vscode.CancellationToken, onProgress: (progress: ProgressNotification) => void) => Promise<SolveResult>;

export type RerunHandler = (problem: {readonly info: RunInfo; readonly target: EditTarget | null}, method: Method) => void;

export class PanelHost implements vscode.Disposable {
    private panel?: vscode.WebviewPanel;
    private ready = false;
    private queued: ToPanel[] = [];
    private readonly runs = new Map<string, StoredRun>();
    private readonly cancels = new Map<string, vscode.CancellationTokenSource>();
    private readonly diffContents = new Map<string, string>();
    private readonly disposables: vscode.Disposable[] = [];
    /** The problem shown in the panel, re-run by the compare buttons. */
    private lastProblem?: {readonly info: RunInfo; readonly target: EditTarget | null};
    private rerun: RerunHandler = () => {};

    constructor(private readonly context: vscode.ExtensionContext) {
        for (const run of context.workspaceState.get<StoredRun[]>(RUNS_KEY, [])) this.runs.set(run.info.runId, run);
        this.disposables.push(
            vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, {provideTextDocumentContent: (uri) => this.diffContents.get(uri.path) ?? ""}),
            vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
                // VS Code reloaded the panel: the page restores its own view from its saved state.
                deserializeWebviewPanel: async (panel) => this.adopt(panel)
            })
        );
    }

    /** Cancels every run still going (the Stop command). Returns whether anything was running. */
    stopAll(): boolean {
        for (const source of this.cancels.values()) source.cancel();
        return this.cancels.size > 0;
    }

    get running(): boolean {
        return this.cancels.size > 0;
    }

    /** What the panel's compare buttons do: run the shown problem with another method. */
    onRerun(handler: RerunHandler): void {
        this.rerun = handler;
    }

    /** Opens the panel at once and streams the run into it; a comparison runs beside the shown problem. */
    async startRun(info: RunInfo, target: EditTarget | null, comparison: boolean, execute: ExecuteRun): Promise<SolveResult | undefined> {
        this.reveal();
        if (!comparison || !this.lastProblem) this.lastProblem = {info, target};
        const run: StoredRun = {info, target};
        this.runs.set(info.runId, run);
        this.post({type: "runStarted", run: info});
        const source = new vscode.CancellationTokenSource();
        this.cancels.set(info.runId, source);
        try {
            run.result = await execute(source.token, (progress) => this.post({type: "progress", runId: info.runId, progress}));
            this.post({type: "result", runId: info.runId, result: run.result});
            await this.persist();
            return run.result;
        } catch (error) {
            if (source.token.isCancellationRequested) this.post({type: "cancelled", runId: info.runId});
            else this.post({type: "failed", runId: info.runId, message: error instanceof Error ? error.message : String(error)});
            throw error;
        } finally {
            this.cancels.delete(info.runId);
            source.dispose();
        }
    }

    dispose(): void {
        this.stopAll();
        this.panel?.dispose();
        for (const d of this.disposables) d.dispose();
    }

    private reveal(): void {
        if (this.panel) {
            this.panel.reveal(undefined, true);
            return;
        }
        const panel = vscode.window.createWebviewPanel(PANEL_VIEW_TYPE, "Power Sampling", {viewColumn: vscode.ViewColumn.Beside, preserveFocus: true},
            {...this.webviewOptions(), retainContextWhenHidden: true});
        this.adopt(panel);
    }

    private adopt(panel: vscode.WebviewPanel): void {
        this.panel = panel;
        this.ready = false;
        panel.iconPath = vscode.Uri.joinPath(this.context.extensionUri, "media", "icon.svg");
        panel.webview.options = this.webviewOptions();
        panel.webview.html = this.html(panel.webview);
        panel.webview.onDidReceiveMessage((message: FromPanel) => this.receive(message), undefined, this.disposables);
        panel.onDidDispose(() => {
            if (this.panel === panel) this.panel = undefined;
            this.stopAll();
        }, undefined, this.disposables);
    }

    /** Scripts on, and only the panel's own assets loadable. */
    private webviewOptions(): vscode.WebviewOptions {
        const root = this.context.extensionUri;
        return {enableScripts: true, localResourceRoots: [vscode.Uri.joinPath(root, "dist", "webview"), vscode.Uri.joinPath(root, "media")]};
    }

    private post(message: ToPanel): void {
        if (this.panel && this.ready) void this.panel.webview.postMessage(message);
        else this.queued.push(message);
    }

    private receive(message: FromPanel): void {
        switch (message.type) {
            case "ready":
                this.ready = true;
                for (const queued of this.queued.splice(0)) void this.panel?.webview.postMessage(queued);
                return;
            case "stop":
                this.cancels.get(message.runId)?.cancel();
                return;
            case "rerun":
                if (this.lastProblem) this.rerun(this.lastProblem, message.method);
                return;
            case "action":
                void this.act(message.action, message.runId, message.index).catch((error: unknown) =>
                    vscode.window.showErrorMessage(`Power Sampling: ${error instanceof Error ? error.message : String(error)}`));
        }
    }

    private async act(action: AlternativeAction, runId: string, index: number): Promise<void> {
        const run = this.runs.get(runId);
        const alternative = run?.result?.samples[index];
        if (!run || !alternative) throw new Error("that result is no longer available; run the command again");
        const text = insertedText(alternative, run.info.mode);
        switch (action) {
            case "copy":
                await vscode.env.clipboard.writeText(text);
                void vscode.window.setStatusBarMessage("Power Sampling: copied", 2000);
                return;
            case "insert": {
                const editor = await this.targetEditor(run.target);
                await editor.edit((edit) => edit.insert(editor.selection.active, text));
                return;
            }
            case "replace": {
                if (!run.target?.range) throw new Error("there was no selection to replace");
                const editor = await this.targetEditor(run.target);
                const {start, end} = run.target.range;
                await editor.edit((edit) => edit.replace(new vscode.Range(start[0], start[1], end[0], end[1]), text));
                return;
            }
            case "diff": {
                const left = `/${runId}/selection`;
                const right = `/${runId}/alternative-${index + 1}`;
                this.diffContents.set(left, run.target?.selectionText ?? "");
                this.diffContents.set(right, text);
                await vscode.commands.executeCommand("vscode.diff", vscode.Uri.from({scheme: DIFF_SCHEME, path: left}),
                    vscode.Uri.from({scheme: DIFF_SCHEME, path: right}), `Selection ↔ Alternative ${index + 1}`);
            }
        }
    }

    private async targetEditor(target: EditTarget | null): Promise<vscode.TextEditor> {
        if (target) {
            const visible = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === target.uri);
            if (visible) return visible;
            const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
            return vscode.window.showTextDocument(document, {preserveFocus: false});
        }
        const active = vscode.window.activeTextEditor;
        if (!active) throw new Error("open an editor to insert into");
        return active;
    }

    /** The last runs, so actions still work after VS Code reloads the panel. */
    private async persist(): Promise<void> {
        const recent = [...this.runs.values()].filter((run) => run.result).slice(-8);
        await this.context.workspaceState.update(RUNS_KEY, recent);
    }

    private html(webview: vscode.Webview): string {
        const nonce = randomBytes(16).toString("base64");
        const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...path)).toString();
        // Scripts only with the nonce, styles and fonts only from the extension (the panel sets
        // KaTeX's positions through the style API, not style attributes); nothing remote.
        const csp = [
            "default-src 'none'",
            `font-src ${webview.cspSource}`,
            `style-src ${webview.cspSource}`,
            `script-src 'nonce-${nonce}'`
        ].join("; ");
        return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="UTF-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1.0">
<link rel="stylesheet" href="${asset("dist", "webview", "katex.min.css")}">
<link rel="stylesheet" href="${asset("media", "panel.css")}">
<title>Power Sampling</title>
</head>
<body>
<div id="app" role="main"></div>
<script nonce="${nonce}" src="${asset("dist", "webview", "panel.js")}"></script>
</body>
</html>`;
    }
}

/** Code mode inserts the code answer; other modes the whole text. */
function insertedText(alternative: SolvedSample, mode: RunInfo["mode"]): string {
    return mode === "code" ? (alternative.finalAnswer ?? alternative.text) : alternative.text;
}
