// Template parameters: typed declarations with defaults and min/max, overridden by the run's values.
// FlowTime-Sim spells the types `integer|number|boolean|string|array` (and `int`/`double` in older
// templates) and the bounds `min`/`max` or `minimum`/`maximum`; all are accepted.
import { type FieldError, fieldPath, isFiniteNumber, isRecord } from './issues.ts';

export type ParamValue = number | boolean | string | number[];
export type ParamType = 'integer' | 'number' | 'boolean' | 'string' | 'array';

export interface ParamDecl {
  name: string;
  type: ParamType;
  default?: ParamValue;
  min?: number;
  max?: number;
  enum?: ParamValue[];
  arrayOf: 'integer' | 'number';
}

export interface ResolvedParameters {
  values: Record<string, ParamValue>;
  errors: FieldError[];
}

const TYPES: Record<string, ParamType> = {
  integer: 'integer',
  int: 'integer',
  number: 'number',
  double: 'number',
  float: 'number',
  boolean: 'boolean',
  bool: 'boolean',
  string: 'string',
  array: 'array',
};
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Parses the template's `parameters` list; errors name `parameters[i].<field>`. */
export const declareParameters = (raw: unknown, errors: FieldError[]): ParamDecl[] => {
  if (raw === undefined || raw === null) return [];
  if (!Array.isArray(raw)) {
    errors.push({ field: 'parameters', message: 'must be a list' });
    return [];
  }
  const seen = new Set<string>();
  const decls: ParamDecl[] = [];
  for (const [i, p] of raw.entries()) {
    const at = (f?: string) => fieldPath('parameters', i, ...(f ? [f] : []));
    if (!isRecord(p)) {
      errors.push({ field: at(), message: 'must be an object' });
      continue;
    }
    const name = p.name;
    if (typeof name !== 'string' || !NAME.test(name)) {
      errors.push({ field: at('name'), message: 'must be an identifier ([A-Za-z_][A-Za-z0-9_]*)' });
      continue;
    }
    if (seen.has(name)) {
      errors.push({ field: at('name'), message: `Duplicate value: "${name}"` });
      continue;
    }
    seen.add(name);
    const type = TYPES[String(p.type ?? 'number')];
    if (!type) {
      errors.push({
        field: at('type'),
        message: `Unsupported value: "${String(p.type)}": supported values: integer, number, boolean, string, array`,
      });
      continue;
    }
    const bound = (key: 'min' | 'max') => {
      const v = p[key] ?? p[key === 'min' ? 'minimum' : 'maximum'];
      if (v === undefined || v === null) return undefined;
      if (!isFiniteNumber(v)) errors.push({ field: at(key), message: 'must be a number' });
      return isFiniteNumber(v) ? v : undefined;
    };
    const decl: ParamDecl = {
      name,
      type,
      min: bound('min'),
      max: bound('max'),
      arrayOf: p.arrayOf === 'int' || p.arrayOf === 'integer' ? 'integer' : 'number',
      ...(Array.isArray(p.enum) ? { enum: p.enum as ParamValue[] } : {}),
    };
    if (p.default !== undefined && p.default !== null) {
      const checked = checkValue(decl, p.default, false);
      if ('error' in checked) errors.push({ field: at('default'), message: checked.error });
      else decl.default = checked.value;
    }
    decls.push(decl);
  }
  return decls;
};

/** A value for a declaration, or why it does not fit. Strings are parsed when `fromString` (CLI). */
export const checkValue = (
  d: ParamDecl,
  raw: unknown,
  fromString: boolean,
): { value: ParamValue } | { error: string } => {
  const v = fromString && typeof raw === 'string' ? parseString(d, raw) : raw;
  const inRange = (n: number, what = ''): string | undefined => {
    if (d.min !== undefined && n < d.min) return `${what}${n} is below the minimum ${d.min}`;
    if (d.max !== undefined && n > d.max) return `${what}${n} is above the maximum ${d.max}`;
    return undefined;
  };
  switch (d.type) {
    case 'integer':
    case 'number': {
      if (!isFiniteNumber(v)) return { error: `must be a${d.type === 'integer' ? 'n integer' : ' number'}` };
      if (d.type === 'integer' && !Number.isInteger(v)) return { error: 'must be an integer' };
      const bad = inRange(v);
      if (bad) return { error: bad };
      break;
    }
    case 'boolean':
      if (typeof v !== 'boolean') return { error: 'must be a boolean' };
      break;
    case 'string':
      if (typeof v !== 'string') return { error: 'must be a string' };
      break;
    case 'array': {
      if (!Array.isArray(v) || !v.every(isFiniteNumber)) return { error: 'must be a list of numbers' };
      for (const [i, n] of v.entries()) {
        if (d.arrayOf === 'integer' && !Number.isInteger(n)) return { error: `[${i}] must be an integer` };
        const bad = inRange(n, `[${i}] `);
        if (bad) return { error: bad };
      }
      break;
    }
  }
  if (d.enum && !d.enum.some((e) => JSON.stringify(e) === JSON.stringify(v))) {
    return {
      error: `Unsupported value: ${JSON.stringify(v)}: supported values: ${d.enum.map((e) => JSON.stringify(e)).join(', ')}`,
    };
  }
  return { value: v as ParamValue };
};

const parseString = (d: ParamDecl, s: string): unknown => {
  const t = s.trim();
  switch (d.type) {
    case 'integer':
    case 'number':
      return t === '' ? s : Number(t);
    case 'boolean':
      return t === 'true' ? true : t === 'false' ? false : s;
    case 'array':
      try {
        return JSON.parse(t.startsWith('[') ? t : `[${t}]`);
      } catch {
        return s;
      }
    default:
      return s;
  }
};

/**
 * Every declared parameter's value: the override if given, else the default. Unknown overrides,
 * values of the wrong type or out of range, and parameters with neither are errors at
 * `<overrideField>.<name>`.
 */
export const resolveParameters = (
  decls: ParamDecl[],
  overrides: Record<string, unknown> | undefined,
  opts: { fromStrings?: boolean; overrideField?: string } = {},
): ResolvedParameters => {
  const base = opts.overrideField ?? 'spec.parameters';
  const field = (name: string) => (base.startsWith('--') ? `${base} ${name}` : `${base}.${name}`);
  const errors: FieldError[] = [];
  const values: Record<string, ParamValue> = {};
  const byName = new Map(decls.map((d) => [d.name, d]));
  for (const name of Object.keys(overrides ?? {})) {
    if (!byName.has(name)) {
      errors.push({
        field: field(name),
        message: `unknown parameter: the template declares ${decls.map((d) => d.name).join(', ') || 'none'}`,
      });
    }
  }
  for (const d of decls) {
    const given = overrides?.[d.name];
    if (given === undefined || given === null) {
      if (d.default === undefined)
        errors.push({ field: field(d.name), message: 'Required value (no default)' });
      else values[d.name] = d.default;
      continue;
    }
    const checked = checkValue(d, given, !!opts.fromStrings);
    if ('error' in checked) errors.push({ field: field(d.name), message: checked.error });
    else values[d.name] = checked.value;
  }
  return { values, errors };
};
