/**
 * Framing garbage on the backend's stdin (`power-sampling serve --stdio`, a real process): what
 * keeps the byte stream in step is answered and the backend keeps serving; what does not ends
 * the process with one line on stderr, so that the client sees it gone instead of a silent hang.
 */
import {strict as assert} from "node:assert";
import {frame, RawBackend} from "../support/backend.js";
import {buildCli} from "../support/cli.js";

const PARSE_ERROR = -32700;
const INVALID_REQUEST = -32600;

/** A well-framed body: the right Content-Length for these bytes. */
function framedBody(body: Buffer | string): Buffer {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, "ascii"), bytes]);
}

const statusRequest = (id: string) => frame({jsonrpc: "2.0", id, method: "powerSampling/status"});

describe("backend framing: answer or close, never deaf (serve --stdio)", function () {
    this.timeout(60_000);
    let backend: RawBackend | undefined;

    before(async function () {
        this.timeout(180_000);
        await buildCli();
    });
    afterEach(() => backend?.kill());

    /** The process ended by itself with a non-zero code and said why on stderr. */
    async function assertClosed(pattern: RegExp): Promise<void> {
        const {code, signal} = await backend!.exited;
        assert.equal(signal, null, `killed by ${signal}; stderr:\n${backend!.stderr}`);
        assert.notEqual(code, 0, "a framing error is a failure");
        const lines = backend!.stderr.split("\n").filter((line) => line.startsWith("power-sampling: "));
        assert.equal(lines.length, 1, `one line on stderr, got:\n${backend!.stderr}`);
        assert.match(lines[0]!, /^power-sampling: framing error on stdin: /);
        assert.match(lines[0]!, pattern);
    }

    describe("answered, and the backend keeps serving", () => {
        const answered: [string, Buffer, number][] = [
            ["a body that is not JSON", framedBody("{this is not json"), PARSE_ERROR],
            ["an empty body", framedBody(""), PARSE_ERROR],
            ["a body that is not UTF-8", framedBody(Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), PARSE_ERROR],
            ["JSON that is not a message (a number)", framedBody("42"), INVALID_REQUEST],
            ["a batch (JSON-RPC arrays are not supported)", framedBody(JSON.stringify([{jsonrpc: "2.0", id: 7, method: "powerSampling/status"}])), INVALID_REQUEST],
            ["a charset other than UTF-8", Buffer.from("Content-Length: 2\r\nContent-Type: application/vscode-jsonrpc; charset=latin1\r\n\r\n{}", "ascii"), PARSE_ERROR]
        ];
        for (const [name, bytes, code] of answered) {
            it(`${name}: error ${code} with id null`, async () => {
                backend = await RawBackend.start();
                backend.write(Buffer.concat([bytes, statusRequest("after")]));
                const answer = await backend.response(null);
                assert.equal(answer.error?.code, code, JSON.stringify(answer));
                assert.ok(await backend.serves("after"), "the next request is answered");
                assert.equal(backend.process.exitCode, null);
            });
        }

        it("several bad bodies in one write, each answered in order, then served", async () => {
            backend = await RawBackend.start();
            backend.write(Buffer.concat([framedBody("nope"), framedBody("[]"), framedBody("{"), statusRequest("after")]));
            const codes = await Promise.all([0, 1, 2].map(async (nth) => (await backend!.response(null, nth)).error?.code));
            assert.deepEqual(codes, [PARSE_ERROR, INVALID_REQUEST, PARSE_ERROR]);
            assert.ok(await backend.serves("after"));
        });

        it("a request that arrives a byte at a time is served", async () => {
            backend = await RawBackend.start();
            for (const byte of statusRequest("slow")) {
                backend.write(Buffer.from([byte]));
                await new Promise((resolve) => setImmediate(resolve));
            }
            assert.ok((await backend.response("slow")).result !== undefined);
        });

        it("a $/cancelRequest without params does not take the backend down", async () => {
            backend = await RawBackend.start();
            backend.write(Buffer.concat([frame({jsonrpc: "2.0", method: "$/cancelRequest"}), frame({jsonrpc: "2.0", method: "$/cancelRequest", params: {}})]));
            assert.ok(await backend.serves("after"));
        });
    });

    describe("the stream cannot be trusted: one line on stderr, non-zero exit", () => {
        const closing: [string, string | Buffer, RegExp][] = [
            ["a Content-Length that is not a number", "Content-Length: abc\r\n\r\n{}", /Content-Length/],
            ["a Content-Length with trailing garbage (parseInt would read 12)", "Content-Length: 12abc\r\n\r\n{}", /Content-Length/],
            ["a negative Content-Length", "Content-Length: -5\r\n\r\n{}", /Content-Length/],
            ["no Content-Length", "Content-Type: application/vscode-jsonrpc; charset=utf-8\r\n\r\n{}", /Content-Length/],
            ["two different Content-Lengths", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", /Content-Length/],
            ["LF-only header lines", "Content-Length: 2\n\n{}", /CRLF/],
            ["a header line without a colon", "Content-Length 2\r\n\r\n{}", /header/],
            ["binary garbage instead of a header", Buffer.from([0x00, 0x01, 0x02, 0x0d, 0x0a, 0x0d, 0x0a]), /header/],
            ["a header section that never ends", `X-Padding: ${"a".repeat(70_000)}`, /header/]
        ];
        for (const [name, bytes, pattern] of closing) {
            it(name, async () => {
                backend = await RawBackend.start();
                backend.write(bytes);
                await assertClosed(pattern);
            });
        }

        it("a body shorter than its Content-Length, followed by another message", async () => {
            backend = await RawBackend.start();
            const next = statusRequest("next");
            // The first body claims 20 more bytes than it has: they come out of the next message.
            backend.write(Buffer.concat([Buffer.from("Content-Length: 22\r\n\r\n{}", "ascii"), next]));
            await assertClosed(/Content-Length/);
        });

        it("a Content-Length over the limit is refused before its body is read", async () => {
            backend = await RawBackend.start();
            // Nothing of the body is ever sent: waiting for it would hang.
            backend.write(`Content-Length: ${64 * 1024 * 1024 + 1}\r\n\r\n`);
            await assertClosed(/67108865.*64 MiB|limit/);
        });

        it("a message that starts and stalls is given up after the time limit", async () => {
            backend = await RawBackend.start();
            backend.write("Content-Length: 100\r\n\r\n{\"jsonrpc\":");
            await assertClosed(/stalled|incomplete|time/);
        });

        it("framing garbage before initialize closes too", async () => {
            backend = await RawBackend.start({initialize: false});
            backend.write("GET / HTTP/1.1\r\nHost: localhost\r\n\r\n");
            await assertClosed(/not "Name: value": "GET \/ HTTP\/1\.1"/);
        });
    });

    it("a clean end of stdin still exits 0", async () => {
        backend = await RawBackend.start();
        backend.process.stdin!.end();
        assert.deepEqual(await backend.exited, {code: 0, signal: null});
    });
});
