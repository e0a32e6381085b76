/**
 * Tolerances from sampling noise: how far n independent exact draws land from their own
 * distribution, by simulation with a fixed seed.
 */
import {type Distribution, totalVariation} from "../../src/sampling/exact.js";
import {Random} from "../../src/sampling/random.js";

/** The `quantile` of TV(target, empirical of `draws` iid draws from target) over `replicates` runs. */
export function tvNoiseQuantile(target: Distribution, draws: number, quantile = 0.999, replicates = 400): number {
    const random = new Random(12345);
    const keys = [...target.keys()];
    const cumulative: number[] = [];
    keys.reduce((sum, key) => (cumulative.push(sum + target.get(key)!), sum + target.get(key)!), 0);
    const distances: number[] = [];
    for (let r = 0; r < replicates; r++) {
        const counts = new Map<string, number>();
        for (let i = 0; i < draws; i++) {
            const u = random.float() * cumulative[cumulative.length - 1]!;
            const key = keys[Math.min(cumulative.findIndex((c) => u < c), keys.length - 1)]!;
            counts.set(key, (counts.get(key) ?? 0) + 1 / draws);
        }
        distances.push(totalVariation(target, counts));
    }
    distances.sort((a, b) => a - b);
    return distances[Math.min(distances.length - 1, Math.floor(quantile * distances.length))]!;
}
