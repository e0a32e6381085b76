import {strict as assert} from "node:assert";
import {mkdir, mkdtemp, rm, writeFile} from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import {huggingFaceAccess, huggingFaceHeaders, isSafeFilePath} from "../../src/backend/hugging-face.js";

describe("Hugging Face access", () => {
    let home: string;
    beforeEach(async () => {
        home = await mkdtemp(path.join(os.tmpdir(), "hf-home-"));
    });
    afterEach(() => rm(home, {recursive: true, force: true}));

    const writeToken = async (file: string, token: string) => {
        await mkdir(path.dirname(file), {recursive: true});
        await writeFile(file, token);
    };

    it("defaults to huggingface.co without a token", async () => {
        assert.deepEqual(await huggingFaceAccess({}, home), {endpoint: "https://huggingface.co/", token: null});
    });

    it("takes the endpoint from MODEL_ENDPOINT, then HF_ENDPOINT, ignoring what is not an http(s) URL", async () => {
        assert.equal((await huggingFaceAccess({HF_ENDPOINT: "https://hf-mirror.example"}, home)).endpoint, "https://hf-mirror.example/");
        assert.equal((await huggingFaceAccess({MODEL_ENDPOINT: "http://10.0.0.2:8080/hub/", HF_ENDPOINT: "https://hf-mirror.example"}, home)).endpoint, "http://10.0.0.2:8080/hub/");
        assert.equal((await huggingFaceAccess({MODEL_ENDPOINT: "not a url", HF_ENDPOINT: "ftp://x"}, home)).endpoint, "https://huggingface.co/");
    });

    it("reads the token from HF_TOKEN, else HF_TOKEN_PATH, else HF_HOME/token, else ~/.cache/huggingface/token", async () => {
        await writeToken(path.join(home, ".cache", "huggingface", "token"), "hf_default\n");
        assert.equal((await huggingFaceAccess({}, home)).token, "hf_default");
        await writeToken(path.join(home, "xdg", "huggingface", "token"), "hf_xdg");
        assert.equal((await huggingFaceAccess({XDG_CACHE_HOME: path.join(home, "xdg")}, home)).token, "hf_xdg");
        await writeToken(path.join(home, "hf-home", "token"), "hf_home");
        assert.equal((await huggingFaceAccess({HF_HOME: path.join(home, "hf-home")}, home)).token, "hf_home");
        await writeToken(path.join(home, "elsewhere"), "  hf_path  ");
        assert.equal((await huggingFaceAccess({HF_HOME: path.join(home, "hf-home"), HF_TOKEN_PATH: path.join(home, "elsewhere")}, home)).token, "hf_path");
        assert.equal((await huggingFaceAccess({HF_TOKEN: "hf_env", HF_TOKEN_PATH: path.join(home, "elsewhere")}, home)).token, "hf_env");
        await writeToken(path.join(home, "blank"), "\n");
        assert.equal((await huggingFaceAccess({HF_TOKEN: " ", HF_TOKEN_PATH: path.join(home, "blank")}, home)).token, null);
    });

    it("sends the token only to the endpoint's origin", () => {
        const access = {endpoint: "https://huggingface.co/", token: "hf_x"};
        assert.deepEqual(huggingFaceHeaders("https://huggingface.co/u/r/resolve/main/m.gguf", access), {authorization: "Bearer hf_x"});
        for (const url of ["http://huggingface.co/u/r/resolve/main/m.gguf", "https://cdn-lfs.huggingface.co/x", "https://huggingface.co:8443/x", "https://evil.example/x"])
            assert.deepEqual(huggingFaceHeaders(url, access), {}, url);
        assert.deepEqual(huggingFaceHeaders("https://huggingface.co/x", {...access, token: null}), {});
    });

    it("accepts only repository paths a URL cannot escape", () => {
        for (const ok of ["m.gguf", "Q4_K_M/m-00001-of-00002.gguf", "a b/m.gguf"]) assert.equal(isSafeFilePath(ok), true, ok);
        for (const bad of ["", "/m.gguf", "a//m.gguf", "../m.gguf", "a/./m.gguf", "a\\..\\m.gguf", "a/"]) assert.equal(isSafeFilePath(bad), false, bad);
    });
});
