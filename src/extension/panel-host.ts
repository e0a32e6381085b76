/**
 * The Power Sampling panel on the host side: creates the webview (strict CSP with a nonce, local
 * resources only) at once when a command starts, streams runs into it, keeps the workspace's
 * history, and carries out what the user asks of an answer or an alternative.
 */
import {randomBytes} from "node:crypto";
import * as vscode from "vscode";
import type {ProgressNotification} from "../protocol/backend.js";
import type {AlternativeAction, AlternativeRef, FromPanel, PanelChoices, RunInfo, ToPanel} from "../protocol/panel.js";
import type {Method, PromptMode} from "../protocol/params.js";
import type {Preset} from "../protocol/presets.js";
import type {SolveResult} from "../protocol/results.js";
import type {EditTarget, Edits} from "./edits.js";
import type {History} from "./history.js";

export const PANEL_VIEW_TYPE = "powerSampling.panel";

export type ExecuteRun = (token: vscode.CancellationToken, onProgress: (progress: ProgressNotification) => void) => Promise<SolveResult>;

/** The problem the panel shows, for re-runs and follow-ups. */
export interface Problem {
    readonly info: RunInfo;
    readonly target: EditTarget | null;
}

/** What the panel asks the commands to do. */
export interface PanelRequests {
    compare(problem: Problem, method: Method): void;
    runAgain(problem: Problem, choices: {preset: Preset; mode: PromptMode; samples: number}): void;
    followUp(problem: Problem, kind: "thorough" | "explore"): void;
    selectModel(): void;
}

export class PanelHost implements vscode.Disposable {
    private panel?: vscode.WebviewPanel;
    private ready = false;
    private queued: ToPanel[] = [];
    private readonly cancels = new Map<string, vscode.CancellationTokenSource>();
    /** The latest progress of each running run: a stopped run keeps its partial text. */
    private readonly partials = new Map<string, string>();
    private readonly disposables: vscode.Disposable[] = [];
    private problem?: Problem;
    private requests?: PanelRequests;
    private choices?: PanelChoices;

    constructor(private readonly context: vscode.ExtensionContext, private readonly history: History, private readonly edits: Edits) {
        this.disposables.push(vscode.window.registerWebviewPanelSerializer(PANEL_VIEW_TYPE, {
            // VS Code reloaded the panel: the page restores its own view from its saved state.
            deserializeWebviewPanel: async (panel) => this.adopt(panel)
        }));
    }

    onRequests(requests: PanelRequests): void {
        this.requests = requests;
    }

    /** Opens the panel (at once, before any backend work) and shows the header's choices. */
    show(choices: PanelChoices | undefined = this.choices): void {
        if (choices) {
            this.choices = choices;
            this.post({type: "choices", choices});
        }
        this.reveal();
    }

    /** Cancels every run still going (the Stop command). Returns whether anything was running. */
    stopAll(): boolean {
        for (const source of this.cancels.values()) source.cancel();
        return this.cancels.size > 0;
    }

    /**
     * Streams a run into the panel; a comparison runs beside the shown problem. A stopped run is
     * an outcome like any other: it ends with its partial text, and the promise resolves undefined.
     */
    async startRun(info: RunInfo, target: EditTarget | null, comparison: boolean, execute: ExecuteRun): Promise<SolveResult | undefined> {
        this.reveal();
        if (!comparison || !this.problem) this.problem = {info, target};
        this.post({type: "runStarted", run: info});
        const source = new vscode.CancellationTokenSource();
        this.cancels.set(info.runId, source);
        try {
            const result = await execute(source.token, (progress) => {
                this.partials.set(info.runId, progress.texts[0] ?? "");
                this.post({type: "progress", runId: info.runId, progress});
            });
            this.post({type: "result", runId: info.runId, result});
            await this.remember({info, target, status: "done", result, partial: null, finishedAt: Date.now()});
            return result;
        } catch (error) {
            if (source.token.isCancellationRequested) {
                this.post({type: "cancelled", runId: info.runId});
                await this.remember({info, target, status: "stopped", result: null, partial: this.partials.get(info.runId) ?? null, finishedAt: Date.now()});
                return undefined;
            }
            this.post({type: "failed", runId: info.runId, message: error instanceof Error ? error.message : String(error)});
            await this.remember({info, target, status: "error", result: null, partial: null, finishedAt: Date.now()});
            throw error;
        } finally {
            this.cancels.delete(info.runId);
            this.partials.delete(info.runId);
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
        const problem = this.problem;
        switch (message.type) {
            case "ready":
                this.ready = true;
                if (this.choices) this.queued.unshift({type: "choices", choices: this.choices});
                this.queued.unshift({type: "history", entries: this.history.entries()});
                for (const queued of this.queued.splice(0)) void this.panel?.webview.postMessage(queued);
                return;
            case "stop":
                this.cancels.get(message.runId)?.cancel();
                return;
            case "compare":
                if (problem) this.requests?.compare(problem, message.method);
                return;
            case "runAgain":
                if (problem) this.requests?.runAgain(problem, message);
                return;
            case "followUp": {
                const stored = this.history.get(message.runId);
                const from = stored ? {info: stored.info, target: stored.target} : problem;
                if (from) this.requests?.followUp(from, message.kind);
                return;
            }
            case "selectModel":
                this.requests?.selectModel();
                return;
            case "reopen":
                return this.reopen(message.runId);
            case "action":
                void this.act(message.action, message.runId, message.target, message.text).catch((error: unknown) =>
                    vscode.window.showErrorMessage(`Power Sampling: ${error instanceof Error ? error.message : String(error)}`));
        }
    }

    private reopen(runId: string): void {
        const stored = this.history.get(runId);
        if (!stored) return void vscode.window.showWarningMessage("Power Sampling: that run is no longer in the history.");
        this.problem = {info: stored.info, target: stored.target};
        this.post({type: "reopened", run: stored.info, result: stored.result, status: stored.status, partial: stored.partial});
    }

    private async act(action: AlternativeAction, runId: string, ref: AlternativeRef, partialText: string | undefined): Promise<void> {
        const stored = this.history.get(runId);
        if (!stored) throw new Error("that result is no longer available; run the command again");
        const chosen = ref.kind === "partial" ? {text: partialText ?? stored.partial ?? "", finalAnswer: null} : pick(stored.result, ref);
        if (!chosen) throw new Error("that alternative is not in the result");
        // In code mode the answer is the code; elsewhere the whole text (the reasoning with its answer).
        const text = stored.result?.params.mode === "code" ? chosen.finalAnswer ?? chosen.text : chosen.text;
        const name = ref.kind === "sample" ? `Alternative ${ref.index + 1}` : ref.kind === "particle" ? `Particle ${ref.index + 1}` : "Partial text";
        switch (action) {
            case "copy": return this.edits.copy(text);
            case "insert": return this.edits.insert(stored.target, text);
            case "replace": return this.edits.replace(stored.target, text);
            case "diff": return this.edits.diff(stored.target, text, name, runId);
        }
    }

    private async remember(run: Parameters<History["add"]>[0]): Promise<void> {
        await this.history.add(run);
        this.post({type: "history", entries: this.history.entries()});
    }

    private html(webview: vscode.Webview): string {
        const nonce = randomBytes(16).toString("base64");
        const asset = (...path: string[]) => webview.asWebviewUri(vscode.Uri.joinPath(this.context.extensionUri, ...path)).toString();
        // Scripts only with the nonce, styles and fonts only from the extension (the panel sets
        // KaTeX's positions through the style API, not style attributes); nothing remote. The page
        // shows its header before the script has loaded: the panel is there as the command runs.
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
<div id="app" role="main"><header class="panel-header"><div class="title-row"><h1>Power Sampling</h1></div></header><p class="empty">Starting…</p></div>
<script nonce="${nonce}" src="${asset("dist", "webview", "panel.js")}" defer></script>
</body>
</html>`;
    }
}

/** The text an alternative reference names in a result. */
function pick(result: SolveResult | null, ref: Exclude<AlternativeRef, {kind: "partial"}>): {text: string; finalAnswer: string | null} | undefined {
    if (!result) return undefined;
    if (ref.kind === "sample") return result.samples[ref.index];
    return result.smc?.[ref.run]?.particles[ref.index];
}
