/** Short display names for model references (paths, hf: URIs, URLs). */
export function modelName(reference: string | null): string {
    if (!reference) return "no model";
    const last = reference.split(/[\\/]/).pop() ?? reference;
    return last.replace(/\.gguf$/i, "") || reference;
}
