/**
 * One npm package at an exact version, fetched from the registry's tarball URL, checked against
 * its integrity hash, and unpacked: how packaging takes other platforms' llama.cpp builds and how
 * GPU support installs at run time, with no npm and no other request. Nothing unverified is
 * unpacked: the tarball lands under a temporary name and is hashed before it is kept.
 */
import {createHash, randomUUID} from "node:crypto";
import {createReadStream} from "node:fs";
import {chmod, mkdir, open, rename, rm, stat} from "node:fs/promises";
import path from "node:path";
import {pipeline} from "node:stream/promises";
import {createGunzip} from "node:zlib";
import {exists, isFile} from "../fs/files.js";
import {HttpStatusError, networkErrorText, TransferStalledError, transferToFile} from "../net/transfer.js";
import {CancelledError} from "../sampling/errors.js";

export interface NpmPackageSpec {
    /** "@node-llama-cpp/linux-x64-cuda" */
    readonly name: string;
    readonly version: string;
    /** Subresource integrity of the tarball, as in package-lock.json ("sha512-..."). */
    readonly integrity: string;
}

export const DEFAULT_REGISTRY = "https://registry.npmjs.org/";

export interface DownloadProgress {
    readonly downloadedBytes: number;
    /** null when the registry does not say. */
    readonly totalBytes: number | null;
}

export interface FetchTarballOptions {
    /** Where verified tarballs are kept; a tarball already there is used without any request. */
    readonly cacheDir: string;
    readonly registry?: string;
    readonly signal?: AbortSignal;
    /** Bytes received, at most ~10 calls a second and always a final one. */
    readonly onProgress?: (progress: DownloadProgress) => void;
    /** A download that receives no data for this long fails (60 s by default). */
    readonly stallTimeoutMs?: number;
}

const DEFAULT_STALL_TIMEOUT_MS = 60_000;

/** The registry's URL for the package's tarball: REGISTRY/@scope/name/-/name-VERSION.tgz. */
export function tarballUrl(spec: Pick<NpmPackageSpec, "name" | "version">, registry = DEFAULT_REGISTRY): string {
    const base = path.posix.basename(spec.name);
    return `${registry.replace(/\/+$/, "")}/${spec.name}/-/${base}-${spec.version}.tgz`;
}

/** `name@version`, for messages. */
export function describeSpec(spec: Pick<NpmPackageSpec, "name" | "version">): string {
    return `${spec.name}@${spec.version}`;
}

/** The path of the package's verified tarball in `options.cacheDir`, downloading it first if needed. */
export async function fetchTarball(spec: NpmPackageSpec, options: FetchTarballOptions): Promise<string> {
    const {signal} = options;
    if (signal?.aborted) throw new CancelledError();
    const target = path.join(options.cacheDir, `${spec.name.replace(/^@/, "").replace("/", "+")}-${spec.version}.tgz`);
    if (await isFile(target)) {
        if (await hashOf(target, spec.integrity) === spec.integrity) {
            const {size} = await stat(target);
            options.onProgress?.({downloadedBytes: size, totalBytes: size});
            return target;
        }
        await rm(target, {force: true});
    }
    await mkdir(options.cacheDir, {recursive: true});
    const partial = `${target}.${process.pid}-${randomUUID()}.partial`;
    try {
        await download(tarballUrl(spec, options.registry), partial, spec, options);
        const actual = await hashOf(partial, spec.integrity);
        if (actual !== spec.integrity)
            throw new Error(`${describeSpec(spec)} from the registry does not match its integrity hash (expected ${spec.integrity}, got ${actual}); nothing was installed`);
        await rename(partial, target);
    } finally {
        await rm(partial, {force: true});
    }
    return target;
}

async function download(url: string, file: string, spec: NpmPackageSpec, options: FetchTarballOptions): Promise<void> {
    try {
        await transferToFile(url, file, {signal: options.signal, stallTimeoutMs: options.stallTimeoutMs ?? DEFAULT_STALL_TIMEOUT_MS, onProgress: options.onProgress});
    } catch (error) {
        if (error instanceof CancelledError) throw error;
        if (error instanceof TransferStalledError) throw new Error(`download of ${describeSpec(spec)} ${error.message}`);
        if (error instanceof HttpStatusError) throw new Error(`cannot download ${describeSpec(spec)} from ${url}: ${error.message}`);
        throw new Error(`cannot download ${describeSpec(spec)} from ${url}: ${networkErrorText(error)}`);
    }
}

export type InstallPackagesOptions = FetchTarballOptions;

/**
 * Fetches the packages (at once) and unpacks each into NODE_MODULES/NAME, as npm lays them out;
 * returns their folders. Progress adds up the downloads; its total is known once every download
 * has said its size.
 */
export async function installPackages(specs: readonly NpmPackageSpec[], nodeModules: string, options: InstallPackagesOptions): Promise<string[]> {
    const received = specs.map((): DownloadProgress => ({downloadedBytes: 0, totalBytes: null}));
    const report = (index: number, progress: DownloadProgress) => {
        received[index] = progress;
        const totals = received.map((item) => item.totalBytes);
        options.onProgress?.({
            downloadedBytes: received.reduce((sum, item) => sum + item.downloadedBytes, 0),
            totalBytes: totals.every((total) => total !== null) ? totals.reduce((sum, total) => sum! + total!, 0) : null
        });
    };
    // The first failure stops the other downloads; they have cleaned up when this returns.
    const stop = new AbortController();
    const signal = options.signal ? AbortSignal.any([options.signal, stop.signal]) : stop.signal;
    let failure: {error: unknown} | undefined;
    const results = await Promise.allSettled(specs.map((spec, index) =>
        fetchTarball(spec, {...options, signal, onProgress: (progress) => report(index, progress)}).catch((error: unknown) => {
            failure ??= {error};
            stop.abort();
            throw error;
        })));
    if (failure) throw failure.error;
    const tarballs = results.map((result) => (result as PromiseFulfilledResult<string>).value);
    const folders = specs.map((spec) => path.join(nodeModules, ...spec.name.split("/")));
    for (const [index, folder] of folders.entries()) {
        await mkdir(path.dirname(folder), {recursive: true});
        await extractTarball(tarballs[index]!, folder);
    }
    return folders;
}

/** The file's digest in subresource-integrity form, with the algorithm `integrity` names. */
async function hashOf(file: string, integrity: string): Promise<string> {
    const algorithm = integrity.slice(0, integrity.indexOf("-"));
    const hash = createHash(algorithm);
    await pipeline(createReadStream(file), hash);
    return `${algorithm}-${hash.digest("base64")}`;
}

/**
 * Unpacks a package tarball into the folder `target`, dropping the "package/" folder npm wraps
 * everything in. Files and folders only: links and other entries are refused, as are paths that
 * would leave `target`. Unpacked beside `target` and renamed into place, so `target` is either
 * absent or complete; when another process completed it first, its copy stays.
 */
export async function extractTarball(tarball: string, target: string): Promise<void> {
    const partial = `${target}.${process.pid}-${randomUUID()}.partial`;
    await mkdir(partial, {recursive: true});
    try {
        await untar(createReadStream(tarball).pipe(createGunzip()), partial);
        try {
            await rename(partial, target);
        } catch (error) {
            if (!(await exists(target))) throw error;
        }
    } finally {
        await rm(partial, {recursive: true, force: true});
    }
}

const BLOCK = 512;

async function untar(input: AsyncIterable<Buffer>, dir: string): Promise<void> {
    const reader = new ChunkReader(input[Symbol.asyncIterator]());
    let nextPath: string | null = null;
    for (;;) {
        const header = await reader.exactly(BLOCK);
        if (header.every((byte) => byte === 0)) return;
        const size = octal(header, 124, 12);
        const type = String.fromCharCode(header[156]!);
        const padded = Math.ceil(size / BLOCK) * BLOCK;
        if (type === "x" || type === "L") {
            // A pax header ("path=...") or a GNU long name: the name of the next entry.
            const body = (await reader.exactly(padded)).subarray(0, size).toString("utf8");
            nextPath = type === "L" ? body.replace(/\0+$/, "") : paxPath(body) ?? nextPath;
            continue;
        }
        if (type === "g") {
            await reader.exactly(padded);
            continue;
        }
        const prefix = text(header, 345, 155);
        const name = nextPath ?? (prefix ? `${prefix}/${text(header, 0, 100)}` : text(header, 0, 100));
        nextPath = null;
        const relative = name.split("/").slice(1).join("/");
        const destination = path.resolve(dir, relative);
        if (relative !== "" && !destination.startsWith(dir + path.sep)) throw new Error(`the tarball's entry ${JSON.stringify(name)} points outside its folder`);
        if (type === "5") {
            await mkdir(destination, {recursive: true});
        } else if (type === "0" || type === "\0") {
            await mkdir(path.dirname(destination), {recursive: true});
            const file = await open(destination, "w");
            try {
                let left = size;
                while (left > 0) {
                    const piece = await reader.some(left);
                    await file.write(piece);
                    left -= piece.length;
                }
            } finally {
                await file.close();
            }
            await chmod(destination, octal(header, 100, 8) & 0o111 ? 0o755 : 0o644);
            await reader.exactly(padded - size);
        } else {
            throw new Error(`the tarball's entry ${JSON.stringify(name)} is not a file or folder (type ${JSON.stringify(type)})`);
        }
    }
}

function text(block: Buffer, offset: number, length: number): string {
    const field = block.subarray(offset, offset + length);
    const end = field.indexOf(0);
    return field.subarray(0, end < 0 ? length : end).toString("utf8");
}

function octal(block: Buffer, offset: number, length: number): number {
    const digits = text(block, offset, length).trim();
    return digits === "" ? 0 : parseInt(digits, 8);
}

/** The "path" record of a pax header: lines "LENGTH path=VALUE\n". */
function paxPath(body: string): string | null {
    for (const line of body.split("\n")) {
        const match = /^\d+ path=(.*)$/.exec(line);
        if (match) return match[1]!;
    }
    return null;
}

/** Reads exact byte counts from a stream of chunks. */
class ChunkReader {
    private pending: Buffer = Buffer.alloc(0);

    constructor(private readonly chunks: AsyncIterator<Buffer>) {}

    /** Between 1 and `max` bytes. */
    async some(max: number): Promise<Buffer> {
        if (this.pending.length === 0) {
            const next = await this.chunks.next();
            if (next.done) throw new Error("the tarball ends in the middle of an entry");
            this.pending = next.value;
        }
        const piece = this.pending.subarray(0, max);
        this.pending = this.pending.subarray(piece.length);
        return piece;
    }

    async exactly(bytes: number): Promise<Buffer> {
        const pieces: Buffer[] = [];
        let length = 0;
        while (length < bytes) {
            const piece = await this.some(bytes - length);
            pieces.push(piece);
            length += piece.length;
        }
        return Buffer.concat(pieces, bytes);
    }
}
