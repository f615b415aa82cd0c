// What the parts of the compiler share: the grid, the mode, and where errors and warnings go.
import type { FieldError, Warning } from './issues.ts';

export type Mode = 'simulation' | 'telemetry';

export interface CompileContext {
  bins: number;
  mode: Mode;
  errors: FieldError[];
  warnings: Warning[];
}

/** `file:x.csv` or `file://x.csv`: a series read from a telemetry file. */
export const isFileBinding = (s: string): boolean => s.startsWith('file:');

export const filePath = (binding: string): string => binding.replace(/^file:(\/\/)?/, '');

/**
 * A node's `values`, checked now and written into its column when evaluated (so validating a
 * template costs no memory per bin): a number or a one-element list fills every bin.
 */
export const seriesValues = (
  raw: unknown,
  bins: number,
  field: string,
  errors: FieldError[],
): ((column: Float64Array) => void) | undefined => {
  const list = typeof raw === 'number' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'number')) {
    errors.push({ field, message: 'must be a number or a non-empty list of numbers' });
    return undefined;
  }
  if (!list.every(Number.isFinite)) {
    errors.push({ field, message: 'must be finite numbers' });
    return undefined;
  }
  if (list.length !== 1 && list.length !== bins) {
    errors.push({ field, message: `has ${list.length} values but grid.bins is ${bins}` });
    return undefined;
  }
  const values = list as number[];
  return values.length === 1 ? (column) => column.fill(values[0]!) : (column) => column.set(values);
};
