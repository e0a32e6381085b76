/**
 * `hf:` references to download URLs, resolved the way llama.cpp and node-llama-cpp resolve them,
 * so that the file comes through the project's own transfer (src/net/transfer.ts) and a cancel
 * ends every request then and there:
 * - `hf:user/repo/path/file.gguf#branch` is the file at
 *   `ENDPOINT/user/repo/resolve/branch/path/file.gguf` (branch "main" by default);
 * - `hf:user/repo:quant` asks the Hub's manifest API, `ENDPOINT/v2/user/repo/manifests/quant`
 *   ("latest" without a quant), which names the GGUF file when the request says it comes from
 *   llama.cpp (`User-Agent: llama-cpp`), and that file is then resolved as above on "main".
 * The endpoint is MODEL_ENDPOINT or HF_ENDPOINT when set, else https://huggingface.co/; the
 * token is HF_TOKEN, else the file HF_TOKEN_PATH or HF_HOME/token (~/.cache/huggingface/token),
 * as `huggingface-cli login` writes it. The token goes only to the endpoint's own origin.
 */
import {readFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {networkErrorText} from "../net/transfer.js";
import {CancelledError, InvalidInputError} from "../sampling/errors.js";
import {redactSecrets} from "./redact.js";

/** One file in a Hugging Face repository, or a repository's GGUF for a quant (tag). */
export type HuggingFaceFile =
    | {readonly user: string; readonly repo: string; readonly tag: string | undefined}
    | {readonly user: string; readonly repo: string; readonly filePath: string; readonly branch: string};

/** Where the Hub is and who the user is there. */
export interface HuggingFaceAccess {
    /** With a trailing slash. */
    readonly endpoint: string;
    readonly token: string | null;
}

const DEFAULT_ENDPOINT = "https://huggingface.co/";
const MANIFEST_TIMEOUT_MS = 30_000;

/** The endpoint and token from the environment and the token file, as the Hub's own tools read them. */
export async function huggingFaceAccess(env: NodeJS.ProcessEnv = process.env, home: string = os.homedir()): Promise<HuggingFaceAccess> {
    const endpoint = [env.MODEL_ENDPOINT, env.HF_ENDPOINT].find((value) => value !== undefined && isHttpUrl(value)) ?? DEFAULT_ENDPOINT;
    const fromEnv = env.HF_TOKEN?.trim();
    if (fromEnv) return {endpoint: withSlash(endpoint), token: fromEnv};
    const hfHome = env.HF_HOME || path.join(env.XDG_CACHE_HOME || path.join(home, ".cache"), "huggingface");
    const tokenFile = env.HF_TOKEN_PATH || path.join(hfHome, "token");
    const fromFile = (await readFile(tokenFile, "utf8").catch(() => "")).trim();
    return {endpoint: withSlash(endpoint), token: fromFile || null};
}

/** The headers a request to `url` carries: the token, only to the endpoint's origin. */
export function huggingFaceHeaders(url: string, access: HuggingFaceAccess): Record<string, string> {
    return access.token !== null && new URL(url).origin === new URL(access.endpoint).origin ? {authorization: `Bearer ${access.token}`} : {};
}

/**
 * The download URL of `file`; a quant is looked up in the manifest API (one request, bounded by
 * MANIFEST_TIMEOUT_MS). `reference` is the user's text, for messages. Throws CancelledError or
 * InvalidInputError saying what the Hub answered.
 */
export async function resolveHuggingFaceUrl(file: HuggingFaceFile, reference: string, access: HuggingFaceAccess, signal: AbortSignal | undefined): Promise<string> {
    if ("filePath" in file) return fileUrl(access, file.user, file.repo, file.branch, file.filePath);
    const manifestUrl = `${access.endpoint}v2/${encodeURIComponent(file.user)}/${encodeURIComponent(file.repo)}/manifests/${encodeURIComponent(file.tag ?? "latest")}`;
    const timeout = AbortSignal.timeout(MANIFEST_TIMEOUT_MS);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const cannot = (why: string) => new InvalidInputError(`cannot resolve ${reference} on Hugging Face: ${why}`);
    let response: Response;
    try {
        response = await fetch(manifestUrl, {headers: {"user-agent": "llama-cpp", accept: "application/json", ...huggingFaceHeaders(manifestUrl, access)}, signal: combined});
    } catch (error) {
        if (signal?.aborted) throw new CancelledError();
        throw cannot(timeout.aborted ? `no response within ${MANIFEST_TIMEOUT_MS / 1000} s` : redactSecrets(networkErrorText(error)));
    }
    let body: string;
    try {
        body = await response.text();
    } catch (error) {
        if (signal?.aborted) throw new CancelledError();
        throw cannot(redactSecrets(networkErrorText(error)));
    }
    if (response.status === 400 || response.status === 404)
        throw new InvalidInputError(`model not found on Hugging Face: ${reference} (no such repository or quantization)`);
    if (response.status === 401 || response.status === 403)
        throw new InvalidInputError(`access denied (HTTP ${response.status}) to ${reference}: the model may be gated or private; ${access.token === null
            ? "set HF_TOKEN or log in with `huggingface-cli login`"
            : "the Hugging Face token was refused"}`);
    if (response.status === 429) {
        const reset = /(?:^|;)\s*t=(\d+)/.exec(response.headers.get("ratelimit") ?? "")?.[1];
        throw cannot(`Hugging Face is limiting requests (HTTP 429)${reset ? `; try again in ${reset} s` : "; try again later"}`);
    }
    if (!response.ok) throw cannot(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ""}`);
    let name: unknown;
    try {
        name = (JSON.parse(body) as {ggufFile?: {rfilename?: unknown}} | null)?.ggufFile?.rfilename;
    } catch {
        throw cannot("the manifest is not JSON");
    }
    if (typeof name !== "string" || !isSafeFilePath(name) || !/\.gguf$/i.test(name))
        throw cannot(`the manifest names no GGUF file${typeof name === "string" ? ` (it says ${JSON.stringify(name.slice(0, 200))})` : ""}`);
    return fileUrl(access, file.user, file.repo, "main", name);
}

/** A repository path the URL cannot escape: no empty, "." or ".." segment, no backslash. */
export function isSafeFilePath(filePath: string): boolean {
    return filePath.split("/").every((segment) => segment !== "" && segment !== "." && segment !== ".." && !segment.includes("\\"));
}

function fileUrl(access: HuggingFaceAccess, user: string, repo: string, branch: string, filePath: string): string {
    const encodedPath = filePath.split("/").map(encodeURIComponent).join("/");
    return `${access.endpoint}${encodeURIComponent(user)}/${encodeURIComponent(repo)}/resolve/${encodeURIComponent(branch)}/${encodedPath}`;
}

function isHttpUrl(text: string): boolean {
    try {
        return ["http:", "https:"].includes(new URL(text).protocol);
    } catch {
        return false;
    }
}

function withSlash(url: string): string {
    return url.endsWith("/") ? url : `${url}/`;
}
