/**
 * What the panel's actions do to the editor the problem came from: insert (leaving the inserted
 * text selected), replace the selection, copy, and a diff in a real diff editor beside the
 * panel, in the document's language.
 */
import * as vscode from "vscode";

/** Where a run's text came from, so that insert, replace and diff act on the right place. */
export interface EditTarget {
    readonly uri: string;
    readonly range: {readonly start: [number, number]; readonly end: [number, number]} | null;
    readonly selectionText: string;
    readonly languageId: string;
    /** The editor's column when the run started: a diff opens there, beside the panel. */
    readonly viewColumn: number | null;
}

const DIFF_SCHEME = "power-sampling-diff";

export class Edits implements vscode.Disposable {
    private readonly contents = new Map<string, string>();
    private readonly registration = vscode.workspace.registerTextDocumentContentProvider(DIFF_SCHEME, {
        provideTextDocumentContent: (uri) => this.contents.get(uri.path) ?? ""
    });

    /** Inserts after the selection (or at the cursor) and selects what was inserted, alone. */
    async insert(target: EditTarget | null, text: string): Promise<void> {
        const editor = await this.editorFor(target);
        const at = editor.selection.end;
        await editor.edit((edit) => edit.insert(at, text));
        const end = editor.document.positionAt(editor.document.offsetAt(at) + text.length);
        editor.selection = new vscode.Selection(at, end);
        editor.revealRange(new vscode.Range(at, end));
    }

    /** Replaces the selection the run started from, and selects the new text. */
    async replace(target: EditTarget | null, text: string): Promise<void> {
        if (!target?.range) throw new Error("there was no selection to replace");
        const editor = await this.editorFor(target);
        const range = new vscode.Range(position(target.range.start), position(target.range.end));
        await editor.edit((edit) => edit.replace(range, text));
        const end = editor.document.positionAt(editor.document.offsetAt(range.start) + text.length);
        editor.selection = new vscode.Selection(range.start, end);
    }

    async copy(text: string): Promise<void> {
        await vscode.env.clipboard.writeText(text);
        void vscode.window.setStatusBarMessage("Power Sampling: copied", 2000);
    }

    /** The selection against `text`, side by side in the editor's column, in the document's language. */
    async diff(target: EditTarget | null, text: string, name: string, key: string): Promise<void> {
        const left = vscode.Uri.from({scheme: DIFF_SCHEME, path: `/${key}/selection`});
        const right = vscode.Uri.from({scheme: DIFF_SCHEME, path: `/${key}/${name.replace(/\W+/g, "-")}`});
        this.contents.set(left.path, target?.selectionText ?? "");
        this.contents.set(right.path, text);
        if (target?.languageId) {
            for (const uri of [left, right]) await vscode.languages.setTextDocumentLanguage(await vscode.workspace.openTextDocument(uri), target.languageId);
        }
        await vscode.commands.executeCommand("vscode.diff", left, right, `Selection ↔ ${name}`,
            {viewColumn: target?.viewColumn ?? vscode.ViewColumn.One, preview: true});
    }

    dispose(): void {
        this.registration.dispose();
    }

    private async editorFor(target: EditTarget | null): Promise<vscode.TextEditor> {
        if (target) {
            const visible = vscode.window.visibleTextEditors.find((editor) => editor.document.uri.toString() === target.uri);
            if (visible) return visible;
            const document = await vscode.workspace.openTextDocument(vscode.Uri.parse(target.uri));
            return vscode.window.showTextDocument(document, {viewColumn: target.viewColumn ?? undefined, preserveFocus: false});
        }
        const active = vscode.window.activeTextEditor;
        if (!active) throw new Error("open an editor to insert into");
        return active;
    }
}

function position([line, character]: readonly [number, number]): vscode.Position {
    return new vscode.Position(line, character);
}
