/** The status bar item: the backend's state at a glance; a click opens the log. */
import * as vscode from "vscode";
import type {ComputeInfo, ProgressNotification} from "../protocol/backend.js";
import type {ClientState} from "./backend-client.js";
import {modelName} from "./names.js";

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem("powerSampling.status", vscode.StatusBarAlignment.Right, 100);
    private state: ClientState = {state: "stopped", error: null};

    constructor() {
        this.item.name = "Power Sampling";
        this.item.command = "powerSampling.showLog";
        this.render();
        this.item.show();
    }

    update(state: ClientState): void {
        this.state = state;
        this.render();
    }

    /** While a job runs: how far it is, and the method's own figure (MH acceptance, SMC effective sample size). */
    progress(progress: ProgressNotification): void {
        const parts = [`${Math.round(100 * progress.fraction)}%`];
        if (progress.power?.acceptanceRate != null) parts.push(`${Math.round(100 * progress.power.acceptanceRate)}% accepted`);
        if (progress.smc?.ess != null) parts.push(`ESS ${progress.smc.ess.toFixed(1)}/${progress.smc.particles}`);
        this.show("$(loading~spin)", parts.join(" · "), `${progress.proposedTokens} tokens drawn`);
    }

    dispose(): void {
        this.item.dispose();
    }

    private render(): void {
        const s = this.state;
        this.item.backgroundColor = undefined;
        switch (s.state) {
            case "stopped": return this.show("$(circle-outline)", "idle", "The backend starts with the first command.");
            case "starting": return this.show("$(sync~spin)", "starting", "Starting the backend process");
            case "downloading": return this.show("$(cloud-download)", `downloading ${percent(s.progress)}`, `Downloading ${s.model}`);
            case "loading": return this.show("$(sync~spin)", `loading ${percent(s.progress)}`, `Loading ${s.model}`);
            case "running": return this.show("$(loading~spin)", "running", `${modelName(s.model)} on ${computeLabel(s.compute)}`);
            case "idle": {
                const name = s.model ? `${modelName(s.model)} · ${computeLabel(s.compute)}` : "ready";
                const tooltip = s.error ? `Last error: ${s.error}` : s.model ? `${s.model}\n${computeDetail(s.compute)}, context ${s.contextSize}` : "No model loaded yet";
                return this.show(s.error ? "$(warning)" : "$(check)", name, tooltip);
            }
            case "crashed":
                this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
                return this.show("$(error)", "error", s.error ?? "The backend failed");
        }
    }

    private show(icon: string, text: string, tooltip: string): void {
        this.item.text = `${icon} Power Sampling: ${text}`;
        this.item.tooltip = `${tooltip}\nClick to show the log.`;
        this.item.accessibilityInformation = {label: `Power Sampling: ${text}`};
    }
}

function percent(progress: number | null): string {
    return progress === null ? "" : `${Math.round(100 * progress)}%`;
}

function computeLabel(compute: ComputeInfo | null): string {
    return !compute || compute.backend === "cpu" ? "CPU" : compute.backend.toUpperCase();
}

/** What runs: the device and layers on a GPU, or the CPU with its threads and why not the GPU. */
function computeDetail(compute: ComputeInfo | null): string {
    if (!compute) return "not loaded";
    return compute.backend === "cpu" ? `${compute.summary}; ${compute.threads} threads` : compute.summary;
}
