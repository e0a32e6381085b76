/** A fake npm registry on 127.0.0.1 serving tarballs written here, and their integrity hashes. */
import {createHash} from "node:crypto";
import http from "node:http";
import type {AddressInfo} from "node:net";
import {gzipSync} from "node:zlib";
import {tarballUrl, type NpmPackageSpec} from "../../src/llama/npm-package.js";

export interface TarEntry {
    /** As in an npm tarball: "package/..." */
    readonly path: string;
    readonly type?: "file" | "folder" | "symlink";
    readonly content?: string | Buffer;
    readonly mode?: number;
    /** Write the path as a pax header record instead of the name field. */
    readonly pax?: boolean;
}

/** A gzipped ustar archive. */
export function tarball(entries: readonly TarEntry[]): Buffer {
    const blocks: Buffer[] = [];
    for (const entry of entries) {
        const content = Buffer.from(entry.content ?? "");
        if (entry.pax) {
            const record = paxRecord("path", entry.path);
            blocks.push(header("PaxHeader", "x", record.length, 0o644), pad(record));
        }
        const type = entry.type === "folder" ? "5" : entry.type === "symlink" ? "2" : "0";
        blocks.push(header(entry.pax ? "placeholder" : entry.path, type, type === "0" ? content.length : 0, entry.mode ?? 0o644));
        if (type === "0") blocks.push(pad(content));
    }
    blocks.push(Buffer.alloc(1024));
    return gzipSync(Buffer.concat(blocks));
}

export function integrityOf(data: Buffer): string {
    return `sha512-${createHash("sha512").update(data).digest("base64")}`;
}

function header(name: string, type: string, size: number, mode: number): Buffer {
    const block = Buffer.alloc(512);
    block.write(name, 0, 100, "utf8");
    block.write(mode.toString(8).padStart(7, "0"), 100);
    block.write("0000000", 108);
    block.write("0000000", 116);
    block.write(size.toString(8).padStart(11, "0"), 124);
    block.write("00000000000", 136);
    block.write(type, 156);
    block.write("ustar\u000000", 257, "latin1");
    block.fill(" ", 148, 156);
    let sum = 0;
    for (const byte of block) sum += byte;
    block.write(`${sum.toString(8).padStart(6, "0")}\u0000 `, 148, "latin1");
    return block;
}

function paxRecord(key: string, value: string): Buffer {
    const body = ` ${key}=${value}\n`;
    let length = Buffer.byteLength(body) + 1;
    while (`${length}${body}`.length !== length) length = Buffer.byteLength(`${length}${body}`);
    return Buffer.from(`${length}${body}`);
}

function pad(data: Buffer): Buffer {
    return Buffer.concat([data, Buffer.alloc((512 - (data.length % 512)) % 512)]);
}

/** Serves each published package's tarball at its registry URL; counts requests per path. */
export class FakeRegistry {
    readonly requests = new Map<string, number>();
    /** Paths that send half their body and then nothing. */
    readonly stalling = new Set<string>();
    private readonly files = new Map<string, Buffer>();
    private readonly server = http.createServer((request, response) => this.handle(request, response));

    get url(): string {
        return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}/`;
    }

    get total(): number {
        return [...this.requests.values()].reduce((sum, count) => sum + count, 0);
    }

    /** Serves `data` as the package's tarball; the spec carries `data`'s integrity unless one is given. */
    publish(name: string, version: string, data: Buffer, integrity = integrityOf(data)): NpmPackageSpec {
        this.files.set(new URL(tarballUrl({name, version}, "http://registry")).pathname, data);
        return {name, version, integrity};
    }

    pathOf(spec: Pick<NpmPackageSpec, "name" | "version">): string {
        return new URL(tarballUrl(spec, "http://registry")).pathname;
    }

    async start(): Promise<void> {
        await new Promise<void>((resolve) => this.server.listen(0, "127.0.0.1", resolve));
    }

    async stop(): Promise<void> {
        this.server.closeAllConnections();
        await new Promise<void>((resolve) => this.server.close(() => resolve()));
    }

    private handle(request: http.IncomingMessage, response: http.ServerResponse): void {
        const urlPath = decodeURIComponent(new URL(request.url!, "http://registry").pathname);
        this.requests.set(urlPath, (this.requests.get(urlPath) ?? 0) + 1);
        const data = this.files.get(urlPath);
        if (!data) {
            response.writeHead(404, "Not Found").end();
            return;
        }
        response.writeHead(200, {"content-type": "application/octet-stream", "content-length": data.length});
        if (this.stalling.has(urlPath)) response.write(data.subarray(0, data.length >> 1));
        else response.end(data);
    }
}
