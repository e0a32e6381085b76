/** The backend's strict message reader, on byte streams written by hand. */
import {strict as assert} from "node:assert";
import {PassThrough} from "node:stream";
import type {Message} from "vscode-languageserver/node";
import {FramingError, InvalidMessageError, StrictMessageReader, type FramingOptions} from "../../src/backend/framing.js";

function framed(body: Buffer | string): Buffer {
    const bytes = typeof body === "string" ? Buffer.from(body, "utf8") : body;
    return Buffer.concat([Buffer.from(`Content-Length: ${bytes.length}\r\n\r\n`, "ascii"), bytes]);
}

const request = (id: number) => ({jsonrpc: "2.0", id, method: "powerSampling/status"});
const message = (value: unknown) => framed(JSON.stringify(value));

/** A reader on a PassThrough, recording what it delivers and reports. */
function readerOn(options: FramingOptions = {}) {
    const input = new PassThrough();
    const reader = new StrictMessageReader(input, options);
    const delivered: Message[] = [];
    const errors: Error[] = [];
    let closed = false;
    reader.onError((error) => errors.push(error));
    reader.onClose(() => { closed = true; });
    reader.listen((m) => delivered.push(m));
    return {
        input, reader, delivered, errors,
        get closed() { return closed; },
        write: (bytes: Buffer | string) => input.write(bytes),
        framingErrors: () => errors.filter((e): e is FramingError => e instanceof FramingError),
        invalid: () => errors.filter((e): e is InvalidMessageError => e instanceof InvalidMessageError)
    };
}

/** Lets stream events that a write queued run. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

describe("StrictMessageReader", () => {
    describe("well-framed messages", () => {
        it("delivers one message written in one chunk", async () => {
            const r = readerOn();
            r.write(message(request(1)));
            await settle();
            assert.deepEqual(r.delivered, [request(1)]);
            assert.deepEqual(r.errors, []);
        });

        it("delivers a message written a byte at a time, once", async () => {
            const r = readerOn();
            for (const byte of message(request(2))) {
                r.write(Buffer.from([byte]));
                await settle();
            }
            assert.deepEqual(r.delivered, [request(2)]);
            assert.deepEqual(r.errors, []);
        });

        it("delivers several messages of one chunk in order, within the one data event", () => {
            const r = readerOn();
            const cancel = {jsonrpc: "2.0", method: "$/cancelRequest", params: {id: 3}};
            // A PassThrough in flowing mode emits data synchronously: nothing may be deferred.
            r.input.emit("data", Buffer.concat([message(request(3)), message(cancel), message(request(4))]));
            assert.deepEqual(r.delivered, [request(3), cancel, request(4)]);
        });

        it("holds a cancel that comes before its request and passes it on right after the request", () => {
            const r = readerOn();
            const early = {jsonrpc: "2.0", method: "$/cancelRequest", params: {id: 7}};
            r.input.emit("data", Buffer.concat([message(early), message(request(6)), message(request(7))]));
            assert.deepEqual(r.delivered, [request(6), request(7), early]);
        });

        it("counts Content-Length in bytes: a body of multi-byte characters split inside a character", async () => {
            const value = {jsonrpc: "2.0", method: "note", params: {text: "αβγ 😀 ∑"}};
            const bytes = message(value);
            const cut = bytes.indexOf(Buffer.from("😀")) + 2;
            const r = readerOn();
            r.write(bytes.subarray(0, cut));
            await settle();
            assert.deepEqual(r.delivered, []);
            r.write(bytes.subarray(cut));
            await settle();
            assert.deepEqual(r.delivered, [value]);
        });

        it("accepts Content-Type with charset utf-8, any header order and case, and ignores unknown headers", async () => {
            const r = readerOn();
            const body = JSON.stringify(request(5));
            r.write(`X-Trace: on\r\ncontent-type: application/vscode-jsonrpc; charset="UTF-8"\r\nCONTENT-LENGTH:${Buffer.byteLength(body)}\r\n\r\n${body}`);
            r.write(`Content-Length: ${Buffer.byteLength(body)}\r\nContent-Type: application/vscode-jsonrpc; charset=utf8\r\n\r\n${body}`);
            await settle();
            assert.deepEqual(r.delivered, [request(5), request(5)]);
            assert.deepEqual(r.errors, []);
        });

        it("takes a body of exactly the maximum size, written in many chunks", async () => {
            const params = {text: "x".repeat(300_000)};
            const bytes = message({jsonrpc: "2.0", method: "big", params});
            const max = bytes.length - bytes.indexOf("\r\n\r\n") - 4;
            const r = readerOn({maxMessageBytes: max});
            for (let at = 0; at < bytes.length; at += 16_384) r.write(bytes.subarray(at, at + 16_384));
            await settle();
            assert.equal(r.delivered.length, 1);
            assert.deepEqual((r.delivered[0] as {params?: unknown}).params, params);
            assert.deepEqual(r.errors, []);
        });
    });

    describe("answerable: reported, and reading goes on", () => {
        const cases: [string, Buffer, number, (number | string | null)?][] = [
            ["a body that is not JSON", framed("{not json"), -32700],
            ["an empty body", framed(""), -32700],
            ["a body that is not UTF-8", framed(Buffer.from([0x22, 0xc3, 0x28, 0x22])), -32700],
            ["a number", framed("42"), -32600],
            ["null", framed("null"), -32600],
            ["a batch", framed(JSON.stringify([request(1)])), -32600],
            ["an id that is an object", message({jsonrpc: "2.0", id: {}, method: "m"}), -32600],
            ["a method that is not a string, answered with its id", message({jsonrpc: "2.0", id: 8, method: 5}), -32600, 8],
            ["a response with neither result nor error", message({jsonrpc: "2.0", id: "r"}), -32600, "r"],
            ["an object that is neither request nor response", message({jsonrpc: "2.0"}), -32600],
            ["a charset other than UTF-8", Buffer.from("Content-Type: application/vscode-jsonrpc; charset=latin1\r\nContent-Length: 2\r\n\r\n{}", "ascii"), -32700]
        ];
        for (const [name, bytes, code, id = null] of cases) {
            it(`${name}: error ${code}, id ${JSON.stringify(id)}, then the next message`, async () => {
                const r = readerOn();
                r.write(Buffer.concat([bytes, message(request(9))]));
                await settle();
                assert.deepEqual(r.invalid().map((e) => e.toResponse()), [{jsonrpc: "2.0", id, error: {code, message: r.invalid()[0]?.message}}]);
                assert.deepEqual(r.framingErrors(), []);
                assert.deepEqual(r.delivered, [request(9)]);
                assert.equal(r.closed, false);
            });
        }

        it("a callback that throws is reported; the next message is still delivered", async () => {
            const input = new PassThrough();
            const reader = new StrictMessageReader(input);
            const errors: Error[] = [];
            const delivered: Message[] = [];
            reader.onError((error) => errors.push(error));
            reader.listen((m) => {
                if ((m as {id?: number}).id === 1) throw new TypeError("handler failed");
                delivered.push(m);
            });
            input.write(Buffer.concat([message(request(1)), message(request(2))]));
            await settle();
            assert.deepEqual(errors.map((e) => e.message), ["handler failed"]);
            assert.deepEqual(delivered, [request(2)]);
        });
    });

    describe("out of step: a FramingError, the reader closes and reads no more", () => {
        const cases: [string, string | Buffer, RegExp][] = [
            ["Content-Length not a number", "Content-Length: abc\r\n\r\n{}", /Content-Length must be a count of bytes, got "abc"/],
            ["Content-Length with trailing text", "Content-Length: 2x\r\n\r\n{}", /Content-Length must be a count of bytes/],
            ["Content-Length negative", "Content-Length: -1\r\n\r\n{}", /Content-Length must be a count of bytes/],
            ["Content-Length in exponent form", "Content-Length: 2e0\r\n\r\n{}", /Content-Length must be a count of bytes/],
            ["Content-Length empty", "Content-Length:\r\n\r\n{}", /Content-Length must be a count of bytes, got ""/],
            ["no Content-Length", "Content-Type: application/vscode-jsonrpc\r\n\r\n{}", /without a Content-Length/],
            ["an empty header section", "\r\n{}", /without a Content-Length/],
            ["two different Content-Lengths", "Content-Length: 2\r\nContent-Length: 3\r\n\r\n{}", /two different Content-Length headers: 2 and 3/],
            ["LF-only line ends", "Content-Length: 2\n\n{}", /bare LF/],
            ["a bare CR", "Content-Length: 2\rX\r\n\r\n{}", /bare CR/],
            ["a line without a colon", "Content-Length 2\r\n\r\n{}", /not "Name: value"/],
            ["a header name with a space", "Content Length: 2\r\n\r\n{}", /not "Name: value"/],
            ["a NUL byte", Buffer.from("Content-Length: 2\0\r\n\r\n{}", "latin1"), /not printable ASCII \(0x00/],
            ["a non-ASCII byte", Buffer.from("Content-Léngth: 2\r\n\r\n{}", "utf8"), /not printable ASCII/],
            ["a JSON body without any header", JSON.stringify(request(1)), /not "Name: value"/],
            ["a header section longer than 8 KiB", `X-Padding: ${"a".repeat(9000)}`, /no end of the header section in its first 8192 bytes/]
        ];
        for (const [name, bytes, pattern] of cases) {
            it(name, async () => {
                const r = readerOn();
                r.write(bytes);
                r.write(message(request(1)));
                await settle();
                assert.equal(r.framingErrors().length, 1, `errors: ${r.errors.map((e) => e.message).join("; ")}`);
                assert.match(r.framingErrors()[0]!.message, pattern);
                assert.equal(r.closed, true);
                assert.deepEqual(r.delivered, [], "nothing after the fault is read");
                assert.equal(r.input.listenerCount("data"), 0, "the reader let go of the stream");
            });
        }

        it("a Content-Length over the maximum is refused as soon as its header line is complete", async () => {
            const r = readerOn({maxMessageBytes: 1000});
            r.write("Content-Length: 1001\r\n");
            await settle();
            assert.match(r.framingErrors()[0]?.message ?? "", /a message of 1001 bytes exceeds the limit of 1000 bytes/);
            assert.equal(r.closed, true);
        });

        it("the default maximum is 64 MiB", async () => {
            const [atLimit, overLimit] = [readerOn(), readerOn()];
            atLimit.write(`Content-Length: ${64 * 1024 * 1024}\r\n\r\n`);
            overLimit.write(`Content-Length: ${64 * 1024 * 1024 + 1}\r\n`);
            await settle();
            assert.deepEqual(atLimit.errors, [], "64 MiB is waited for");
            atLimit.reader.dispose();
            assert.match(overLimit.framingErrors()[0]?.message ?? "", /a message of 67108865 bytes exceeds the limit of 64 MiB/);
        });

        it("a body shorter than its Content-Length, followed by the next message", async () => {
            const r = readerOn();
            r.write(Buffer.concat([Buffer.from("Content-Length: 20\r\n\r\n{}", "ascii"), message(request(2))]));
            await settle();
            assert.match(r.framingErrors()[0]?.message ?? "", /does not match its Content-Length \(20\)/);
            assert.deepEqual(r.delivered, []);
        });

        it("a body longer than its Content-Length: the rest is no header", async () => {
            const r = readerOn();
            r.write(Buffer.concat([Buffer.from("Content-Length: 2\r\n\r\n{\"a\":1}", "ascii"), message(request(2))]));
            await settle();
            assert.equal(r.invalid().length, 1, "the two bytes read as a body are answered");
            assert.match(r.framingErrors()[0]?.message ?? "", /not "Name: value"/);
            assert.deepEqual(r.delivered, []);
        });

        it("a message that stalls is given up after the stall timeout", async () => {
            const r = readerOn({stallTimeoutMs: 20});
            r.write("Content-Length: 10\r\n\r\n{\"a\"");
            await new Promise((resolve) => setTimeout(resolve, 100));
            await settle();
            assert.match(r.framingErrors()[0]?.message ?? "", /a message stalled: no byte of it for 0.02 s \(4 bytes pending\)/);
            assert.equal(r.closed, true);
        });

        it("a header that stalls is given up too", async () => {
            const r = readerOn({stallTimeoutMs: 20});
            r.write("Content-Len");
            await new Promise((resolve) => setTimeout(resolve, 100));
            await settle();
            assert.match(r.framingErrors()[0]?.message ?? "", /stalled/);
        });

        it("a message that keeps arriving is not stalled, however long it takes in all", async () => {
            // About 18 writes 20 ms apart: several stall timeouts in all, none without a byte.
            const r = readerOn({stallTimeoutMs: 100});
            const bytes = message(request(6));
            for (let at = 0; at < bytes.length; at += 4) {
                r.write(bytes.subarray(at, at + 4));
                await new Promise((resolve) => setTimeout(resolve, 20));
            }
            await settle();
            assert.deepEqual(r.errors, []);
            assert.deepEqual(r.delivered, [request(6)]);
        });

        it("no stall is watched between messages", async () => {
            const r = readerOn({stallTimeoutMs: 20});
            r.write(message(request(7)));
            await new Promise((resolve) => setTimeout(resolve, 100));
            await settle();
            assert.deepEqual(r.errors, []);
            assert.equal(r.closed, false);
        });
    });

    it("closes when the stream ends", async () => {
        const r = readerOn();
        r.input.end();
        await settle();
        assert.equal(r.closed, true);
        assert.deepEqual(r.errors, []);
    });

    it("reads nothing more once disposed", async () => {
        const r = readerOn();
        r.reader.dispose();
        r.write(message(request(1)));
        await settle();
        assert.deepEqual(r.delivered, []);
    });
});
