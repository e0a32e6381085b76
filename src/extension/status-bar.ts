/** The status bar item, from activation: what status-view.ts says, and a click that acts on it. */
import * as vscode from "vscode";
import type {ProgressNotification} from "../protocol/backend.js";
import type {ClientState} from "./backend-client.js";
import {type ConfiguredEngine, statusView} from "./status-view.js";

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem("powerSampling.status", vscode.StatusBarAlignment.Right, 100);
    private state: ClientState = {state: "stopped", error: null};
    /** A run's progress, shown until the run ends. */
    private running: ProgressNotification | null = null;

    constructor(private configured: ConfiguredEngine) {
        this.item.name = "Power Sampling";
        this.render();
        this.item.show();
    }

    update(state: ClientState): void {
        this.state = state;
        this.render();
    }

    /** The model or server setting changed. */
    configure(configured: ConfiguredEngine): void {
        this.configured = configured;
        this.render();
    }

    /** While a job runs: how far it is, and the method's own figure (MH acceptance, SMC effective sample size). */
    progress(progress: ProgressNotification): void {
        this.running = progress;
        this.render();
    }

    /** The run ended, however it ended. */
    done(): void {
        this.running = null;
        this.render();
    }

    dispose(): void {
        this.item.dispose();
    }

    private render(): void {
        const view = statusView(this.state, this.running, this.configured);
        this.item.backgroundColor = view.error ? new vscode.ThemeColor("statusBarItem.errorBackground") : undefined;
        this.item.command = view.command;
        this.item.text = `${view.icon} Power Sampling: ${view.text}`;
        this.item.tooltip = `${view.tooltip}\nClick: ${view.action}.`;
        this.item.accessibilityInformation = {label: `Power Sampling: ${view.text}`};
    }
}
