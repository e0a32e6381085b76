/** The extension's server pieces: the API key in a secret store, the status bar's words for a server, names. */
import {strict as assert} from "node:assert";
import {engineName, serverName} from "../../src/extension/names.js";
import {apiKeyProblem, SERVER_API_KEY_SECRET, type SecretStore, serverApiKey, setServerApiKey} from "../../src/extension/server-key.js";
import {statusView} from "../../src/extension/status-view.js";
import type {BackendStatus, RemoteStatus} from "../../src/protocol/backend.js";

/** SecretStorage as a map. */
class FakeSecrets implements SecretStore {
    readonly entries = new Map<string, string>();

    async get(key: string): Promise<string | undefined> {
        return this.entries.get(key);
    }

    async store(key: string, value: string): Promise<void> {
        this.entries.set(key, value);
    }

    async delete(key: string): Promise<void> {
        this.entries.delete(key);
    }
}

const idle: BackendStatus = {state: "idle", model: null, server: null, progress: null, compute: null, contextSize: null, modelBytes: null, queueLength: 0, running: null, error: null};
const url = "http://127.0.0.1:8080";
const ready: RemoteStatus = {urls: [url], ready: true, model: "qwen2.5-7b-instruct-q4_k_m.gguf", engine: "llama-server b7000 (80fb11a)", slots: 4,
    summary: "llama-server 127.0.0.1:8080 · qwen2.5-7b-instruct-q4_k_m.gguf · 4 slots", error: null};

describe("the extension's server pieces", () => {
    it("the API key: stored trimmed under one name, removed when empty, one word only", async () => {
        const secrets = new FakeSecrets();
        assert.equal(await serverApiKey(secrets), undefined);
        assert.equal(await setServerApiKey(secrets, "  sesame-3141 "), "stored");
        assert.deepEqual([...secrets.entries], [[SERVER_API_KEY_SECRET, "sesame-3141"]]);
        assert.equal(await serverApiKey(secrets), "sesame-3141");
        assert.equal(await setServerApiKey(secrets, ""), "removed");
        assert.equal(await serverApiKey(secrets), undefined);
        assert.equal(apiKeyProblem("two words"), "An API key is one word: no spaces or line breaks.");
        assert.equal(apiKeyProblem("a\nb"), "An API key is one word: no spaces or line breaks.");
        assert.equal(apiKeyProblem(" padded "), null);
        await assert.rejects(setServerApiKey(secrets, "a b"), /one word/);
        assert.equal(secrets.entries.size, 0);
    });

    it("names: a server by its host, a job's engine by the server's model once known", () => {
        assert.equal(serverName("https://gpu-box:8443/llama"), "gpu-box:8443");
        assert.equal(serverName("http://[::1]:8080"), "[::1]:8080");
        assert.equal(engineName({model: "/m/a.gguf", server: ""}, "ignored.gguf"), "a");
        assert.equal(engineName({model: "", server: url}, null), "127.0.0.1:8080");
        assert.equal(engineName({model: "/m/a.gguf", server: url}, "qwen.gguf"), "qwen @ 127.0.0.1:8080");
    });

    describe("the status bar", () => {
        const configured = {model: "", server: url};

        it("before the backend starts: the server set, not a missing model", () => {
            const view = statusView({state: "stopped", error: null}, null, configured);
            assert.deepEqual([view.icon, view.text, view.command], ["$(remote)", "127.0.0.1:8080", "powerSampling.showLog"]);
            assert.match(view.tooltip, /^llama-server at http:\/\/127\.0\.0\.1:8080\nConnects with the first run\.$/);
            assert.equal(statusView({state: "stopped", error: null}, null, {model: "", server: ""}).command, "powerSampling.selectModel");
        });

        it("the server's model and host once checked, its build and context in the tooltip", () => {
            const view = statusView({...idle, model: ready.model, server: ready, contextSize: 4096}, null, configured);
            assert.deepEqual([view.icon, view.text], ["$(remote)", "qwen2.5-7b-instruct-q4_k_m · 127.0.0.1:8080"]);
            assert.equal(view.tooltip, `${ready.summary}\nllama-server b7000 (80fb11a), context 4096 tokens a sequence`);
            const failed = statusView({...idle, model: ready.model, server: ready, contextSize: 4096, error: "a job failed"}, null, configured);
            assert.equal(failed.icon, "$(warning)");
            assert.match(failed.tooltip, /\nLast error: a job failed$/);
        });

        it("a server not checked yet, and one unavailable with why", () => {
            const checking = statusView({...idle, server: {...ready, ready: false, model: null, engine: null, summary: "llama-server 127.0.0.1:8080 (not checked yet)"}}, null, configured);
            assert.deepEqual([checking.icon, checking.text], ["$(sync~spin)", "connecting to 127.0.0.1:8080"]);
            const message = `llama-server at ${url} refused the connection: start it, or check the server URL`;
            const down = statusView({...idle, server: {...ready, ready: false, model: null, engine: null, summary: "llama-server 127.0.0.1:8080 (unavailable)", error: message}},
                null, configured);
            assert.deepEqual([down.icon, down.text, down.tooltip, down.error], ["$(warning)", "127.0.0.1:8080 unavailable", message, false]);
        });

        it("running on a server names it; a local model's words are unchanged", () => {
            assert.equal(statusView({...idle, state: "running", model: ready.model, server: ready}, null, configured).tooltip, "qwen2.5-7b-instruct-q4_k_m on llama-server 127.0.0.1:8080");
            const compute = {backend: "cpu", devices: [], layers: null, reason: null, summary: "CPU", threads: 4};
            const local = statusView({...idle, model: "/m/a.gguf", compute, contextSize: 2048}, null, {model: "/m/a.gguf", server: ""});
            assert.deepEqual([local.icon, local.text, local.tooltip], ["$(check)", "a · CPU", "/m/a.gguf\nCPU; 4 threads, context 2048"]);
            assert.equal(statusView({state: "crashed", error: "gone"}, null, configured).error, true);
        });
    });
});
