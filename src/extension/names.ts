/** Short display names for model references (paths, hf: URIs, URLs) and servers. */
export function modelName(reference: string | null): string {
    if (!reference) return "no model";
    const last = reference.split(/[\\/]/).pop() ?? reference;
    return last.replace(/\.gguf$/i, "") || reference;
}

/** A server's host and port, e.g. "gpu-box:8080" for https://gpu-box:8080/llama. */
export function serverName(url: string): string {
    try {
        return new URL(url).host || url;
    } catch {
        return url;
    }
}

/** What runs a job, for the panel: the server's model at its host once known, the server, or the model setting. */
export function engineName(configured: {readonly model: string; readonly server: string}, serverModel: string | null): string {
    if (!configured.server) return modelName(configured.model);
    return serverModel ? `${modelName(serverModel)} @ ${serverName(configured.server)}` : serverName(configured.server);
}
