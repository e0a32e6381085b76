/**
 * Seeded pseudo-random numbers (sfc32: small, fast, passes PractRand to 2^40+). Every random
 * choice of a run comes from one of these, so the same seed gives the same run.
 */
export class Random {
    private a: number;
    private b: number;
    private c: number;
    private d: number;

    /** `stream` gives independent sequences for one seed (one per chain). */
    constructor(seed: number, stream = 0) {
        // splitmix32 spreads a small integer seed (and stream) over the 128-bit state.
        let s = (seed ^ Math.imul(stream, 0x9e3779b9)) >>> 0;
        const next = () => {
            s = (s + 0x9e3779b9) >>> 0;
            let z = s;
            z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
            z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
            return (z ^ (z >>> 16)) >>> 0;
        };
        this.a = next();
        this.b = next();
        this.c = next();
        this.d = next();
        for (let i = 0; i < 12; i++) this.uint32();
    }

    uint32(): number {
        const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
        this.d = (this.d + 1) >>> 0;
        this.a = this.b ^ (this.b >>> 9);
        this.b = (this.c + (this.c << 3)) >>> 0;
        this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
        this.c = (this.c + t) >>> 0;
        return t;
    }

    /** Uniform in [0, 1) with 53 random bits. */
    float(): number {
        return (this.uint32() * 2 ** 21 + (this.uint32() >>> 11)) / 2 ** 53;
    }

    /** Uniform integer in [0, n). */
    int(n: number): number {
        return Math.floor(this.float() * n);
    }
}
