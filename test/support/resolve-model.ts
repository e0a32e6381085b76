/** `node --import tsx resolve-model.ts REFERENCE CACHE_DIR`: resolves a model in its own process and prints the path. */
import {resolveModelSource} from "../../src/backend/model-source.js";

const [reference, cacheDir] = process.argv.slice(2);
process.stdout.write(await resolveModelSource(reference!, {cacheDir: cacheDir!}));
