// Telemetry mode: the series a template binds with `file:<path>` are read from CSV files. Accepted:
// `t,value` (or `bin_index,value`) rows by bin index, or one value per line in bin order, with or
// without a header. Bins the file lacks are 0 and reported; rows past the grid are ignored and
// reported.

import { sha256 } from './artifacts/hash.ts';
import { filePath } from './engine/context.ts';
import type { FieldError, Warning } from './engine/issues.ts';
import { SourceFileError, type SourceFiles } from './source-files.ts';

export interface LoadedTelemetry {
  series: Map<string, Float64Array>;
  /** Per binding, the sha256 of the file: part of the run's input hash. */
  hashes: Record<string, string>;
  /** Per binding, the file's bytes (copied into the run for replay). */
  files: Map<string, Buffer>;
}

export const loadTelemetry = async (
  bindings: { binding: string; field: string }[],
  files: SourceFiles,
  bins: number,
  errors: FieldError[],
  warnings: Warning[],
): Promise<LoadedTelemetry> => {
  const out: LoadedTelemetry = { series: new Map(), hashes: {}, files: new Map() };
  for (const { binding, field } of bindings) {
    const path = filePath(binding);
    let bytes: Buffer;
    try {
      bytes = await files.read(path);
    } catch (err) {
      if (!(err instanceof SourceFileError)) throw err;
      errors.push({ field, message: err.message });
      continue;
    }
    const parsed = parseSeriesCsv(bytes.toString('utf8'), bins);
    if ('error' in parsed) {
      errors.push({ field, message: `${path}: ${parsed.error}` });
      continue;
    }
    if (parsed.missing) {
      warnings.push({
        code: 'telemetryGap',
        message: `${path}: ${parsed.missing} of ${bins} bins missing; read as 0`,
      });
    }
    if (parsed.extra) {
      warnings.push({
        code: 'telemetryTruncated',
        message: `${path}: ${parsed.extra} rows past the grid ignored`,
      });
    }
    out.series.set(binding, parsed.values);
    out.hashes[binding] = sha256(bytes);
    out.files.set(binding, bytes);
  }
  return out;
};

export const parseSeriesCsv = (
  text: string,
  bins: number,
): { values: Float64Array; missing: number; extra: number } | { error: string } => {
  const values = new Float64Array(bins);
  const seen = new Uint8Array(bins);
  const lines = text.split(/\r?\n/);
  let extra = 0;
  let row = 0;
  for (const [i, raw] of lines.entries()) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const cells = line.split(',').map((c) => c.trim());
    const numbers = cells.map(Number);
    if (numbers.some((n) => Number.isNaN(n))) {
      if (row === 0 && i === lines.findIndex((l) => l.trim() !== '')) continue; // a header
      return { error: `line ${i + 1}: not a number: ${JSON.stringify(line)}` };
    }
    if (cells.length > 2) return { error: `line ${i + 1}: expected "t,value" or one value` };
    const t = cells.length === 2 ? numbers[0]! : row;
    const v = cells.length === 2 ? numbers[1]! : numbers[0]!;
    row++;
    if (!Number.isInteger(t) || t < 0)
      return { error: `line ${i + 1}: the bin index must be an integer >= 0` };
    if (!Number.isFinite(v)) return { error: `line ${i + 1}: the value must be finite` };
    if (t >= bins) {
      extra++;
      continue;
    }
    values[t] = v;
    seen[t] = 1;
  }
  const missing = bins - seen.reduce((a, b) => a + b, 0);
  return { values, missing, extra };
};
