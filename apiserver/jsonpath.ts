// The subset of Kubernetes JSONPath that printer columns use: `.a.b`, `.a[0]`, `.a[*]`,
// `.a['key-with-dashes']` and filters `[?(@.type=="Ready")]`. Results are a list of values.

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'all' }
  | { kind: 'filter'; path: string[]; value: string };

const FIELD = /^\.([^.[\]]+)/;
const BRACKET_NAME = /^\[['"]([^'"]+)['"]\]/;
const INDEX = /^\[(\d+)\]/;
const ALL = /^\[\*\]/;
const FILTER = /^\[\?\(@((?:\.[^.=!\]]+)+)\s*==\s*["']([^"']*)["']\)\]/;

export const parseJsonPath = (expr: string): Step[] => {
  let rest = expr
    .trim()
    .replace(/^\{(.*)\}$/, '$1')
    .replace(/^\$/, '');
  const steps: Step[] = [];
  const patterns: [RegExp, (m: RegExpMatchArray) => Step][] = [
    [FIELD, (m) => ({ kind: 'field', name: m[1]! })],
    [BRACKET_NAME, (m) => ({ kind: 'field', name: m[1]! })],
    [INDEX, (m) => ({ kind: 'index', index: Number(m[1]) })],
    [ALL, () => ({ kind: 'all' })],
    [FILTER, (m) => ({ kind: 'filter', path: m[1]!.slice(1).split('.'), value: m[2]! })],
  ];
  while (rest) {
    const hit = patterns.map(([re, make]) => ({ m: rest.match(re), make })).find((p) => p.m);
    if (!hit?.m)
      throw new Error(`unsupported JSONPath at ${JSON.stringify(rest)} in ${JSON.stringify(expr)}`);
    steps.push(hit.make(hit.m));
    rest = rest.slice(hit.m[0].length);
  }
  return steps;
};

const child = (value: unknown, name: string): unknown =>
  value && typeof value === 'object' && !Array.isArray(value)
    ? (value as Record<string, unknown>)[name]
    : undefined;

export const evaluateJsonPath = (steps: Step[], root: unknown): unknown[] => {
  let current: unknown[] = [root];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (step.kind === 'field') next.push(child(value, step.name));
      else if (step.kind === 'index') next.push(Array.isArray(value) ? value[step.index] : undefined);
      else if (step.kind === 'all') next.push(...(Array.isArray(value) ? value : []));
      else if (Array.isArray(value)) {
        next.push(...value.filter((item) => String(step.path.reduce(child, item as unknown)) === step.value));
      }
    }
    current = next.filter((v) => v !== undefined && v !== null);
  }
  return current;
};
