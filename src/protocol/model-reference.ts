/**
 * Model references as a user writes them: a local GGUF path, an `hf:user/repo:quant` (or
 * `hf:user/repo/file.gguf`) URI, or an http(s) URL. The backend resolves them (model-source.ts);
 * this is the part every side shares.
 */

/** True for references that download: `hf:` URIs and http(s) URLs (not local paths, not file://). */
export function isRemoteReference(reference: string): boolean {
    const text = reference.trim();
    return /^(hf|huggingface):/i.test(text) || /^https?:\/\//i.test(text);
}

const HF_REFERENCE = /^(?:hf|huggingface):[\w.-]+\/[\w.-]+(?::[\w.-]+|\/.+\.gguf)?$/i;

/** What is wrong with a reference to download, for an input box; null when it looks right. */
export function remoteReferenceProblem(reference: string): string | null {
    const text = reference.trim();
    if (text === "") return "Enter an hf: URI or a URL";
    if (/^(?:hf|huggingface):/i.test(text)) return HF_REFERENCE.test(text) ? null : "Expected hf:user/repo:quant or hf:user/repo/file.gguf";
    return isRemoteReference(text) ? null : "Expected hf:... or an http(s) URL";
}
