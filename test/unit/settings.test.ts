/** The extension's settings checks, against the defaults package.json declares. */
import {strict as assert} from "node:assert";
import {readFileSync} from "node:fs";
import {MAX_SETTINGS_SAMPLES, parseSettings, SAMPLING_SETTINGS, SettingsError} from "../../src/extension/settings.js";
import {PARAMETERS} from "../../src/protocol/params.js";
import {PRESET_PARAMS} from "../../src/protocol/presets.js";

const PREFIX = "powerSampling.";
const declared: Record<string, {default: unknown; minimum?: number; maximum?: number}> = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    .contributes.configuration.properties;
const defaults = Object.fromEntries(Object.entries(declared).map(([key, schema]) => [key.slice(PREFIX.length), schema.default]));
const parseWith = (overrides: Record<string, unknown>) => parseSettings((key) => (key in overrides ? overrides[key] : defaults[key]));

describe("settings", () => {
    it("package.json's defaults are valid: the Balanced preset over the paper's parameters, the prompt mode following the selection", () => {
        const {params, customParams, ...rest} = parseWith({});
        assert.deepEqual({...customParams, seed: 0}, {
            method: "power", alpha: 4, blockSize: 192, mcmcSteps: 10, maxTokens: 1024, samples: 4,
            particles: 16, resampleInterval: 16, essThreshold: 0.5, alphaRampTokens: 0, seed: 0
        });
        assert.deepEqual({...params, seed: 0}, {...customParams, ...PRESET_PARAMS.balanced, seed: 0});
        assert.deepEqual(rest, {model: "", preset: "balanced", promptMode: "auto", contextSize: 0, threads: 0, gpu: "auto", modelCacheFolder: ""});
    });

    it("the Custom preset runs the individual settings", () => {
        const settings = parseWith({preset: "custom", method: "power", mcmcSteps: 3});
        assert.equal(settings.params.method, "power");
        assert.equal(settings.params.mcmcSteps, 3);
    });

    it("package.json declares each sampling parameter's bounds as the protocol does (samples: the editor's own maximum)", () => {
        for (const name of SAMPLING_SETTINGS) {
            const schema = declared[PREFIX + name]!;
            assert.ok(schema, `${name} is declared`);
            assert.equal(schema.minimum, PARAMETERS[name].min, `${name} minimum`);
            assert.equal(schema.maximum, name === "samples" ? MAX_SETTINGS_SAMPLES : PARAMETERS[name].max, `${name} maximum`);
            if (name !== "samples") assert.equal(schema.default, PARAMETERS[name].default, `${name} default`);
        }
    });

    it("every setting the checks read is declared in package.json", () => {
        const read = new Set<string>();
        parseSettings((key) => { read.add(key); return defaults[key]; });
        assert.deepEqual([...read].sort(), Object.keys(defaults).sort());
    });

    it("trims paths and accepts boundary values", () => {
        const settings = parseWith({model: "  /models/a.gguf ", alpha: 1, mcmcSteps: 0, blockSize: 1, threads: 0});
        assert.equal(settings.model, "/models/a.gguf");
        assert.equal(settings.customParams.alpha, 1);
        assert.equal(settings.customParams.mcmcSteps, 0);
    });

    const invalid: [Record<string, unknown>, RegExp][] = [
        [{alpha: 0.5}, /^powerSampling\.alpha must be a number in 1\.\.64, got 0\.5$/],
        [{alpha: "4"}, /^powerSampling\.alpha must be a number in 1\.\.64, got "4"$/],
        [{alpha: Number.NaN}, /^powerSampling\.alpha must be a number in 1\.\.64, got NaN$/],
        [{blockSize: 0}, /^powerSampling\.blockSize must be an integer in 1\.\.32768, got 0$/],
        [{maxTokens: 10.5}, /^powerSampling\.maxTokens must be an integer in 1\.\.32768, got 10\.5$/],
        [{mcmcSteps: -1}, /^powerSampling\.mcmcSteps must be an integer in 0\.\.10000, got -1$/],
        [{samples: 0}, /^powerSampling\.samples must be an integer in 1\.\./],
        [{samples: 100000}, /^powerSampling\.samples must be an integer in 1\.\.4096, got 100000$/],
        [{samples: 65}, /^powerSampling\.samples must be at most 64 in the editor, got 65/],
        [{particles: 257}, /^powerSampling\.particles must be an integer in 1\.\.256, got 257$/],
        [{essThreshold: 1.5}, /^powerSampling\.essThreshold must be a number in 0\.\.1, got 1\.5$/],
        [{threads: null}, /^powerSampling\.threads must be an integer >= 0, got null$/],
        [{method: "beam"}, /^powerSampling\.method must be one of power, smc, low-temperature, standard, greedy, got "beam"$/],
        [{promptMode: "poem"}, /^powerSampling\.promptMode must be one of /],
        [{gpu: "tpu"}, /^powerSampling\.gpu must be one of auto, cpu, cuda, vulkan, metal, got "tpu"$/],
        [{preset: "turbo"}, /^powerSampling\.preset must be one of fast, balanced, thorough, custom, got "turbo"$/],
        [{model: 42}, /^powerSampling\.model must be a string, got 42$/]
    ];
    for (const [override, message] of invalid) {
        it(`rejects ${Object.entries(override).map(([key, value]) => `${key} = ${typeof value === "string" ? `"${value}"` : String(value)}`).join()} with a message naming the setting`, () => {
            assert.throws(() => parseWith(override), (error: Error) => error instanceof SettingsError && message.test(error.message));
        });
    }
});
