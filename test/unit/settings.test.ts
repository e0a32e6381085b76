/** The extension's settings checks, against the defaults package.json declares. */
import {strict as assert} from "node:assert";
import {readFileSync} from "node:fs";
import {parseSettings, SettingsError} from "../../src/extension/settings.js";

const PREFIX = "powerSampling.";
const declared: Record<string, {default: unknown}> = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    .contributes.configuration.properties;
const defaults = Object.fromEntries(Object.entries(declared).map(([key, schema]) => [key.slice(PREFIX.length), schema.default]));
const parseWith = (overrides: Record<string, unknown>) => parseSettings((key) => (key in overrides ? overrides[key] : defaults[key]));

describe("settings", () => {
    it("package.json's defaults are valid and are the paper's parameters", () => {
        assert.deepEqual(parseWith({}), {
            model: "", method: "power", alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, alternatives: 4,
            promptMode: "raw", contextSize: 0, threads: 0, gpu: "auto", modelCacheFolder: ""
        });
    });

    it("every setting the checks read is declared in package.json", () => {
        const read = new Set<string>();
        parseSettings((key) => { read.add(key); return defaults[key]; });
        assert.deepEqual([...read].sort(), Object.keys(defaults).sort());
    });

    it("trims paths and accepts boundary values", () => {
        const settings = parseWith({model: "  /models/a.gguf ", alpha: 1, mcmcSteps: 0, blockSize: 1, threads: 0});
        assert.equal(settings.model, "/models/a.gguf");
        assert.equal(settings.alpha, 1);
        assert.equal(settings.mcmcSteps, 0);
    });

    const invalid: [Record<string, unknown>, RegExp][] = [
        [{alpha: 0.5}, /^powerSampling\.alpha must be a number >= 1, got 0\.5$/],
        [{alpha: "4"}, /^powerSampling\.alpha must be a number >= 1, got "4"$/],
        [{alpha: Number.NaN}, /^powerSampling\.alpha /],
        [{blockSize: 0}, /^powerSampling\.blockSize must be an integer >= 1, got 0$/],
        [{maxTokens: 10.5}, /^powerSampling\.maxTokens must be an integer >= 1, got 10\.5$/],
        [{mcmcSteps: -1}, /^powerSampling\.mcmcSteps must be an integer >= 0, got -1$/],
        [{alternatives: 0}, /^powerSampling\.alternatives must be an integer >= 1/],
        [{threads: null}, /^powerSampling\.threads must be an integer >= 0, got null$/],
        [{method: "beam"}, /^powerSampling\.method must be one of power, low-temperature, standard, greedy, got "beam"$/],
        [{promptMode: "poem"}, /^powerSampling\.promptMode must be one of /],
        [{gpu: "tpu"}, /^powerSampling\.gpu must be one of auto, cpu, cuda, vulkan, metal, got "tpu"$/],
        [{model: 42}, /^powerSampling\.model must be a string, got 42$/]
    ];
    for (const [override, message] of invalid) {
        it(`rejects ${Object.entries(override).map(([key, value]) => `${key} = ${typeof value === "string" ? `"${value}"` : String(value)}`).join()} with a message naming the setting`, () => {
            assert.throws(() => parseWith(override), (error: Error) => error instanceof SettingsError && message.test(error.message));
        });
    }
});
