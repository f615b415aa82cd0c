// A series as FlowTime's per-series CSV: `t,value`, LF line endings, one row per bin. Numbers are
// written exactly and the same way on every machine: integers as integers, values with at most ten
// binary fraction digits (0.5, 0.75, 600.125 …) by their exact, finite decimal expansion, anything
// else in JavaScript's shortest round-trip form. Bytes are written straight into a buffer: a run
// writes millions of rows. Non-finite values cannot be written as numbers: they are written as 0
// and counted.

export interface SeriesCsv {
  bytes: Buffer;
  nonFinite: number;
}

const HEADER = 't,value\n';
const COMMA = 44;
const NEWLINE = 10;
const MINUS = 45;
const DOT = 46;
const ZERO = 48;
const EXACT_LIMIT = 2 ** 31;
const FRACTION_BITS = 1024;
/** The longest row: a 17-digit index, a comma, a 24-character number, a newline. */
const ROW_MAX = 43;

/** Writes a non-negative integer below 2^53; returns the position after it. */
const writeUint = (buf: Uint8Array, pos: number, n: number): number => {
  if (n < 10) {
    buf[pos] = ZERO + n;
    return pos + 1;
  }
  const end = pos + digitCount(n);
  let p = end;
  let x = n;
  if (x < 2 ** 31) {
    while (x >= 10) {
      const q = (x / 10) | 0;
      buf[--p] = ZERO + (x - q * 10);
      x = q;
    }
  } else {
    while (x >= 10) {
      const q = Math.floor(x / 10);
      buf[--p] = ZERO + (x - q * 10);
      x = q;
    }
  }
  buf[--p] = ZERO + x;
  return end;
};

const digitCount = (n: number): number => {
  if (n < 100) return 2;
  if (n < 1000) return 3;
  if (n < 10_000) return 4;
  if (n < 100_000) return 5;
  if (n < 1_000_000) return 6;
  let digits = 7;
  for (let x = n / 1e7; x >= 1; x /= 10) digits++;
  return digits;
};

const writeValue = (buf: Uint8Array, pos: number, v: number): number => {
  if (v === 0) {
    buf[pos] = ZERO; // 0 and -0 alike
    return pos + 1;
  }
  const magnitude = Math.abs(v);
  if (magnitude < EXACT_LIMIT && Number.isInteger(magnitude * FRACTION_BITS)) {
    let p = pos;
    if (v < 0) buf[p++] = MINUS;
    const whole = Math.floor(magnitude);
    p = writeUint(buf, p, whole);
    let fraction = magnitude - whole; // exact: both are multiples of 2^-10 below 2^31
    if (fraction === 0) return p;
    buf[p++] = DOT;
    while (fraction !== 0) {
      fraction *= 10; // exact: at most 14 significant bits
      const digit = Math.floor(fraction);
      buf[p++] = ZERO + digit;
      fraction -= digit;
    }
    return p;
  }
  const text = String(v);
  for (let i = 0; i < text.length; i++) buf[pos + i] = text.charCodeAt(i);
  return pos + text.length;
};

export const seriesCsv = (values: Float64Array): SeriesCsv => {
  // Most rows are under 16 bytes; the buffer grows (checked every 256 rows) when a guess is short.
  let buf = new Uint8Array(HEADER.length + values.length * 16 + 64);
  let pos = 0;
  for (; pos < HEADER.length; pos++) buf[pos] = HEADER.charCodeAt(pos);
  let nonFinite = 0;
  // The row index counts up: its digits are kept and incremented rather than formatted each row.
  const indexDigits = new Uint8Array(20);
  indexDigits[19] = ZERO;
  let indexStart = 19;
  // A value equal to the previous row's is copied from that row (runs of equal values are common).
  let previous = Number.NaN;
  let previousStart = 0;
  let previousEnd = 0;
  for (let t = 0; t < values.length; t++) {
    if ((t & 255) === 0 && buf.length - pos < 256 * ROW_MAX) {
      const bigger = new Uint8Array(Math.max(buf.length * 2, pos + 256 * ROW_MAX));
      bigger.set(buf.subarray(0, pos));
      buf = bigger;
    }
    for (let i = indexStart; i < 20; i++) buf[pos++] = indexDigits[i]!;
    buf[pos++] = COMMA;
    let v = values[t]!;
    if (!Number.isFinite(v)) {
      nonFinite++;
      v = 0;
    }
    if (v === previous && !Object.is(v, -0)) {
      for (let i = previousStart; i < previousEnd; i++) buf[pos++] = buf[i]!;
    } else {
      const start = pos;
      pos = writeValue(buf, pos, v);
      previous = v;
      previousStart = start;
      previousEnd = pos;
    }
    buf[pos++] = NEWLINE;
    // Increment the index digits.
    let d = 19;
    while (d >= indexStart && indexDigits[d] === ZERO + 9) indexDigits[d--] = ZERO;
    if (d < indexStart) {
      indexStart--;
      indexDigits[indexStart] = ZERO + 1;
    } else indexDigits[d]!++;
  }
  return { bytes: Buffer.from(buf.buffer, buf.byteOffset, pos), nonFinite };
};
