/**
 * Power Sampling: Open Evaluation Report. Shows an output folder of `power-sampling eval` in a
 * webview, drawn afresh from its summary.json so that the charts take the current theme's colours.
 * The page has no scripts; the webview runs none either.
 */
import path from "node:path";
import * as vscode from "vscode";
import {renderReport} from "../eval/report.js";
import {readSummary} from "../eval/summary.js";

/** `target`: a folder or a file in it (the explorer's context menu passes one); otherwise the user picks. */
export async function openEvaluationReportCommand(target: vscode.Uri | undefined, log: vscode.LogOutputChannel): Promise<void> {
    const chosen = target ?? await pickEvaluation();
    if (!chosen) return;
    const folder = (await vscode.workspace.fs.stat(chosen)).type & vscode.FileType.Directory ? chosen.fsPath : path.dirname(chosen.fsPath);
    try {
        const summary = await readSummary(folder);
        const panel = vscode.window.createWebviewPanel("powerSampling.evaluationReport", `Evaluation: ${path.basename(summary.dataset)}`, vscode.ViewColumn.Active,
            {enableScripts: false, localResourceRoots: []});
        panel.webview.html = renderReport(summary);
    } catch (error) {
        const message = error instanceof Error ? error.message : String(error);
        log.error(`opening the evaluation report failed: ${message}`);
        void vscode.window.showErrorMessage(`Power Sampling: ${message}`);
    }
}

async function pickEvaluation(): Promise<vscode.Uri | undefined> {
    const picked = await vscode.window.showOpenDialog({
        title: "Open Evaluation Report: the --out folder of power-sampling eval",
        openLabel: "Open Report",
        canSelectFolders: true,
        canSelectFiles: true,
        canSelectMany: false,
        defaultUri: vscode.workspace.workspaceFolders?.[0]?.uri,
        filters: {"Evaluation summary": ["json"]}
    });
    return picked?.[0];
}
