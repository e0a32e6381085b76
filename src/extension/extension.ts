/** Power Sampling for VS Code: wires the services together; the commands live in commands.ts. */
import * as vscode from "vscode";
import {BackendClient} from "./backend-client.js";
import {registerCommands} from "./commands.js";
import {InlineSuggestions} from "./inline.js";
import {PanelHost} from "./panel-host.js";
import {StatusBar} from "./status-bar.js";

let backend: BackendClient | undefined;

export function activate(context: vscode.ExtensionContext): void {
    const log = vscode.window.createOutputChannel("Power Sampling", {log: true});
    backend = new BackendClient(context, log);
    const statusBar = new StatusBar();
    const inline = new InlineSuggestions();
    const panel = new PanelHost(context);
    context.subscriptions.push(log, backend, statusBar, inline, panel, backend.onState((state) => statusBar.update(state)));
    registerCommands(context, {log, backend, statusBar, inline, panel});
}

/** Waits for the backend to stop, so that its engine and model are gone with the extension. */
export async function deactivate(): Promise<void> {
    await backend?.stop();
}
