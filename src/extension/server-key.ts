/**
 * The server's API key (llama-server --api-key) lives in VS Code's SecretStorage under one name:
 * never in settings.json, never in the log. No vscode import: it is unit-tested with a fake store.
 */

/** The SecretStorage entry. */
export const SERVER_API_KEY_SECRET = "powerSampling.serverApiKey";

/** What this needs of vscode.SecretStorage. */
export interface SecretStore {
    get(key: string): PromiseLike<string | undefined>;
    store(key: string, value: string): PromiseLike<void>;
    delete(key: string): PromiseLike<void>;
}

/** Why `text` cannot be an API key, or null; empty is fine (it removes the key). The key itself is never shown. */
export function apiKeyProblem(text: string): string | null {
    return /\s/.test(text.trim()) ? "An API key is one word: no spaces or line breaks." : null;
}

/** Stores the key (trimmed), or removes it when empty. */
export async function setServerApiKey(secrets: SecretStore, text: string): Promise<"stored" | "removed"> {
    const problem = apiKeyProblem(text);
    if (problem) throw new Error(problem);
    const key = text.trim();
    if (key === "") {
        await secrets.delete(SERVER_API_KEY_SECRET);
        return "removed";
    }
    await secrets.store(SERVER_API_KEY_SECRET, key);
    return "stored";
}

/** The stored key, if any. */
export async function serverApiKey(secrets: SecretStore): Promise<string | undefined> {
    return (await secrets.get(SERVER_API_KEY_SECRET)) || undefined;
}
