/**
 * The commands: Solve, Explore, Suggest Code, model selection and download, GPU support, Stop,
 * Show Log, and what the panel asks for (compare, run again, follow-ups). Each run is told in
 * the log: its parameters, its progress in quarters, its figures, or its error with the cause.
 */
import {randomUUID} from "node:crypto";
import * as vscode from "vscode";
import type {SolveRequest} from "../protocol/backend.js";
import {estimate} from "../protocol/cost.js";
import type {PanelChoices, RunInfo} from "../protocol/panel.js";
import {type Method, type PromptMode, resolveParams, type SamplingParams} from "../protocol/params.js";
import {applyPreset, type Preset, PRESETS} from "../protocol/presets.js";
import type {SolveResult} from "../protocol/results.js";
import {type BackendClient, BackendRequestError} from "./backend-client.js";
import type {EditTarget} from "./edits.js";
import {codePrefix, type InlineSuggestions} from "./inline.js";
import {askRemoteReference, rememberModel, selectModel, setModel} from "./model-commands.js";
import {engineName, modelName} from "./names.js";
import type {PanelHost, Problem} from "./panel-host.js";
import type {RateBook} from "./rates.js";
import {apiKeyProblem, setServerApiKey} from "./server-key.js";
import {engineKey, parseSettings, type Settings, SettingsError} from "./settings.js";
import type {StatusBar} from "./status-bar.js";
import {cutCodeSuggestion} from "./suggestions.js";
import {installGpuSupportCommand} from "./gpu-command.js";
import {openEvaluationReportCommand} from "./report-command.js";

export interface Services {
    readonly log: vscode.LogOutputChannel;
    readonly backend: BackendClient;
    readonly statusBar: StatusBar;
    readonly inline: InlineSuggestions;
    readonly panel: PanelHost;
    readonly rates: RateBook;
}

/** Settings that shape the backend process itself: changing one restarts it. */
const PROCESS_SETTINGS = ["threads", "gpu", "contextSize", "modelCacheFolder", "server", "serverAllowPlainHttp"];
/** Suggestions are for the cursor, now: Power-SMC with few particles and a short limit. */
const SUGGESTION_PARAMS: Partial<SamplingParams> = {method: "smc", particles: 8, maxTokens: 128};

export function registerCommands(context: vscode.ExtensionContext, services: Services): void {
    const {log, backend, statusBar, inline, panel, rates} = services;

    /** Valid settings, or undefined after telling the user which one is wrong. */
    const validSettings = async (): Promise<Settings | undefined> => {
        try {
            return readSettings();
        } catch (error) {
            if (!(error instanceof SettingsError)) throw error;
            const choice = await vscode.window.showErrorMessage(`Power Sampling: ${error.message}`, "Open Settings");
            if (choice) void vscode.commands.executeCommand("workbench.action.openSettings", "powerSampling");
            return undefined;
        }
    };

    /** Settings with a model or server to run on, or undefined after telling the user what is missing. */
    const settingsOrExplain = async (): Promise<Settings | undefined> => {
        const settings = await validSettings();
        if (!settings) return undefined;
        if (settings.model || settings.server) return settings;
        const choice = await vscode.window.showWarningMessage("Power Sampling: no model selected. Choose a local GGUF file or download one.", "Select Model...", "Download Model...");
        if (choice === "Select Model...") await vscode.commands.executeCommand("powerSampling.selectModel");
        if (choice === "Download Model...") await vscode.commands.executeCommand("powerSampling.downloadModel");
        const retried = readSettings();
        return retried.model ? retried : undefined;
    };

    /** The header's choices, with each preset's estimate at the rate measured for this model. */
    const choicesFor = (settings: Settings, samples: number, mode: PromptMode = settings.promptMode, preset: Preset = settings.preset): PanelChoices => {
        const presetEstimates = Object.fromEntries(PRESETS.map((name) => {
            const params = {...applyPreset(name, settings.customParams), samples};
            return [name, estimate(params, rates.rate(engineKey(settings), params))];
        })) as PanelChoices["presetEstimates"];
        return {modelName: engineName(settings, backend.serverModel), preset, mode, samples, presetEstimates};
    };

    /** One run into the panel; a stopped run is a normal end. Errors show in the panel and as a notification. */
    const runInPanel = async (settings: Settings, problem: Problem, comparison: boolean,
        choice: {preset: Preset; mode: PromptMode; samples: number; method?: Method}): Promise<void> => {
        const params = resolveParams({...applyPreset(choice.preset, settings.customParams), samples: choice.samples, ...(choice.method ? {method: choice.method} : {})});
        const info: RunInfo = {
            ...problem.info, runId: randomUUID(), method: params.method, preset: choice.preset, mode: choice.mode, samples: params.samples,
            modelName: engineName(settings, backend.serverModel), estimate: estimate(params, rates.rate(engineKey(settings), params)), startedAt: Date.now()
        };
        if (!comparison) panel.show(choicesFor(settings, choice.samples, choice.mode, choice.preset));
        const request: SolveRequest & {jobId: string} = {
            jobId: info.runId, prompt: info.prompt, model: modelOf(settings), mode: info.mode, languageId: problem.target?.languageId, params
        };
        const story = new RunStory(log, info, params);
        try {
            const result = await panel.startRun(info, problem.target, comparison, (token, onProgress) => backend.solve(request, token,
                (progress) => { onProgress(progress); statusBar.progress(progress); story.progress(progress.fraction); }, settings));
            statusBar.done();
            if (!result) return story.stopped();
            story.finished(result);
            await rates.record(engineKey(settings), result);
            if (!settings.server) await rememberModel(context, settings.model);
        } catch (error) {
            statusBar.done();
            if (error instanceof BackendRequestError && error.cancelled) return story.stopped();
            const message = error instanceof Error ? error.message : String(error);
            story.failed(message);
            void vscode.window.showErrorMessage(`Power Sampling: ${message}`, "Show Log").then((picked) => { if (picked) log.show(); });
        }
    };

    panel.onRequests({
        compare: async (problem, method) => {
            const settings = await settingsOrExplain();
            if (settings) await runInPanel(settings, problem, true, {preset: problem.info.preset, mode: problem.info.mode, samples: problem.info.samples, method});
        },
        runAgain: async (problem, choices) => {
            const settings = await settingsOrExplain();
            if (settings) await runInPanel(settings, problem, false, choices);
        },
        followUp: async (problem, kind) => {
            const settings = await settingsOrExplain();
            if (!settings) return;
            const samples = kind === "explore" ? Math.max(settings.params.samples, 4) : problem.info.samples;
            await runInPanel(settings, problem, false, {preset: kind === "thorough" ? "thorough" : problem.info.preset, mode: problem.info.mode, samples});
        },
        selectModel: () => void vscode.commands.executeCommand("powerSampling.selectModel")
    });

    /** Solve and Explore: the selection (or an input box) into the panel, which opens at once. */
    const solveCommand = (samplesOf: (settings: Settings) => number) => async () => {
        const editor = vscode.window.activeTextEditor;
        const selection = editor && !editor.selection.isEmpty ? editor.document.getText(editor.selection) : "";
        const prompt = selection || await vscode.window.showInputBox({title: "Power Sampling", prompt: "The problem to solve", ignoreFocusOut: true});
        if (!prompt) return;
        panel.show();
        const settings = await settingsOrExplain();
        if (!settings) return;
        const target: EditTarget | null = editor ? {
            uri: editor.document.uri.toString(),
            range: selection ? {start: [editor.selection.start.line, editor.selection.start.character], end: [editor.selection.end.line, editor.selection.end.character]} : null,
            selectionText: selection,
            languageId: editor.document.languageId,
            viewColumn: editor.viewColumn ?? null
        } : null;
        const samples = samplesOf(settings);
        const info: RunInfo = {
            runId: "", method: settings.params.method, preset: settings.preset, modelName: "", mode: settings.promptMode, samples, prompt,
            selectionLines: selection ? selection.replace(/\r?\n$/, "").split(/\r?\n/).length : 0, estimate: {tokens: 0, ms: null}, startedAt: 0
        };
        await runInPanel(settings, {info, target}, false, {preset: settings.preset, mode: settings.promptMode, samples});
    };

    const suggestCode = async () => {
        const editor = vscode.window.activeTextEditor;
        if (!editor) return void vscode.window.showInformationMessage("Power Sampling: open a file and place the cursor where code should go.");
        const settings = await settingsOrExplain();
        if (!settings) return;
        const position = editor.selection.active;
        const prompt = codePrefix(editor.document, position);
        const params = resolveParams({...settings.customParams, ...SUGGESTION_PARAMS, alpha: settings.params.alpha, samples: Math.min(settings.params.samples, 4)});
        const request: SolveRequest & {jobId: string} = {jobId: randomUUID(), prompt, model: modelOf(settings), mode: "code", languageId: editor.document.languageId, params};
        const story = new RunStory(log, {prompt, method: params.method, preset: "custom"}, params);
        const indicator = inline.working(editor, position);
        const source = new vscode.CancellationTokenSource();
        const stop = vscode.window.onDidChangeTextEditorSelection((event) => { if (event.textEditor === editor && !event.selections[0]?.active.isEqual(position)) source.cancel(); });
        try {
            const result = await backend.solve(request, source.token, (p) => { statusBar.progress(p); indicator.update(p.fraction); story.progress(p.fraction); }, settings);
            story.finished(result);
            const indent = editor.document.lineAt(position.line).text.slice(0, position.character).replace(/\S.*$/, "").length;
            await inline.offer(editor, position, distinctSuggestions(result, indent));
        } catch (error) {
            if (error instanceof BackendRequestError && error.cancelled) return story.stopped();
            const message = error instanceof Error ? error.message : String(error);
            story.failed(message);
            void vscode.window.showErrorMessage(`Power Sampling: ${message}`);
        } finally {
            indicator.dispose();
            stop.dispose();
            source.dispose();
            statusBar.done();
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
        if (settings.server)
            return void vscode.window.showInformationMessage(`Power Sampling runs on the server at ${settings.server}, which holds its own model: clear powerSampling.server to download and run a local model.`);
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
            log.info(`model ready: ${reference}`);
            void vscode.window.showInformationMessage(`Power Sampling: ${modelName(reference)} is ready.`);
        } catch (error) {
            if (error instanceof BackendRequestError && error.cancelled) return void vscode.window.showInformationMessage("Power Sampling: download cancelled.");
            log.error(`download of ${reference} failed: ${error instanceof Error ? error.message : String(error)}`);
            void vscode.window.showErrorMessage(`Power Sampling: ${error instanceof Error ? error.message : String(error)}`);
        }
    };

    context.subscriptions.push(
        vscode.commands.registerCommand("powerSampling.solve", solveCommand(() => 1)),
        vscode.commands.registerCommand("powerSampling.explore", solveCommand((settings) => settings.params.samples)),
        vscode.commands.registerCommand("powerSampling.suggest", suggestCode),
        vscode.commands.registerCommand("powerSampling.selectModel", () => selectModel(context)),
        vscode.commands.registerCommand("powerSampling.downloadModel", downloadModel),
        vscode.commands.registerCommand("powerSampling.installGpuSupport", async () => {
            const settings = await validSettings();
            if (settings) await installGpuSupportCommand(backend, log, settings);
        }),
        vscode.commands.registerCommand("powerSampling.openSample", openSampleProblem),
        vscode.commands.registerCommand("powerSampling.openEvaluationReport", (target?: vscode.Uri) => openEvaluationReportCommand(target, log)),
        vscode.commands.registerCommand("powerSampling.setServerApiKey", setServerApiKeyCommand),
        vscode.commands.registerCommand("powerSampling.stop", () => {
            if (!panel.stopAll()) void vscode.window.setStatusBarMessage("Power Sampling: nothing is running", 2000);
        }),
        vscode.commands.registerCommand("powerSampling.showLog", () => log.show()),
        vscode.workspace.onDidChangeConfiguration((event) => {
            if (PROCESS_SETTINGS.some((key) => event.affectsConfiguration(`powerSampling.${key}`))) void backend.stop().then(connectToServer);
            if (["model", "server"].some((key) => event.affectsConfiguration(`powerSampling.${key}`))) statusBar.configure(configuredEngine());
        })
    );
    connectToServer();

    /** With a server set, the backend starts now and checks it, so that the status bar names the server's model. */
    function connectToServer(): void {
        let settings: Settings;
        try {
            settings = readSettings();
        } catch {
            return;
        }
        if (settings.server) void backend.connect(settings).catch((error: unknown) => log.error(error instanceof Error ? error.message : String(error)));
    }

    /** Power Sampling: Set Server API Key: into SecretStorage (never a setting); the backend restarts with it. */
    async function setServerApiKeyCommand(): Promise<void> {
        const text = await vscode.window.showInputBox({
            title: "Power Sampling: server API key",
            prompt: "The key llama-server was started with (--api-key). Kept in VS Code's secret storage. Empty removes it.",
            password: true,
            ignoreFocusOut: true,
            validateInput: (value) => apiKeyProblem(value) ?? undefined
        });
        if (text === undefined) return;
        const outcome = await setServerApiKey(context.secrets, text);
        log.info(outcome === "stored" ? "server API key saved in secret storage" : "server API key removed from secret storage");
        await backend.stop();
        connectToServer();
        void vscode.window.showInformationMessage(`Power Sampling: server API key ${outcome === "stored" ? "saved in VS Code's secret storage" : "removed"}.`);
    }
}

/** The settings the status bar names: the model and the server, as set (unchecked). */
export function configuredEngine(): {model: string; server: string} {
    const config = vscode.workspace.getConfiguration("powerSampling");
    return {model: (config.get<string>("model") ?? "").trim(), server: (config.get<string>("server") ?? "").trim()};
}

/** The request's model: none with a server, which holds its own. */
function modelOf(settings: Settings): string | undefined {
    return settings.server ? undefined : settings.model;
}

/** A maths problem in a new editor, selected, for the walkthrough's first solve. */
async function openSampleProblem(): Promise<void> {
    const problem = "What is the sum of the first ten odd numbers?";
    const document = await vscode.workspace.openTextDocument({language: "markdown", content: `${problem}\n`});
    const editor = await vscode.window.showTextDocument(document);
    editor.selection = new vscode.Selection(0, 0, 0, problem.length);
}

/**
 * The log's account of a run: its parameters when it starts, each quarter of its progress, its
 * figures when it ends, or what stopped it.
 */
class RunStory {
    private quarter = 0;
    private readonly started = performance.now();

    constructor(private readonly log: vscode.LogOutputChannel, run: {prompt: string; method: Method; preset: Preset}, params: SamplingParams) {
        const {method, seed, ...rest} = params;
        log.info(`run: ${method} (${run.preset}), seed ${seed}, ${Object.entries(rest).map(([key, value]) => `${key} ${value}`).join(", ")}; prompt ${JSON.stringify(run.prompt.slice(0, 80))}${run.prompt.length > 80 ? "…" : ""}`);
    }

    progress(fraction: number): void {
        const quarter = Math.floor(fraction * 4);
        if (quarter <= this.quarter || quarter >= 4) return;
        this.quarter = quarter;
        this.log.info(`run: ${quarter * 25}% after ${((performance.now() - this.started) / 1000).toFixed(1)} s`);
    }

    finished(result: SolveResult): void {
        const {stats} = result;
        const answer = result.samples[result.answerIndex]?.finalAnswer ?? null;
        const figures = [`${stats.proposedTokens} tokens drawn in ${(stats.wallMs / 1000).toFixed(1)} s`, `mode ${result.params.mode}`];
        if (stats.acceptanceRate !== null) figures.push(`${Math.round(100 * stats.acceptanceRate)}% of ${stats.mcmcSteps} MCMC steps accepted`);
        if (result.method === "smc") figures.push(`${stats.resamplings} resamplings`);
        if (stats.loadMs > 0) figures.push(`model load ${(stats.loadMs / 1000).toFixed(1)} s`);
        this.log.info(`run: done, ${figures.join(", ")}; answer ${answer === null ? "(none)" : JSON.stringify(answer.slice(0, 120))}`);
    }

    stopped(): void {
        this.log.info(`run: stopped after ${((performance.now() - this.started) / 1000).toFixed(1)} s`);
    }

    failed(message: string): void {
        this.log.error(`run: failed: ${message}`);
    }
}

/** Each distinct suggestion once, code only, the chosen answer first. */
function distinctSuggestions(result: SolveResult, indent: number): string[] {
    const ordered = [result.samples[result.answerIndex]!, ...result.samples];
    return [...new Set(ordered.map((sample) => cutCodeSuggestion(sample.text, indent)).filter((text) => text.trim() !== ""))];
}

function readSettings(): Settings {
    const config = vscode.workspace.getConfiguration("powerSampling");
    return parseSettings((key) => config.get(key));
}
