/** The read-only ../shared folder beside the project (models, datasets), as CI lays it out. */
import {fileURLToPath} from "node:url";
import path from "node:path";

export const SHARED_DIR = process.env.POWER_SAMPLING_SHARED ?? fileURLToPath(new URL("../../../shared", import.meta.url));

export function sharedModel(file: string): string {
    return path.join(SHARED_DIR, "models", file);
}
