// Filling a journey step's path and body for one agent. A `{{…}}` is one of:
//   agent.id, agent.index, agent.kind, agent.email (synthetic+<run>-<index>@example.com),
//   run.id, seed, last.<field>[.<field>…] (the previous JSON answer of this agent),
//   pick a|b|c (the agent's own seeded pick: the same agent picks the same each time).
// A string that is exactly one `{{…}}` takes the value's own type (an array stays an array); in a
// path, values are URL-encoded.
export interface AgentVars {
  index: number;
  kind: string;
  draw: number;
  runId: string;
  seed: number;
  last: unknown;
}

const WHOLE = /^\{\{\s*([^{}]+?)\s*\}\}$/;
const ANY = /\{\{\s*([^{}]+?)\s*\}\}/g;

const lookup = (expr: string, v: AgentVars): unknown => {
  if (expr.startsWith('pick ')) {
    const options = expr.slice(5).split('|');
    return options[v.draw % options.length]?.trim();
  }
  switch (expr) {
    case 'agent.id':
      return `a${v.index}`;
    case 'agent.index':
      return v.index;
    case 'agent.kind':
      return v.kind;
    case 'agent.email':
      return `synthetic+${v.runId}-${v.index}@example.com`;
    case 'run.id':
      return v.runId;
    case 'seed':
      return v.seed;
  }
  if (expr === 'last' || expr.startsWith('last.')) {
    let cur: unknown = v.last;
    for (const key of expr.split('.').slice(1)) {
      if (cur === null || typeof cur !== 'object') return undefined;
      cur = (cur as Record<string, unknown>)[key];
    }
    return cur;
  }
  return undefined;
};

const text = (x: unknown): string =>
  x === undefined || x === null ? '' : typeof x === 'object' ? JSON.stringify(x) : String(x);

export const fillString = (s: string, v: AgentVars, encode = false): string =>
  s.includes('{{')
    ? s.replace(ANY, (_, expr: string) => {
        const t = text(lookup(expr, v));
        return encode ? encodeURIComponent(t) : t;
      })
    : s;

/** Fills a path: each value URL-encoded (a query string's `?`, `=` and `&` are the template's own). */
export const fillPath = (path: string, v: AgentVars): string => fillString(path, v, true);

export const fillValue = (value: unknown, v: AgentVars): unknown => {
  if (typeof value === 'string') {
    const whole = WHOLE.exec(value);
    if (whole) return lookup(whole[1]!, v) ?? null;
    return fillString(value, v);
  }
  if (Array.isArray(value)) return value.map((x) => fillValue(x, v));
  if (value && typeof value === 'object')
    return Object.fromEntries(Object.entries(value).map(([k, x]) => [k, fillValue(x, v)]));
  return value;
};

/** Whether any template reads the previous answer (only then is a body parsed). */
export const readsLast = (value: unknown): boolean =>
  typeof value === 'string'
    ? /\{\{\s*last(\.|\s*\}\})/.test(value)
    : Array.isArray(value)
      ? value.some(readsLast)
      : value && typeof value === 'object'
        ? Object.values(value).some(readsLast)
        : false;
