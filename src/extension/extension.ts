/**
 * Power Sampling for VS Code: wires the services together; the commands live in commands.ts.
 * Activated at startup, so that the status bar says from the start whether a model is chosen,
 * and the first run's panel appears at once.
 */
import * as vscode from "vscode";
import {BackendClient} from "./backend-client.js";
import {registerCommands} from "./commands.js";
import {Edits} from "./edits.js";
import {History} from "./history.js";
import {InlineSuggestions} from "./inline.js";
import {PanelHost} from "./panel-host.js";
import {RateBook} from "./rates.js";
import {StatusBar} from "./status-bar.js";

const WALKTHROUGH = "power-sampling.power-sampling#powerSampling.start";
const WALKTHROUGH_SHOWN_KEY = "powerSampling.walkthroughShown";

let backend: BackendClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const log = vscode.window.createOutputChannel("Power Sampling", {log: true});
    backend = new BackendClient(context, log);
    const model = (vscode.workspace.getConfiguration("powerSampling").get<string>("model") ?? "").trim();
    const statusBar = new StatusBar(model);
    const inline = new InlineSuggestions();
    const edits = new Edits();
    const panel = new PanelHost(context, new History(context.workspaceState), edits);
    context.subscriptions.push(log, backend, statusBar, inline, edits, panel, backend.onState((state) => statusBar.update(state)));
    registerCommands(context, {log, backend, statusBar, inline, panel, rates: new RateBook(context.globalState)});
    log.info(`Power Sampling ${context.extension.packageJSON.version as string} active; model: ${model || "none chosen yet"}`);
    // A new user meets the walkthrough once: choose a model, select a problem, solve.
    if (!context.globalState.get<boolean>(WALKTHROUGH_SHOWN_KEY) && !model) {
        void context.globalState.update(WALKTHROUGH_SHOWN_KEY, true);
        void vscode.commands.executeCommand("workbench.action.openWalkthrough", WALKTHROUGH, false);
    }
}

/** Waits for the backend to stop, so that its engine and model are gone with the extension. */
export async function deactivate(): Promise<void> {
    await backend?.stop();
}
