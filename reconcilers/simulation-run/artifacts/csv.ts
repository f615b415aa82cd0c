// A series as FlowTime's per-series CSV: `t,value`, LF line endings, one row per bin, numbers in
// their shortest round-trip form (the same bytes for the same values on every machine).
// Non-finite values cannot be written as numbers; they are written as 0 and counted.

export interface SeriesCsv {
  bytes: Buffer;
  nonFinite: number;
}

const ROWS_PER_PART = 4096;

export const seriesCsv = (values: Float64Array): SeriesCsv => {
  const parts: string[] = ['t,value\n'];
  let nonFinite = 0;
  for (let start = 0; start < values.length; start += ROWS_PER_PART) {
    const end = Math.min(values.length, start + ROWS_PER_PART);
    let part = '';
    for (let t = start; t < end; t++) {
      let v = values[t]!;
      if (!Number.isFinite(v)) {
        nonFinite++;
        v = 0;
      }
      // `${-0}` is "0": negative zero needs no special case.
      part += `${t},${v}\n`;
    }
    parts.push(part);
  }
  return { bytes: Buffer.from(parts.join('')), nonFinite };
};
