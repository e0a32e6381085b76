/**
 * The status bar item, from activation: no model chosen (a click selects one), the backend
 * starting, downloading, loading, ready with the model and what it runs on, or running; a click
 * then opens the log. A stopped run is a normal outcome, not an error.
 */
import * as vscode from "vscode";
import type {ComputeInfo, ProgressNotification} from "../protocol/backend.js";
import type {ClientState} from "./backend-client.js";
import {modelName} from "./names.js";

export class StatusBar implements vscode.Disposable {
    private readonly item = vscode.window.createStatusBarItem("powerSampling.status", vscode.StatusBarAlignment.Right, 100);
    private state: ClientState = {state: "stopped", error: null};
    /** A run's progress, shown until the run ends. */
    private running: ProgressNotification | null = null;

    constructor(private model: string) {
        this.item.name = "Power Sampling";
        this.render();
        this.item.show();
    }

    update(state: ClientState): void {
        this.state = state;
        this.render();
    }

    /** The model setting changed. */
    setModel(model: string): void {
        this.model = model;
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
        const s = this.state;
        this.item.backgroundColor = undefined;
        this.item.command = "powerSampling.showLog";
        if (this.running && (s.state === "running" || s.state === "idle")) {
            const p = this.running;
            const parts = [`${Math.round(100 * p.fraction)}%`];
            if (p.power?.acceptanceRate != null) parts.push(`${Math.round(100 * p.power.acceptanceRate)}% accepted`);
            if (p.smc?.ess != null) parts.push(`ESS ${p.smc.ess.toFixed(1)}/${p.smc.particles}`);
            return this.show("$(loading~spin)", parts.join(" · "), `Running: ${p.proposedTokens} tokens drawn`);
        }
        switch (s.state) {
            case "stopped":
                if (!this.model) {
                    this.item.command = "powerSampling.selectModel";
                    return this.show("$(circle-slash)", "no model", "No model chosen yet.\nClick to select or download a GGUF model.", "Select Model...");
                }
                return this.show("$(circle-outline)", modelName(this.model), `${this.model}\nLoads with the first run.`);
            case "starting": return this.show("$(sync~spin)", "starting", "Starting the backend process");
            case "downloading": return this.show("$(cloud-download)", `downloading ${percent(s.progress)}`, `Downloading ${s.model}`);
            case "loading": return this.show("$(sync~spin)", `loading ${percent(s.progress)}`, `Loading ${s.model}`);
            case "running": return this.show("$(loading~spin)", "running", `${modelName(s.model)} on ${computeLabel(s.compute)}`);
            case "idle": {
                const name = s.model ? `${modelName(s.model)} · ${computeLabel(s.compute)}` : modelName(this.model) || "ready";
                const tooltip = s.error ? `Last error: ${s.error}` : s.model ? `${s.model}\n${computeDetail(s.compute)}, context ${s.contextSize}` : "No model loaded yet";
                return this.show(s.error ? "$(warning)" : "$(check)", name, tooltip);
            }
            case "crashed":
                this.item.backgroundColor = new vscode.ThemeColor("statusBarItem.errorBackground");
                return this.show("$(error)", "backend stopped", s.error ?? "The backend stopped; it restarts with the next command");
        }
    }

    private show(icon: string, text: string, tooltip: string, action = "Show the log"): void {
        this.item.text = `${icon} Power Sampling: ${text}`;
        this.item.tooltip = `${tooltip}\nClick: ${action}.`;
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
