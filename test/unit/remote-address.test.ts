import {strict as assert} from "node:assert";
import {isLoopback, parseServerUrl, parseServerUrls} from "../../src/remote/address.js";
import {InvalidInputError} from "../../src/protocol/errors.js";

describe("remote engines: server addresses", () => {
    it("keeps scheme, host, port and path prefix, without a trailing slash", () => {
        assert.equal(parseServerUrl("http://127.0.0.1:8080/"), "http://127.0.0.1:8080");
        assert.equal(parseServerUrl(" https://gpu.example.org/llama/ "), "https://gpu.example.org/llama");
        assert.equal(parseServerUrl("http://LOCALHOST:1"), "http://localhost:1");
    });

    it("loopback is localhost, 127.0.0.0/8 and ::1 (also IPv4-mapped), nothing else", () => {
        for (const host of ["localhost", "api.localhost", "127.0.0.1", "127.9.8.7", "[::1]", "::1", "[::ffff:7f00:1]"]) assert.ok(isLoopback(host), host);
        for (const host of ["10.0.0.1", "192.168.1.2", "example.org", "[::2]", "[::ffff:a00:1]", "127.example.org"]) assert.ok(!isLoopback(host), host);
        assert.ok(isLoopback(new URL("http://[::ffff:127.0.0.1]/").hostname));
    });

    it("refuses plain http to another machine without the opt-in, naming it", () => {
        assert.throws(() => parseServerUrl("http://10.1.2.3:8080"), /refusing to send prompts over plain http to 10\.1\.2\.3:8080.*--allow-plain-http/);
        assert.throws(() => parseServerUrl("http://gpu.lan", {optIn: "the allowPlainHttp option"}), /the allowPlainHttp option/);
        assert.equal(parseServerUrl("http://10.1.2.3:8080", {allowPlainHttp: true}), "http://10.1.2.3:8080");
        assert.equal(parseServerUrl("https://10.1.2.3:8080"), "https://10.1.2.3:8080");
    });

    it("refuses what is not a server address, with one line that says why", () => {
        const cases: [string, RegExp][] = [
            ["", /is not a URL/],
            ["127.0.0.1:8080", /must be an http:\/\/ or https:\/\/ URL|is not a URL/],
            ["ftp://127.0.0.1", /must be an http:\/\/ or https:\/\/ URL, not ftp:/],
            ["http://user:secret@127.0.0.1:8080", /no credentials in the URL/],
            ["http://127.0.0.1:8080/?x=1", /no query or fragment/]
        ];
        for (const [text, message] of cases) {
            assert.throws(() => parseServerUrl(text), (error: Error) => error instanceof InvalidInputError && message.test(error.message) && !error.message.includes("\n")
                && !error.message.includes("secret"), text);
        }
    });

    it("a list: each checked, none twice", () => {
        assert.deepEqual(parseServerUrls(["http://127.0.0.1:1", "http://127.0.0.1:2/"]), ["http://127.0.0.1:1", "http://127.0.0.1:2"]);
        assert.throws(() => parseServerUrls(["http://127.0.0.1:1", "http://127.0.0.1:1/"]), /given twice/);
        assert.throws(() => parseServerUrls([]), /no server given/);
    });
});
