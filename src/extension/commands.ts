/** The commands: Solve, Explore, Suggest Code, model selection and download, Stop, Show Log. */
import {randomUUID} from "node:crypto";
import * as vscode from "vscode";
import type {SolveRequest, SolveResponse} from "../protocol/backend.js";
import type {RunInfo} from "../protocol/panel.js";
import type {Method, PromptMode} from "../protocol/params.js";
import {type BackendClient, BackendRequestError} from "./backend-client.js";
import {codePrefix, type InlineSuggestions} from "./inline.js";
import {askRemoteReference, rememberModel, selectModel, setModel} from "./model-commands.js";
import {modelName} from "./names.js";
import type {EditTarget, PanelHost} from "./panel-host.js";
import {parseSettings, type Settings, SettingsError} from "./settings.js";
import type {StatusBar} from "./status-bar.js";

export interface Services {
    readonly log: vscode.LogOutputChannel;
    readonly backend: BackendClient;
    readonly statusBar: StatusBar;
    readonly inline: InlineSuggestions;
    readonly panel: PanelHost;
}

/** Settings that shape the backend process itself: changing one restarts it. */
const PROCESS_SETTINGS = ["threads", "gpu", "contextSize", "modelCacheFolder"];
/** Suggestions are for the cursor, now: short. */
const SUGGESTION_MAX_TOKENS = 256;

export function registerCommands(context: vscode.ExtensionContext, services: Services): void {
    const {log, backend, statusBar, inline, panel} = services;

    /** Settings, or undefined after telling the user what is wrong. */
    const settingsOrExplain = async (): Promise<Settings | undefined> => {
        let settings: Settings;
        try {
            settings = readSettings();
        } catch (error) {
            if (!(error instanceof SettingsError)) throw error;
            const choice = await vscode.window.showErrorMessage(`Power Sampling: ${error.message}`, "Open Settings");
            if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "powerSampling");
            return undefined;
        }
        if (settings.model) return settings;
        const choice = await vscode.window.showWarningMessage("Power Sampling: no model selected. Choose a local GGUF file or download one.", "Select Model...", "Download Model...");
        if (choice === "Select Model...") await vscode.commands.executeCommand("powerSampling.selectModel");
        if (choice === "Download Model...") await vscode.commands.executeCommand("powerSampling.downloadModel");
        const retried = readSettings();
        return retried.model ? retried : undefined;
    };

    const solveRequest = (settings: Settings, jobId: string, prompt: string, mode: PromptMode, params: Partial<Settings["params"]>): SolveRequest & {jobId: string} =>
        ({jobId, prompt, model: settings.model, mode, params: {...settings.params, ...params}});

    /** Runs a solve into the panel; errors show in the panel and as a notification. */
    const runInPanel = async (settings: Settings, info: RunInfo, target: EditTarget | null, comparison: boolean): Promise<void> => {
        const run: RunInfo = {...info, runId: randomUUID(), modelName: modelName(settings.model)};
        try {
            await panel.startRun(run, target, comparison, (token, onProgress) => backend.solve(
                solveRequest(settings, run.runId, run.prompt, run.mode, {method: run.method, samples: run.samples}), token,
                (progress) => { onProgress(progress); statusBar.progress(progress); }, settings));
            await rememberModel(context, settings.model);
        } catch (error) {
            if (error instanceof BackendRequestError && error.cancelled) return;
            const message = error instanceof Error ? error.message : String(error);
            log.error(message);
            void vscode.window.showErrorMessage(`Power Sampling: ${message}`, "Show Log").then((choice) => { if (choice) log.show(); });
        }
    };

    panel.onRerun(async (problem, method: Method) => {
        const settings = await settingsOrExplain();
        if (settings) await runInPanel(settings, {...problem.info, method}, problem.target, true);
    });

    /** Solve and Explore: the selection (or an input box) into the panel. */
    const solveCommand = (samplesOf: (settings: Settings) => number) => async () => {
        const editor = vscode.window.activeTextEditor;
        const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
        const prompt = selection || await vscode.window.showInputBox({title: "Power Sampling", prompt: "The problem to solve", ignoreFocusOut: true});
        if (!prompt) return;
        const settings = await settingsOrExplain();
        if (!settings) return;
        const target: EditTarget | null = editor ? {
            uri: editor.document.uri.toString(),
            range: selection ? {start: [editor.selection.start.line, editor.selection.start.character], end: [editor.selection.end.line, editor.selection.end.character]} : null,
            selectionText: selection
        } : null;
        await runInPanel(settings, {
            runId: "", method: settings.params.method, modelName: "", mode: settings.promptMode,
            samples: samplesOf(settings), prompt, hasSelection: Boolean(selection)
        }, target, false);
    };

    const suggestCode = async () => {
        const editor = vscode.window.activeTextEditor;
        if (!editor) return void vscode.window.showInformationMessage("Power Sampling: open a file and place the cursor where code should go.");
        const settings = await settingsOrExplain();
        if (!settings) return;
        const position = editor.selection.active;
        const prompt = codePrefix(editor.document, position);
        try {
            const result = await vscode.window.withProgress({location: vscode.ProgressLocation.Notification, title: "Power Sampling: suggesting code", cancellable: true},
                (progress, token) => backend.solve(solveRequest(settings, randomUUID(), prompt, "code", {maxTokens: Math.min(settings.params.maxTokens, SUGGESTION_MAX_TOKENS)}), token,
                    (p) => { statusBar.progress(p); progress.report({message: `${Math.round(100 * p.fraction)} %, ${p.proposedTokens} tokens`}); }, settings));
            await inline.offer(editor, position, distinctCompletions(result));
        } catch (error) {
            if (error instanceof BackendRequestError && error.cancelled) return;
            void vscode.window.showErrorMessage(`Power Sampling: ${error instanceof Error ? error.message : String(error)}`);
        }
    };

    const downloadModel = async () => {
        const reference = await askRemoteReference();
        if (!reference) return;
        let settings: Settings;
        try {
            settings = readSettings();
        } catch (error) {
            return void vscode.window.showErrorMessage(`Power Sampling: ${(error as Error).message}`);
        }
        try {
            await vscode.window.withProgress({location: vscode.ProgressLocation.Notification, title: `Power Sampling: downloading ${modelName(reference)}`, cancellable: true},
                async (progress, token) => {
                    let reported = 0;
                    const listener = backend.onState((state) => {
                        if ((state.state === "downloading" || state.state === "loading") && "progress" in state && state.progress !== null) {
                            const percent = Math.round(100 * state.progress);
                            progress.report({message: `${state.state} ${percent}%`, increment: state.state === "downloading" ? Math.max(0, percent - reported) : undefined});
                            if (state.state === "downloading") reported = percent;
                        }
                    });
                    try {
                        await backend.loadModel(reference, token, {...settings, model: reference});
                    } finally {
                        listener.dispose();
                    }
                });
            await setModel(context, reference);
            void vscode.window.showInformationMessage(`Power Sampling: ${modelName(reference)} is ready.`);
        } catch (error) {
            if (error instanceof BackendRequestError && error.cancelled) return void vscode.window.showInformationMessage("Power Sampling: download cancelled.");
            void vscode.window.showErrorMessage(`Power Sampling: ${error instanceof Error ? error.message : String(error)}`);
        }
    };

    context.subscriptions.push(
        vscode.commands.registerCommand("powerSampling.solve", solveCommand(() => 1)),
        vscode.commands.registerCommand("powerSampling.explore", solveCommand((settings) => settings.params.samples)),
        vscode.commands.registerCommand("powerSampling.suggest", suggestCode),
        vscode.commands.registerCommand("powerSampling.selectModel", () => selectModel(context)),
        vscode.commands.registerCommand("powerSampling.downloadModel", downloadModel),
        vscode.commands.registerCommand("powerSampling.stop", () => {
            if (!panel.stopAll()) void vscode.window.setStatusBarMessage("Power Sampling: nothing is running", 2000);
        }),
        vscode.commands.registerCommand("powerSampling.showLog", () => log.show()),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (PROCESS_SETTINGS.some((key) => event.affectsConfiguration(`powerSampling.${key}`))) void backend.stop();
        })
    );
}

/** Each distinct completion once, in the result's order (the chosen answer first). */
function distinctCompletions(result: SolveResponse): string[] {
    const ordered = [result.samples[result.answerIndex]!, ...result.samples];
    return [...new Set(ordered.map((a) => a.text).filter((text) => text.trim() !== ""))];
}

function readSettings(): Settings {
    const config = vscode.workspace.getConfiguration("powerSampling");
    return parseSettings((key) => config.get(key));
}
