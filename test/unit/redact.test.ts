import {strict as assert} from "node:assert";
import {redactSecrets} from "../../src/backend/redact.js";

describe("redactSecrets", () => {
    const cases: [string, string][] = [
        ["https://user:hunter2@example.com/m.gguf", "https://***@example.com/m.gguf"],
        // A user name alone can be a token (https://TOKEN@host).
        ["http://ghp_abc123@127.0.0.1:8080/m.gguf", "http://***@127.0.0.1:8080/m.gguf"],
        ["https://example.com/m.gguf?token=s3cr3t", "https://example.com/m.gguf?token=***"],
        ["https://example.com/m.gguf?v=2&sig=abc%2Fdef&se=2030", "https://example.com/m.gguf?v=2&sig=***&se=2030"],
        ["https://b.s3.amazonaws.com/m.gguf?X-Amz-Credential=AKIA%2F1&X-Amz-Signature=f00&X-Amz-Security-Token=t0k", "https://b.s3.amazonaws.com/m.gguf?X-Amz-Credential=***&X-Amz-Signature=***&X-Amz-Security-Token=***"],
        ["https://example.com/m.gguf?access_token=a&api_key=b&password=c#frag", "https://example.com/m.gguf?access_token=***&api_key=***&password=***#frag"],
        ["cannot download model https://u:p@h/x.gguf?token=t: HTTP 404", "cannot download model https://***@h/x.gguf?token=***: HTTP 404"],
        ["Authorization: Bearer eyJhbGciOi.x-y_z", "Authorization: Bearer ***"],
        ["invalid token hf_AbCdEfGhIjKlMnOpQrStUvWxYz012345 for repo", "invalid token hf_*** for repo"],
    ];
    for (const [text, expected] of cases) {
        it(`masks ${JSON.stringify(text)}`, () => {
            assert.equal(redactSecrets(text), expected);
        });
    }

    it("leaves text without secrets as it is", () => {
        for (const text of [
            "https://huggingface.co/user/repo/resolve/main/model.gguf?download=true",
            "hf:user/repo:Q4_K_M",
            "/home/me/models/model.gguf",
            "model not found (HTTP 404): https://example.com/m.gguf?v=2",
            "a?b=&token=",
        ]) assert.equal(redactSecrets(text), text);
    });
});
