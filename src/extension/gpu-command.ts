/**
 * Power Sampling: Install GPU Support. The CUDA build of llama.cpp is too large to ship in the
 * VSIX, so it is downloaded (about 320 MB, from the npm registry, checked against pinned hashes)
 * only when the user asks, with progress and a cancel button; the backend then loads it.
 */
import * as vscode from "vscode";
import {type BackendClient, BackendRequestError} from "./backend-client.js";
import type {Settings} from "./settings.js";

export async function installGpuSupportCommand(backend: BackendClient, log: vscode.LogOutputChannel, settings: Settings): Promise<void> {
    try {
        const installed = await vscode.window.withProgress({location: vscode.ProgressLocation.Notification, title: "Power Sampling: installing GPU support", cancellable: true},
            async (progress, token) => {
                let reported = 0;
                const listener = backend.onState((state) => {
                    if (state.state !== "installing" || !("progress" in state) || state.progress === null) return;
                    const percent = Math.round(100 * state.progress);
                    progress.report({message: `${percent}% of about 320 MB`, increment: Math.max(0, percent - reported)});
                    reported = percent;
                });
                try {
                    return await backend.installGpuSupport(token, settings);
                } finally {
                    listener.dispose();
                }
            });
        log.info(`GPU support (${installed.backend}) installed in ${installed.folder}`);
        const note = settings.gpu === "auto" || settings.gpu === installed.backend ? "the next run loads it"
            : `set powerSampling.gpu to "auto" or "${installed.backend}" to use it`;
        void vscode.window.showInformationMessage(`Power Sampling: ${installed.backend.toUpperCase()} support installed; ${note}.`);
    } catch (error) {
        if (error instanceof BackendRequestError && error.cancelled) return void vscode.window.showInformationMessage("Power Sampling: GPU support not installed (cancelled).");
        const message = error instanceof Error ? error.message : String(error);
        log.error(`installing GPU support failed: ${message}`);
        void vscode.window.showErrorMessage(`Power Sampling: ${message}`);
    }
}
