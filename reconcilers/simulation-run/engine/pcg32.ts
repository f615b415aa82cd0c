// PCG32 (XSH-RR, 64-bit state, 32-bit output), seeded as the reference `pcg32_srandom_r(seed, seq)`:
// the generator FlowTime names `rng.kind: pcg32`. Same seed and stream, same numbers, everywhere.
const MASK = (1n << 64n) - 1n;
const MULT = 6364136223846793005n;

export class Pcg32 {
  private state = 0n;
  private readonly inc: bigint;

  constructor(seed: number | bigint, stream: number | bigint = 54) {
    this.inc = ((BigInt(stream) << 1n) | 1n) & MASK;
    this.nextUint32();
    this.state = (this.state + (BigInt(seed) & MASK)) & MASK;
    this.nextUint32();
  }

  nextUint32(): number {
    const old = this.state;
    this.state = (old * MULT + this.inc) & MASK;
    const xorshifted = Number((((old >> 18n) ^ old) >> 27n) & 0xffffffffn);
    const rot = Number(old >> 59n);
    return ((xorshifted >>> rot) | (xorshifted << (-rot & 31))) >>> 0;
  }

  /** Uniform in [0, 1): one 32-bit draw divided by 2^32. */
  nextDouble(): number {
    return this.nextUint32() / 4294967296;
  }
}
