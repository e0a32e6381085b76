/**
 * Suggest Code with Power Sampling: the command samples completions at the cursor, then hands
 * them to VS Code's inline suggestions, where the alternatives cycle with the usual
 * next/previous suggestion keys. Nothing runs while the user just types.
 */
import * as vscode from "vscode";

interface Pending {
    readonly uri: string;
    readonly version: number;
    readonly position: vscode.Position;
    readonly items: string[];
}

export class InlineSuggestions implements vscode.InlineCompletionItemProvider, vscode.Disposable {
    private pending?: Pending;
    private readonly registration = vscode.languages.registerInlineCompletionItemProvider({pattern: "**"}, this);
    private readonly note = vscode.window.createTextEditorDecorationType({
        after: {color: new vscode.ThemeColor("editorCodeLens.foreground"), fontStyle: "italic", margin: "0 0 0 1em"}
    });

    /** A note at the cursor while suggestions are sampled: "Power Sampling 40%". */
    working(editor: vscode.TextEditor, position: vscode.Position): {update(fraction: number): void; dispose(): void} {
        const show = (text: string) => editor.setDecorations(this.note, [{range: new vscode.Range(position, position), renderOptions: {after: {contentText: text}}}]);
        show("⟳ Power Sampling…");
        return {
            update: (fraction) => show(`⟳ Power Sampling ${Math.round(100 * fraction)}%`),
            dispose: () => editor.setDecorations(this.note, [])
        };
    }

    /** Offers `items` at `position` of `editor`'s document and shows the first. */
    async offer(editor: vscode.TextEditor, position: vscode.Position, items: string[]): Promise<void> {
        this.pending = {uri: editor.document.uri.toString(), version: editor.document.version, position, items};
        editor.selection = new vscode.Selection(position, position);
        await vscode.commands.executeCommand("editor.action.inlineSuggest.trigger");
    }

    provideInlineCompletionItems(document: vscode.TextDocument, position: vscode.Position): vscode.InlineCompletionList | undefined {
        const pending = this.pending;
        if (!pending || pending.uri !== document.uri.toString()) return undefined;
        // Typing past the suggestion point or editing elsewhere retires the suggestions.
        if (document.version !== pending.version || !position.isEqual(pending.position)) {
            this.pending = undefined;
            return undefined;
        }
        return new vscode.InlineCompletionList(pending.items.map((text) => new vscode.InlineCompletionItem(text, new vscode.Range(position, position))));
    }

    dispose(): void {
        this.registration.dispose();
        this.note.dispose();
    }
}

/** The text before the cursor, capped so long files still fit a small context. */
export function codePrefix(document: vscode.TextDocument, position: vscode.Position, maxChars = 6000): string {
    const text = document.getText(new vscode.Range(new vscode.Position(0, 0), position));
    return text.length > maxChars ? text.slice(-maxChars) : text;
}
