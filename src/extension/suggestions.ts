/** What a sampled completion offers as an inline code suggestion. No vscode import: unit-tested. */
/**
 * A completion at the cursor as a code suggestion, code only: the content of a first code block if
 * it starts with one, else the text up to a code fence, or up to the first line after the
 * completion's own code that is indented less than the cursor (`indent` columns, the block it is
 * in ends), or at the top level a new statement after a blank line (the next function or prose).
 * Trailing blank lines are dropped.
 */
export function cutCodeSuggestion(completion: string, indent: number): string {
    const lines = completion.split(/\r?\n/);
    const opening = /^\s*```/.test(lines[0] ?? "");
    const kept: string[] = [];
    for (const [i, line] of lines.entries()) {
        if (i === 0 && opening) continue;
        if (/^\s*```/.test(line)) break;
        const code = kept.some((previous) => previous.trim() !== "");
        const lineIndent = line.length - line.trimStart().length;
        if (code && line.trim() !== "" && i > 0) {
            if (indent > 0 && lineIndent < indent) break;
            if (indent === 0 && lineIndent === 0 && kept.at(-1)?.trim() === "") break;
        }
        kept.push(line);
    }
    while (kept.length > 0 && kept.at(-1)!.trim() === "") kept.pop();
    return kept.join("\n");
}
