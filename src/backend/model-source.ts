/**
 * Resolving a model reference to a local GGUF file: local paths as they are; http(s) URLs and
 * `hf:` URIs (resolved to URLs by hugging-face.ts) downloaded once into a cache folder with the
 * project's own transfer (src/net/transfer.ts). Not node-llama-cpp's downloader: it (ipull 3.9.5)
 * retries a failed transfer for minutes even after a cancel, and a retry it has abandoned can
 * hold its connection open for good, in a backend that a user leaves running all day.
 *
 * Every remote reference gets a deterministic cache file name (a slug plus a hash of the
 * canonical reference); when that file is there and passes the GGUF checks (src/gguf/validate.ts)
 * it is returned without any request. A download goes to a staging name (STEM.download.gguf) and
 * gets the final name only once its size matches what the server announced and its GGUF
 * structure, tensor bounds included, checks out: a response cut short but sent as complete can
 * only be told by its contents. A file that fails is set aside (renamed to NAME.corrupt-TIME,
 * never deleted), so the next resolve downloads it again. One process at a time downloads a
 * file (NAME.lock); others wait for it and use its result. A cancel, a stall or a failure ends
 * every request before the call returns and leaves no partial file.
 */
import {createHash, randomUUID} from "node:crypto";
import {mkdir, open, readdir, readFile, rename, stat, unlink, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {fileURLToPath} from "node:url";
import {InvalidGgufError} from "../gguf/reader.js";
import {MAX_SPLIT_COUNT, parseSplitPartPath, splitPartPaths} from "../gguf/split.js";
import {isFile} from "../fs/files.js";
import {validateGgufModel} from "../gguf/validate.js";
import {HttpStatusError, networkErrorText, TransferStalledError, transferToFile} from "../net/transfer.js";
import {CancelledError, InvalidInputError} from "../sampling/errors.js";
import {type HuggingFaceAccess, huggingFaceAccess, huggingFaceHeaders, type HuggingFaceFile, resolveHuggingFaceUrl} from "./hugging-face.js";
import {redactSecrets} from "./redact.js";

export interface ModelDownloadProgress {
    readonly downloadedBytes: number;
    /** null when the server does not say how large the file is. */
    readonly totalBytes: number | null;
    /** The cache file being written. */
    readonly file: string;
}

export interface ResolveModelSourceOptions {
    /** Folder for downloaded models; created when missing. */
    readonly cacheDir: string;
    readonly signal?: AbortSignal;
    /**
     * Download progress, at most ~10 calls a second and always a final one with
     * downloadedBytes === totalBytes. Never called for local paths or a reference found in the
     * cache (nothing is downloaded). Exceptions it throws are ignored.
     */
    readonly onProgress?: (progress: ModelDownloadProgress) => void;
    /** A download that receives no data for this long fails (60 s by default). */
    readonly stallTimeoutMs?: number;
    /** The Hub's endpoint and the user's token for `hf:` references; read from the environment by default. */
    readonly huggingFace?: HuggingFaceAccess;
}

const PROGRESS_INTERVAL_MS = 100;
const PREFLIGHT_TIMEOUT_MS = 30_000;
const DEFAULT_STALL_TIMEOUT_MS = 60_000;
const GGUF_MAGIC = "GGUF";

type Reference =
    | {readonly kind: "local"; readonly path: string}
    | {readonly kind: "http"; readonly url: string; readonly canonical: string; readonly slug: string}
    | {readonly kind: "hf"; readonly file: HuggingFaceFile; readonly canonical: string; readonly slug: string};

type RemoteReference = Exclude<Reference, {kind: "local"}>;


/**
 * Where a remote reference is kept in `cacheDir` (the entry file; a model split into several
 * GGUF files keeps them next to it as STEM-00001-of-0000N.gguf). Throws InvalidInputError for a
 * malformed or local reference.
 */
export function cachedModelPath(reference: string, cacheDir: string): string {
    const parsed = parseReference(reference);
    if (parsed.kind === "local") throw new InvalidInputError(`not a remote model reference: ${display(reference)}`);
    return path.join(path.resolve(expandHome(cacheDir)), cacheFileName(parsed));
}

/**
 * Sets aside the cached download of remote `reference` in `cacheDir` (every part of a split
 * model), renaming it to NAME.corrupt-TIME: for a file llama.cpp failed to load, so that the next
 * resolve downloads it again and nothing is lost. Returns the entry file's new path, or null when
 * nothing is cached. Throws InvalidInputError for a malformed or local reference (a user's own
 * file is never renamed).
 */
export async function setAsideCachedModel(reference: string, cacheDir: string): Promise<string | null> {
    const entry = await locateCached(cachedModelPath(reference, cacheDir));
    return entry === null ? null : setAside(entry);
}

/** The local GGUF path for `reference`, downloading it into `options.cacheDir` first if remote. */
export async function resolveModelSource(reference: string, options: ResolveModelSourceOptions): Promise<string> {
    const {signal} = options;
    if (signal?.aborted) throw new CancelledError();
    const parsed = parseReference(reference);
    if (parsed.kind === "local") return resolveLocal(parsed.path);

    const cacheDir = path.resolve(expandHome(options.cacheDir));
    const target = path.join(cacheDir, cacheFileName(parsed));
    const progress = new ProgressForwarder(target, options.onProgress);

    const cached = await findCached(target);
    if (cached) return cached;

    // One download per cache file in this process: a second resolve waits for the first and then
    // finds the file in the cache. Then the same across processes sharing the cache folder.
    const release = await claimTarget(target, signal);
    let lock: {release: () => Promise<void>} | undefined;
    try {
        try {
            await mkdir(cacheDir, {recursive: true});
        } catch (error) {
            throw new InvalidInputError(`cannot create the model cache folder ${cacheDir}: ${errorText(error)}`);
        }
        const acquired = await lockOrAwait(target, signal, progress);
        if (typeof acquired === "string") return await progress.finish(acquired);
        lock = acquired;
        const cachedNow = await findCached(target);
        if (cachedNow) return cachedNow;
        const {url, headers} = await sourceOf(parsed, reference, options);
        const file = await download(downloadPlan(url, target, headers), {reference, cacheDir, target, progress, options});
        return await progress.finish(file);
    } finally {
        await lock?.release();
        release();
    }
}

// ---------------------------------------------------------------------------------------------
// Parsing

function parseReference(reference: string): Reference {
    const text = reference.trim();
    if (text === "") throw new InvalidInputError("the model reference is empty");
    if (text === "~" || text.startsWith("~/") || text.startsWith("~\\")) return {kind: "local", path: expandHome(text)};
    const hf = /^(?:hf|huggingface):(?:\/\/)?/i.exec(text);
    if (hf) return parseHuggingFace(text.slice(hf[0].length), reference);
    if (/^[A-Za-z]:[\\/]/.test(text)) return {kind: "local", path: path.resolve(text)}; // Windows drive
    const scheme = /^([A-Za-z][A-Za-z0-9+.-]+):/.exec(text)?.[1]?.toLowerCase();
    if (scheme === undefined) return {kind: "local", path: path.resolve(text)};
    if (scheme === "file") {
        try {
            return {kind: "local", path: fileURLToPath(text)};
        } catch (error) {
            throw new InvalidInputError(`invalid file URL ${display(reference)}: ${errorText(error)}`);
        }
    }
    if (scheme === "http" || scheme === "https") {
        let url: URL;
        try {
            url = new URL(text);
        } catch {
            throw new InvalidInputError(`invalid URL: ${display(reference)}`);
        }
        if (url.hostname === "") throw new InvalidInputError(`invalid URL (no host): ${display(reference)}`);
        url.hash = "";
        const last = decodeSafely(url.pathname.split("/").pop() ?? "");
        return {kind: "http", url: url.href, canonical: url.href, slug: stripGguf(last) || url.hostname};
    }
    throw new InvalidInputError(
        `unsupported model reference scheme "${scheme}:" in ${display(reference)}: use a local path, a file:// or http(s):// URL, or hf:user/repo:quant`
    );
}

const HF_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HF_TAG = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;
const HF_BRANCH = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const HF_FILE_SEGMENT = /^[^\s\\#?:*"<>|]+$/;
const GGUF_FILE = /\.gguf(\.part\d+of\d+)?$/i;

function parseHuggingFace(body: string, reference: string): Reference {
    const malformed = (why: string) =>
        new InvalidInputError(`malformed Hugging Face reference ${display(reference)}: ${why} (expected hf:user/repo:quant or hf:user/repo/file.gguf)`);
    const parts = body.split("/");
    const user = parts[0] ?? "";
    if (parts.length < 2) throw malformed(user === "" ? "no user and repository" : "no repository");
    if (!HF_NAME.test(user)) throw malformed(user === "" ? "empty user name" : `invalid user name "${user}"`);

    if (parts.length === 2) {
        const colon = parts[1]!.indexOf(":");
        const repo = colon < 0 ? parts[1]! : parts[1]!.slice(0, colon);
        const tag = colon < 0 ? undefined : parts[1]!.slice(colon + 1);
        if (!HF_NAME.test(repo)) throw malformed(repo === "" ? "empty repository name" : `invalid repository name "${repo}"`);
        if (tag !== undefined && !HF_TAG.test(tag)) throw malformed(tag === "" ? "empty quantization after ':'" : `invalid quantization "${tag}"`);
        const canonical = `hf:${user}/${repo}${tag ? `:${tag.toUpperCase()}` : ""}`;
        const slug = `${repo.replace(/-gguf$/i, "")}${tag ? `.${tag.toUpperCase()}` : ""}`;
        return {kind: "hf", file: {user, repo, tag: tag || undefined}, canonical, slug};
    }

    const repo = parts[1]!;
    if (!HF_NAME.test(repo)) throw malformed(repo === "" ? "empty repository name" : `invalid repository name "${repo}"`);
    let filePath = parts.slice(2).join("/");
    let branch: string | undefined;
    const hash = filePath.indexOf("#");
    if (hash >= 0) {
        branch = filePath.slice(hash + 1);
        filePath = filePath.slice(0, hash);
        if (!HF_BRANCH.test(branch) || branch.split("/").some(isDotSegment))
            throw malformed(branch === "" ? "empty branch after '#'" : `invalid branch "${branch}"`);
    }
    const segments = filePath.split("/");
    for (const segment of segments) {
        if (segment === "" || isDotSegment(segment) || /[/\\]/.test(decodeSafely(segment)) || !HF_FILE_SEGMENT.test(segment))
            throw malformed(filePath === "" ? "empty file path" : `invalid file path "${filePath}"`);
    }
    const fileName = segments[segments.length - 1]!;
    if (!GGUF_FILE.test(fileName)) throw malformed(`"${filePath}" is not a .gguf file`);
    const branchSuffix = branch !== undefined && branch !== "main" ? `#${branch}` : "";
    const canonical = `hf:${user}/${repo}/${filePath}${branchSuffix}`;
    return {kind: "hf", file: {user, repo, filePath, branch: branch ?? "main"}, canonical, slug: stripGguf(fileName.replace(/\.part\d+of\d+$/i, ""))};
}

/**
 * "." or "..", also URL-encoded ("%2e%2E"): the download URL is built from these segments, and a
 * URL parser resolves them, so they could reach another repository's files.
 */
function isDotSegment(segment: string): boolean {
    const decoded = decodeSafely(segment);
    return decoded === "." || decoded === "..";
}

function cacheFileName(reference: RemoteReference): string {
    const hash = createHash("sha256").update(reference.canonical).digest("hex").slice(0, 12);
    const slug = reference.slug.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^[._-]+/, "").slice(0, 80) || "model";
    return `${slug}-${hash}.gguf`;
}

function stripGguf(name: string): string {
    return name.replace(/\.gguf$/i, "");
}

function expandHome(p: string): string {
    if (p === "~") return os.homedir();
    if (p.startsWith("~/") || p.startsWith("~\\")) return path.join(os.homedir(), p.slice(2));
    return p;
}

function decodeSafely(text: string): string {
    try {
        return decodeURIComponent(text);
    } catch {
        return text;
    }
}

// ---------------------------------------------------------------------------------------------
// Local files and the cache

async function resolveLocal(modelPath: string): Promise<string> {
    try {
        if ((await stat(modelPath)).isDirectory()) throw new InvalidInputError(`model path is a folder, not a GGUF file: ${modelPath}`);
    } catch (error) {
        if (error instanceof InvalidInputError) throw error;
        const code = (error as NodeJS.ErrnoException).code;
        if (code === "ENOENT" || code === "ENOTDIR") throw new InvalidInputError(`model file not found: ${modelPath}`);
        throw new InvalidInputError(`cannot read model file ${modelPath}: ${errorText(error)}`);
    }
    return modelPath;
}

/**
 * The checked cached file for `target`, or null. A file that is not GGUF at all (an error page
 * kept by an earlier version) is deleted; a GGUF that fails the checks (cut short, corrupt) is
 * set aside, and the caller downloads it again.
 */
async function findCached(target: string): Promise<string | null> {
    const entry = await locateCached(target);
    if (entry === null) return null;
    if (!(await hasGgufMagic(entry))) {
        await removeDownload(entry);
        return null;
    }
    try {
        await validateGgufModel(entry);
        return entry;
    } catch (error) {
        if (!(error instanceof InvalidGgufError)) throw error;
        await setAside(entry);
        return null;
    }
}

/**
 * The entry file cached under `target`: the file itself or, for a model split into several GGUF
 * files (STEM-00001-of-0000N.gguf and the rest next to it), the first part when all are there.
 */
async function locateCached(target: string): Promise<string | null> {
    if (await isFile(target)) return target;
    const dir = path.dirname(target);
    const stem = stripGguf(path.basename(target));
    let names: string[];
    try {
        names = await readdir(dir);
    } catch {
        return null;
    }
    for (const name of names) {
        const split = parseSplitPartPath(name);
        if (split === null || split.prefix !== stem || split.index !== 0) continue;
        const all = splitPartPaths(path.join(dir, stem), split.count);
        if ((await Promise.all(all.map(isFile))).every(Boolean)) return all[0]!;
    }
    return null;
}

async function hasGgufMagic(p: string): Promise<boolean> {
    try {
        const file = await open(p, "r");
        try {
            const magic = Buffer.alloc(4);
            const {bytesRead} = await file.read(magic, 0, 4, 0);
            return bytesRead === 4 && magic.toString("latin1") === GGUF_MAGIC;
        } finally {
            await file.close();
        }
    } catch {
        return false;
    }
}

async function removeQuietly(p: string): Promise<void> {
    try {
        await unlink(p);
    } catch {
        // Already gone.
    }
}

/** A model's files: `entry` and, when it is the first part of a split model, the other parts. */
function modelFiles(entry: string): string[] {
    const split = parseSplitPartPath(entry);
    return split === null || split.index !== 0 ? [entry] : splitPartPaths(split.prefix, split.count);
}

async function removeDownload(entry: string): Promise<void> {
    await Promise.all(modelFiles(entry).map(removeQuietly));
}

/**
 * Renames a model's files to NAME.corrupt-TIME, out of the cache's way but kept for inspection;
 * returns the entry's new path. A file already gone (set aside by another process) is skipped.
 */
async function setAside(entry: string): Promise<string> {
    const suffix = `.corrupt-${new Date().toISOString().replace(/[-:]/g, "")}`;
    for (const file of modelFiles(entry)) {
        try {
            await rename(file, file + suffix);
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "ENOENT")
                throw new InvalidInputError(`cannot set aside the corrupt cached model ${file}: ${errorText(error)}`);
        }
    }
    return entry + suffix;
}

// ---------------------------------------------------------------------------------------------
// Downloading

/** The downloads of cache files in this process, each settled when its call has returned. */
const pending = new Map<string, Promise<void>>();

/** Waits until no other call in this process is downloading `target`, then claims it; returns the release. */
async function claimTarget(target: string, signal: AbortSignal | undefined): Promise<() => void> {
    for (let previous = pending.get(target); previous; previous = pending.get(target))
        if (await settleOrAbort(previous, signal) === "aborted") throw new CancelledError();
    let release!: () => void;
    const settled = new Promise<void>((resolve) => {
        release = resolve;
    });
    pending.set(target, settled);
    void settled.then(() => {
        if (pending.get(target) === settled) pending.delete(target);
    });
    return release;
}

/** Resolves with how `promise` ended first: settled, or the signal aborted. */
function settleOrAbort(promise: Promise<unknown>, signal: AbortSignal | undefined): Promise<"settled" | "aborted"> {
    return new Promise((resolve) => {
        if (signal?.aborted) return resolve("aborted");
        const finish = (how: "settled" | "aborted") => {
            signal?.removeEventListener("abort", onAbort);
            resolve(how);
        };
        const onAbort = () => finish("aborted");
        signal?.addEventListener("abort", onAbort, {once: true});
        promise.then(() => finish("settled"), () => finish("settled"));
    });
}

/** How often a process waiting for another one's download looks again. */
const LOCK_POLL_MS = 250;
/** A lock file still empty after this long was left by a process that died creating it. */
const EMPTY_LOCK_STALE_MS = 10_000;

/**
 * Makes this process the only one downloading `target` among processes sharing the cache folder
 * (two VS Code windows, a window and a script): NAME.lock, created exclusively, holds the owner's
 * pid; a lock whose process is gone is taken over. While another process downloads, waits for
 * it, forwarding the growth of its partial file as progress, and returns the finished file.
 */
async function lockOrAwait(target: string, signal: AbortSignal | undefined, progress: ProgressForwarder): Promise<string | {release: () => Promise<void>}> {
    const lockPath = `${target}.lock`;
    for (;;) {
        if (signal?.aborted) throw new CancelledError();
        // The pid tells others whether the owner still runs; the id, that a lock is still ours.
        const owner = `${process.pid} ${randomUUID()}`;
        try {
            await writeFile(lockPath, owner, {flag: "wx"});
            return {release: async () => { if (await readFile(lockPath, "utf8").catch(() => null) === owner) await removeQuietly(lockPath); }};
        } catch (error) {
            if ((error as NodeJS.ErrnoException).code !== "EEXIST")
                throw new InvalidInputError(`cannot write to the model cache folder ${path.dirname(target)}: ${errorText(error)}`);
        }
        if (await isStaleLock(lockPath)) {
            await removeQuietly(lockPath);
            continue;
        }
        const cached = await findCached(target);
        if (cached) return cached;
        // The other process's partial file.
        const partial = await stat(stagingPath(target)).catch(() => null);
        if (partial) progress.update(partial.size, 0);
        if (await settleOrAbort(new Promise((resolve) => setTimeout(resolve, LOCK_POLL_MS)), signal) === "aborted") throw new CancelledError();
    }
}

async function isStaleLock(lockPath: string): Promise<boolean> {
    const [content, info] = await Promise.all([readFile(lockPath, "utf8").catch(() => null), stat(lockPath).catch(() => null)]);
    if (content === null || info === null) return false; // just released: try again
    if (content.trim() === "") return Date.now() - info.mtimeMs > EMPTY_LOCK_STALE_MS;
    const owner = Number(content.trim().split(" ")[0]);
    // This process holds no lock here (its downloads of a file are serialised), so its own pid is stale too.
    if (!Number.isInteger(owner) || owner <= 0 || owner === process.pid) return true;
    try {
        process.kill(owner, 0);
        return false;
    } catch (error) {
        return (error as NodeJS.ErrnoException).code !== "EPERM";
    }
}

/**
 * One cheap request before a download: checks that the server answers, that the file exists and
 * that it starts with the GGUF magic, so that a wrong URL fails before a large transfer starts.
 * Returns the file's size as the server announces it, if it does.
 */
async function preflight(url: string, headers: Readonly<Record<string, string>>, reference: string, signal: AbortSignal | undefined): Promise<number | null> {
    const timeout = AbortSignal.timeout(PREFLIGHT_TIMEOUT_MS);
    const combined = signal ? AbortSignal.any([signal, timeout]) : timeout;
    const failed = (error: unknown): Error => {
        if (signal?.aborted) return new CancelledError();
        if (timeout.aborted) return new InvalidInputError(`cannot download model ${display(reference)}: no response within ${PREFLIGHT_TIMEOUT_MS / 1000} s`);
        return new InvalidInputError(`cannot download model ${display(reference)}: ${redactSecrets(networkErrorText(error))}`);
    };
    let response: Response;
    try {
        response = await fetch(url, {headers: {...headers, range: "bytes=0-3", "accept-encoding": "identity"}, signal: combined});
    } catch (error) {
        throw failed(error);
    }
    try {
        if (response.status === 416) throw notGguf(reference, "the file is empty");
        if (!response.ok) throw httpError(response.status, response.statusText, reference);
        let head: Buffer;
        try {
            head = await readPrefix(response, 4);
        } catch (error) {
            throw failed(error);
        }
        if (head.toString("latin1") !== GGUF_MAGIC) throw notGguf(reference, head.length < 4 ? "the file is shorter than 4 bytes" : "it does not start with \"GGUF\"");
        return announcedSize(response);
    } finally {
        await response.body?.cancel().catch(() => {});
    }
}

/** The whole file's size from a response to a range request: the Content-Range total, else a 200's Content-Length. */
function announcedSize(response: Response): number | null {
    const range = /\/(\d+)\s*$/.exec(response.headers.get("content-range") ?? "");
    const size = range ? Number(range[1]) : response.status === 200 ? Number(response.headers.get("content-length") ?? NaN) : NaN;
    return Number.isSafeInteger(size) && size > 0 ? size : null;
}

async function readPrefix(response: Response, bytes: number): Promise<Buffer> {
    if (!response.body) return Buffer.alloc(0);
    const reader = response.body.getReader();
    const chunks: Buffer[] = [];
    let length = 0;
    try {
        while (length < bytes) {
            const {done, value} = await reader.read();
            if (done) break;
            chunks.push(Buffer.from(value));
            length += value.length;
        }
    } finally {
        await reader.cancel().catch(() => {});
    }
    return Buffer.concat(chunks).subarray(0, bytes);
}

/** One remote reference being downloaded into the cache file `target`. */
interface DownloadJob {
    readonly reference: string;
    readonly cacheDir: string;
    readonly target: string;
    readonly progress: ProgressForwarder;
    readonly options: ResolveModelSourceOptions;
}

/** The requests that bring one model, in order, and the staging files they write. */
interface DownloadPlan {
    readonly urls: readonly string[];
    /** One per URL; the parts of a model cut into byte ranges all go to one file, one after the other. */
    readonly files: readonly string[];
    readonly joined: boolean;
    readonly headers: Readonly<Record<string, string>>;
}

/** The URL `parsed` downloads from, and the headers its requests carry (the user's token, to the Hub). */
async function sourceOf(parsed: RemoteReference, reference: string, options: ResolveModelSourceOptions): Promise<{url: string; headers: Readonly<Record<string, string>>}> {
    if (parsed.kind === "http") return {url: parsed.url, headers: {}};
    const access = options.huggingFace ?? await huggingFaceAccess();
    const url = await resolveHuggingFaceUrl(parsed.file, display(reference), access, options.signal);
    return {url, headers: huggingFaceHeaders(url, access)};
}

/** A model cut into byte ranges (NAME.gguf.part1of3), the parts to be joined into one file. */
const BINARY_SPLIT_PART = /\.gguf\.part(\d{1,5})of(\d{1,5})$/i;

/**
 * What to fetch for `url`: the file itself; every part of a model split into GGUF files when it
 * names the first (NAME-00001-of-0000N.gguf), under the names llama.cpp looks for; or every byte
 * range of a model cut into parts, whichever part it names, as node-llama-cpp joins them.
 */
function downloadPlan(url: string, target: string, headers: Readonly<Record<string, string>>): DownloadPlan {
    const name = new URL(url).pathname.split("/").pop()!;
    const withName = (part: string) => {
        const next = new URL(url);
        next.pathname = next.pathname.slice(0, next.pathname.length - name.length) + part;
        return next.href;
    };
    const staging = stagingPath(target);
    const range = BINARY_SPLIT_PART.exec(name);
    const [part, count] = range ? [Number(range[1]), Number(range[2])] : [0, 0];
    if (range && part >= 1 && part <= count && count <= MAX_SPLIT_COUNT) {
        const stem = name.slice(0, range.index);
        const urls = Array.from({length: count}, (_, i) => withName(`${stem}.gguf.part${String(i + 1).padStart(range[1]!.length, "0")}of${range[2]}`));
        return {urls, files: urls.map(() => staging), joined: true, headers};
    }
    const split = parseSplitPartPath(name);
    if (split?.index === 0 && split.count > 1)
        return {urls: splitPartPaths(split.prefix, split.count).map(withName), files: splitPartPaths(stripGguf(staging), split.count), joined: false, headers};
    return {urls: [url], files: [staging], joined: false, headers};
}

/** Brings the model `plan` describes into its staging file(s), checks it and gives it its final name. */
async function download(plan: DownloadPlan, job: DownloadJob): Promise<string> {
    const {reference, target, progress, options} = job;
    const announcedBytes = await preflight(plan.urls[0]!, plan.headers, reference, options.signal);
    await transferAll(plan, job);
    const file = plan.files[0]!;
    if (!(await hasGgufMagic(file))) {
        await removeDownload(file);
        throw notGguf(reference, "the downloaded file does not start with \"GGUF\"; deleted it");
    }
    // The first request's size is the entry file's, except where the parts are joined into it.
    await checkDownload(file, reference, progress.totalBytes, plan.joined ? null : announcedBytes);
    return promote(file, target);
}

/**
 * Runs the plan's transfers one after the other (src/net/transfer.ts, which says why not ipull).
 * A failed or cancelled transfer removes every staging file: nothing is left behind.
 */
async function transferAll(plan: DownloadPlan, {reference, cacheDir, progress, options}: DownloadJob): Promise<void> {
    const count = plan.urls.length;
    let received = 0; // by the parts already complete
    for (let i = 0; i < count; i++) {
        try {
            received += await transferToFile(plan.urls[i]!, plan.files[i]!, {
                signal: options.signal,
                stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS,
                headers: plan.headers,
                append: plan.joined && i > 0,
                // The total is known once the last part has said its size.
                onProgress: ({downloadedBytes, totalBytes}) => progress.update(received + downloadedBytes, i === count - 1 && totalBytes !== null ? received + totalBytes : 0)
            });
        } catch (error) {
            await Promise.all([...new Set(plan.files.slice(0, i + 1))].map(removeQuietly));
            throw error instanceof CancelledError ? error : downloadError(error, reference, cacheDir);
        }
    }
}

/** Where a download of `target` is written until it has been checked. */
function stagingPath(target: string): string {
    return `${stripGguf(target)}.download.gguf`;
}

/**
 * Checks a finished download before it gets its final name: its size against the server's
 * announcements (`totalBytes`, all parts together, as the downloader was told; `entryBytes`, the
 * entry file's, from the first check's range request) and its GGUF structure and tensor bounds,
 * which catch a file cut short that the server sent as complete. A file that fails is set aside.
 */
async function checkDownload(file: string, reference: string, totalBytes: number | null, entryBytes: number | null): Promise<void> {
    const sizes = await Promise.all(modelFiles(file).map((part) => stat(part).then((info) => info.size, () => 0)));
    const received = sizes.reduce((a, b) => a + b, 0);
    const short = totalBytes !== null && received !== totalBytes ? {received, expected: totalBytes}
        : entryBytes !== null && sizes[0] !== entryBytes ? {received: sizes[0]!, expected: entryBytes} : null;
    if (short) {
        const aside = await setAside(file);
        throw new InvalidInputError(`download of ${display(reference)} is incomplete: received ${short.received} of the ${short.expected} bytes the server announced; set aside as ${aside}`);
    }
    try {
        await validateGgufModel(file);
    } catch (error) {
        if (!(error instanceof InvalidGgufError)) throw error;
        const aside = await setAside(file);
        throw new InvalidInputError(`model is corrupt: downloaded from ${display(reference)}: ${error.problem}; set aside as ${aside}`);
    }
}

/** Gives a checked download its final name; a split model's entry part last, as its presence means "cached". */
async function promote(staging: string, target: string): Promise<string> {
    const split = parseSplitPartPath(staging);
    if (split === null) {
        await rename(staging, target);
        return target;
    }
    const from = splitPartPaths(split.prefix, split.count);
    const to = splitPartPaths(stripGguf(target), split.count);
    for (let i = split.count - 1; i >= 0; i--) await rename(from[i]!, to[i]!);
    return to[0]!;
}

/** Throttles the transfers' progress events and keeps the byte count from going backwards. */
class ProgressForwarder {
    private downloaded = 0;
    private total: number | null = null;
    private lastEmit = -Infinity;

    constructor(private readonly file: string, private readonly callback: ResolveModelSourceOptions["onProgress"]) {}

    /** The size the downloader was told, all files together; null until it knows. */
    get totalBytes(): number | null {
        return this.total;
    }

    /** Returns whether bytes arrived since the last event. */
    update(downloadedBytes: number, totalBytes: number): boolean {
        if (totalBytes > 0) this.total = totalBytes;
        const capped = this.total === null ? downloadedBytes : Math.min(downloadedBytes, this.total);
        const advanced = capped > this.downloaded;
        if (advanced) this.downloaded = capped;
        const now = performance.now();
        if (now - this.lastEmit >= PROGRESS_INTERVAL_MS) {
            this.lastEmit = now;
            this.emit({downloadedBytes: this.downloaded, totalBytes: this.total, file: this.file});
        }
        return advanced;
    }

    /** The final event: the whole file. */
    async finish(file: string): Promise<string> {
        if (this.callback) {
            let size: number;
            try {
                size = (await stat(file)).size;
            } catch {
                size = this.downloaded;
            }
            this.emit({downloadedBytes: Math.max(size, this.downloaded), totalBytes: Math.max(size, this.downloaded), file});
        }
        return file;
    }

    private emit(progress: ModelDownloadProgress): void {
        try {
            this.callback?.(progress);
        } catch {
            // A failing progress display must not break the download.
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Errors

function httpError(status: number, statusText: string, reference: string): InvalidInputError {
    if (status === 404 || status === 410) return new InvalidInputError(`model not found (HTTP ${status}): ${display(reference)}`);
    if (status === 401 || status === 403)
        return new InvalidInputError(`access denied (HTTP ${status}) to ${display(reference)}: the model may be gated or private`);
    return new InvalidInputError(`cannot download model ${display(reference)}: HTTP ${status}${statusText ? ` ${statusText}` : ""}`);
}

function notGguf(reference: string, why: string): InvalidInputError {
    return new InvalidInputError(`not a GGUF model file: ${display(reference)} (${why})`);
}

function downloadError(error: unknown, reference: string, cacheDir: string): InvalidInputError {
    if (error instanceof TransferStalledError) return new InvalidInputError(`download of ${display(reference)} ${error.message}`);
    if (error instanceof HttpStatusError) return httpError(error.status, error.statusText, reference);
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOSPC") return new InvalidInputError(`no space left in the model cache folder ${cacheDir} for ${display(reference)}`);
    if (code === "EACCES" || code === "EPERM" || code === "EROFS")
        return new InvalidInputError(`cannot write to the model cache folder ${cacheDir}: ${errorText(error)}`);
    return new InvalidInputError(`cannot download model ${display(reference)}: ${redactSecrets(networkErrorText(error))}`);
}

function errorText(error: unknown): string {
    const text = error instanceof Error ? error.message : String(error);
    return redactSecrets(text.split("\n")[0]!.trim()) || "unknown error";
}

/** The reference for a one-line message: no line breaks, no credentials or tokens, bounded length. */
function display(reference: string): string {
    const text = redactSecrets(reference.trim()).replace(/[\r\n\t]+/g, " ");
    return text.length > 300 ? `${text.slice(0, 297)}...` : text;
}
