// A small seeded generator for the schedule: xoshiro128** seeded through splitmix32 from (seed,
// stream). 32-bit integer arithmetic only, so the same seed gives the same numbers on every
// platform, and fast enough to draw millions of arrivals.
const splitmix32 = (state: number) => {
  let s = state >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
};

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number, stream = 0) {
    const mix = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2f)) >>> 0);
    const hi = splitmix32(Math.floor(seed / 4294967296) >>> 0);
    this.a = mix() ^ hi();
    this.b = mix();
    this.c = mix();
    this.d = mix() || 1;
  }

  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return r;
  }

  /** Uniform in [0, 1). */
  nextDouble(): number {
    return this.nextUint32() / 4294967296;
  }
}

const rotl = (x: number, k: number) => ((x << k) | (x >>> (32 - k))) >>> 0;
