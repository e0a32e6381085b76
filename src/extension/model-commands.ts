/** Select Model... and Download Model...: choosing which GGUF the backend runs. */
import * as vscode from "vscode";
import {remoteReferenceProblem} from "../protocol/model-reference.js";
import {modelName} from "./names.js";

const RECENT_KEY = "powerSampling.recentModels";

export async function rememberModel(context: vscode.ExtensionContext, reference: string): Promise<void> {
    const recent = context.globalState.get<string[]>(RECENT_KEY, []).filter((r) => r !== reference);
    await context.globalState.update(RECENT_KEY, [reference, ...recent].slice(0, 10));
}

export async function setModel(context: vscode.ExtensionContext, reference: string): Promise<void> {
    await vscode.workspace.getConfiguration("powerSampling").update("model", reference, vscode.ConfigurationTarget.Global);
    await rememberModel(context, reference);
}

/** A local GGUF, a recent one, or an hf: URI / URL; returns the chosen reference. */
export async function selectModel(context: vscode.ExtensionContext): Promise<string | undefined> {
    type Item = vscode.QuickPickItem & {readonly reference?: string; readonly kind2?: "browse" | "remote"};
    const recent = context.globalState.get<string[]>(RECENT_KEY, []);
    const items: Item[] = [
        {label: "$(folder-opened) Browse for a GGUF file...", kind2: "browse"},
        {label: "$(cloud-download) Enter an hf: URI or URL...", kind2: "remote"},
        ...(recent.length > 0 ? [{label: "Recent", kind: vscode.QuickPickItemKind.Separator} as Item] : []),
        ...recent.map((reference) => ({label: modelName(reference), description: reference, reference}))
    ];
    const picked = await vscode.window.showQuickPick(items, {title: "Power Sampling: Select Model", placeHolder: "A local GGUF model, or one to download"});
    if (!picked) return undefined;
    let reference = picked.reference;
    if (picked.kind2 === "browse") {
        const files = await vscode.window.showOpenDialog({canSelectMany: false, filters: {"GGUF models": ["gguf"]}, title: "Select a GGUF model"});
        reference = files?.[0]?.fsPath;
    } else if (picked.kind2 === "remote") {
        reference = await askRemoteReference();
    }
    if (reference) await setModel(context, reference);
    return reference;
}

export function askRemoteReference(): Thenable<string | undefined> {
    return vscode.window.showInputBox({
        title: "Power Sampling: model to download",
        prompt: "hf:user/repo:quant (e.g. hf:Qwen/Qwen2.5-Math-7B-GGUF:Q4_K_M) or an https URL of a .gguf file",
        ignoreFocusOut: true,
        validateInput: (value) => remoteReferenceProblem(value) ?? undefined
    }).then((value) => value?.trim());
}
