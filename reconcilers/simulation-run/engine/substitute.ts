// `${name}` substitution over a template. A string that is exactly `${name}` takes the parameter's
// typed value (a number, a list); `${name}` inside a longer string is replaced by its text. The
// `parameters` section itself is left as written.
import { type FieldError, fieldPath, isRecord } from './issues.ts';
import type { ParamValue } from './parameters.ts';

const WHOLE = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;
const ANY = /\$\{([^}]*)\}/g;

export const substitute = (
  template: Record<string, unknown>,
  values: Record<string, ParamValue>,
  errors: FieldError[],
  /** Declared parameters without a value (already reported): left as written, not reported again. */
  declared: ReadonlySet<string> = new Set(),
): Record<string, unknown> => {
  const walk = (v: unknown, path: (string | number)[]): unknown => {
    if (typeof v === 'string') return substituteString(v, values, fieldPath(...path), errors, declared);
    if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, i]));
    if (isRecord(v)) {
      const out: Record<string, unknown> = {};
      for (const [k, x] of Object.entries(v)) out[k] = walk(x, [...path, k]);
      return out;
    }
    return v;
  };
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(template)) out[k] = k === 'parameters' ? v : walk(v, [k]);
  return out;
};

const substituteString = (
  s: string,
  values: Record<string, ParamValue>,
  field: string,
  errors: FieldError[],
  declared: ReadonlySet<string>,
): unknown => {
  if (!s.includes('${')) return s;
  const whole = WHOLE.exec(s);
  if (whole) {
    const name = whole[1]!;
    if (name in values) return values[name];
    if (!declared.has(name)) errors.push({ field, message: `unknown parameter "${name}"` });
    return s;
  }
  return s.replace(ANY, (match, name: string) => {
    if (name in values) {
      const v = values[name]!;
      return Array.isArray(v) ? `[${v.join(', ')}]` : String(v);
    }
    if (!declared.has(name)) errors.push({ field, message: `unknown parameter "${name}"` });
    return match;
  });
};
