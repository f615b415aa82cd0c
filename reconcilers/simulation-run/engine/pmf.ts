// A pmf node is compiled, as FlowTime's engine compiles it, to its expected value in every bin.
// Probabilities must be non-negative; a sum off 1 by more than 0.001 is renormalised with a warning.
import type { FieldError, Warning } from './issues.ts';
import { isFiniteNumber, isRecord } from './issues.ts';

const TOLERANCE = 1e-3;

export const pmfExpectedValue = (
  raw: unknown,
  field: string,
  nodeId: string,
  errors: FieldError[],
  warnings: Warning[],
): number | undefined => {
  if (!isRecord(raw)) {
    errors.push({ field, message: 'Required value: {values, probabilities}' });
    return undefined;
  }
  const { values, probabilities } = raw;
  const numbers = (v: unknown) => Array.isArray(v) && v.length > 0 && v.every(isFiniteNumber);
  if (!numbers(values))
    errors.push({ field: `${field}.values`, message: 'must be a non-empty list of numbers' });
  if (!numbers(probabilities)) {
    errors.push({ field: `${field}.probabilities`, message: 'must be a non-empty list of numbers' });
  }
  if (!numbers(values) || !numbers(probabilities)) return undefined;
  const vs = values as number[];
  const ps = probabilities as number[];
  if (vs.length !== ps.length) {
    errors.push({
      field: `${field}.probabilities`,
      message: `has ${ps.length} entries but values has ${vs.length}`,
    });
    return undefined;
  }
  if (ps.some((p) => p < 0)) {
    errors.push({ field: `${field}.probabilities`, message: 'must not be negative' });
    return undefined;
  }
  const sum = ps.reduce((a, b) => a + b, 0);
  if (sum <= 0) {
    errors.push({ field: `${field}.probabilities`, message: 'must sum to a positive value' });
    return undefined;
  }
  if (Math.abs(sum - 1) > TOLERANCE) {
    warnings.push({
      code: 'pmfRenormalized',
      message: `probabilities of ${nodeId} sum to ${sum}; renormalised to 1`,
      nodeId,
    });
  }
  return vs.reduce((acc, v, i) => acc + (v * ps[i]!) / sum, 0);
};
