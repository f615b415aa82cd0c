// Poisson samples from a uniform source. Small means by inversion (one draw per sample: the smallest
// k whose cumulative probability exceeds u); means of 10 or more by Hörmann's transformed rejection
// (PTRS), which takes a bounded number of draws however large the mean.

export interface Uniform {
  nextDouble(): number;
}

const INVERSION_LIMIT = 10;

export const poisson = (rng: Uniform, mean: number): number => {
  if (!(mean > 0)) return 0;
  return mean < INVERSION_LIMIT ? byInversion(rng, mean) : byRejection(rng, mean);
};

const byInversion = (rng: Uniform, mean: number): number => {
  const u = rng.nextDouble();
  let k = 0;
  let p = Math.exp(-mean);
  let cumulative = p;
  while (cumulative <= u && p > 0) {
    k++;
    p *= mean / k;
    cumulative += p;
  }
  return k;
};

const byRejection = (rng: Uniform, mean: number): number => {
  const sqrt = Math.sqrt(mean);
  const logMean = Math.log(mean);
  const b = 0.931 + 2.53 * sqrt;
  const a = -0.059 + 0.02483 * b;
  const invAlpha = 1.1239 + 1.1328 / (b - 3.4);
  const vr = 0.9277 - 3.6224 / (b - 2);
  for (;;) {
    const u = rng.nextDouble() - 0.5;
    const v = rng.nextDouble();
    const us = 0.5 - Math.abs(u);
    const k = Math.floor(((2 * a) / us + b) * u + mean + 0.43);
    if (us >= 0.07 && v <= vr) return k;
    if (k < 0 || (us < 0.013 && v > us)) continue;
    const lhs = Math.log(v) + Math.log(invAlpha) - Math.log(a / (us * us) + b);
    if (lhs <= -mean + k * logMean - logGamma(k + 1)) return k;
  }
};

// Stirling's series with ten correction terms; shifted up to x >= 7 for accuracy.
const STIRLING = [
  8.333333333333333e-2, -2.777777777777778e-3, 7.936507936507937e-4, -5.952380952380952e-4,
  8.417508417508418e-4, -1.917526917526918e-3, 6.41025641025641e-3, -2.955065359477124e-2,
  1.796443723688307e-1, -1.3924322169059,
];

export const logGamma = (x: number): number => {
  if (x === 1 || x === 2) return 0;
  const shift = x <= 7 ? Math.floor(7 - x) : 0;
  let x0 = x + shift;
  const x2 = 1 / (x0 * x0);
  let series = STIRLING[9]!;
  for (let k = 8; k >= 0; k--) series = series * x2 + STIRLING[k]!;
  let gl = series / x0 + 0.5 * Math.log(2 * Math.PI) + (x0 - 0.5) * Math.log(x0) - x0;
  for (let k = 0; k < shift; k++) {
    x0 -= 1;
    gl -= Math.log(x0);
  }
  return gl;
};
