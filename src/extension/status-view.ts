/**
 * What the status bar says, from the backend's state, a running job's progress and the settings:
 * no model chosen (a click selects one), the backend starting, downloading, loading, ready with
 * the model and what it runs on, or running; with a server set, the server and its model as the
 * backend last found them. A stopped run is a normal outcome, not an error. No vscode import: it
 * is unit-tested.
 */
import type {ComputeInfo, ProgressNotification, RemoteStatus} from "../protocol/backend.js";
import {formatPercent} from "../protocol/figures.js";
import type {ClientState} from "./backend-client.js";
import {modelName, serverName} from "./names.js";

export interface StatusView {
    /** A codicon, e.g. "$(check)". */
    readonly icon: string;
    readonly text: string;
    readonly tooltip: string;
    /** What a click runs, and says it does. */
    readonly command: "powerSampling.showLog" | "powerSampling.selectModel";
    readonly action: string;
    /** Shown on the error background. */
    readonly error: boolean;
}

/** The settings the status bar names before the backend says anything. */
export interface ConfiguredEngine {
    readonly model: string;
    /** "": the local model. */
    readonly server: string;
}

export function statusView(state: ClientState, running: ProgressNotification | null, configured: ConfiguredEngine): StatusView {
    const view = (icon: string, text: string, tooltip: string): StatusView => ({icon, text, tooltip, command: "powerSampling.showLog", action: "Show the log", error: false});
    if (running && (state.state === "running" || state.state === "idle")) {
        const parts = [`${Math.round(100 * running.fraction)}%`];
        if (running.power?.acceptanceRate != null) parts.push(`${Math.round(100 * running.power.acceptanceRate)}% accepted`);
        if (running.smc?.ess != null) parts.push(`ESS ${running.smc.ess.toFixed(1)}/${running.smc.particles}`);
        return view("$(loading~spin)", parts.join(" · "), `Running: ${running.proposedTokens} tokens drawn`);
    }
    switch (state.state) {
        case "stopped":
            if (configured.server) return view("$(remote)", serverName(configured.server), `llama-server at ${configured.server}\nConnects with the first run.`);
            if (!configured.model) {
                return {...view("$(circle-slash)", "no model", "No model chosen yet.\nClick to select or download a GGUF model."),
                    command: "powerSampling.selectModel", action: "Select Model..."};
            }
            return view("$(circle-outline)", modelName(configured.model), `${configured.model}\nLoads with the first run.`);
        case "starting": return view("$(sync~spin)", "starting", "Starting the backend process");
        case "downloading": return view("$(cloud-download)", `downloading ${percent(state.progress)}`, `Downloading ${state.model}`);
        case "installing": return view("$(cloud-download)", `installing GPU support ${percent(state.progress)}`, "Downloading llama.cpp's GPU build");
        case "loading": return view("$(sync~spin)", `loading ${percent(state.progress)}`, `Loading ${state.model}`);
        case "running":
            return view("$(loading~spin)", "running", `${modelName(state.model)} on ${state.server ? `llama-server ${hosts(state.server)}` : computeLabel(state.compute)}`);
        case "idle": {
            const lastError = state.error ? `\nLast error: ${state.error}` : "";
            if (state.server) return serverView(state.server, state.contextSize, lastError, view);
            const name = state.model ? `${modelName(state.model)} · ${computeLabel(state.compute)}` : modelName(configured.model) || "ready";
            const tooltip = state.error ? `Last error: ${state.error}` : state.model ? `${state.model}\n${computeDetail(state.compute)}, context ${state.contextSize}` : "No model loaded yet";
            return view(state.error ? "$(warning)" : "$(check)", name, tooltip);
        }
        case "crashed":
            return {...view("$(error)", "backend stopped", state.error ?? "The backend stopped; it restarts with the next command"), error: true};
    }
}

/** The servers as the backend last checked them: their model, unavailable (why), or not checked yet. */
function serverView(server: RemoteStatus, contextSize: number | null, lastError: string, view: (icon: string, text: string, tooltip: string) => StatusView): StatusView {
    if (server.ready) {
        const detail = `${server.summary}\n${server.engine}, context ${contextSize} tokens a sequence${lastError}`;
        return view(lastError ? "$(warning)" : "$(remote)", `${modelName(server.model)} · ${hosts(server)}`, detail);
    }
    if (server.error) return view("$(warning)", `${hosts(server)} unavailable`, server.error);
    return view("$(sync~spin)", `connecting to ${hosts(server)}`, server.summary);
}

function hosts(server: RemoteStatus): string {
    return server.urls.map(serverName).join(", ");
}

function percent(progress: number | null): string {
    return progress === null ? "" : formatPercent(progress);
}

function computeLabel(compute: ComputeInfo | null): string {
    return !compute || compute.backend === "cpu" ? "CPU" : compute.backend.toUpperCase();
}

/** What runs: the device and layers on a GPU, or the CPU with its threads and why not the GPU. */
function computeDetail(compute: ComputeInfo | null): string {
    if (!compute) return "not loaded";
    return compute.backend === "cpu" ? `${compute.summary}; ${compute.threads} threads` : compute.summary;
}
