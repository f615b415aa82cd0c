// Label and field selectors, as `?labelSelector=` and `?fieldSelector=` carry them.
import { badRequest } from './errors.ts';
import type { ResourceInfo } from './resources.ts';
import type { KubeObject } from './types.ts';

type Requirement =
  | { op: 'eq' | 'neq'; key: string; value: string }
  | { op: 'in' | 'notin'; key: string; values: string[] }
  | { op: 'exists' | 'notexists'; key: string };

export type Matcher = (o: KubeObject) => boolean;

/** Splits on commas that are not inside parentheses. */
const splitTop = (s: string): string[] => {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')') depth--;
    else if (s[i] === ',' && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  out.push(s.slice(start));
  return out.map((p) => p.trim()).filter(Boolean);
};

const KEY = '[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?';
const SET = new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\(([^)]*)\\)$`);
const CMP = new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*([-A-Za-z0-9_.]*)$`);
const EXISTS = new RegExp(`^(!?)\\s*(${KEY})$`);

export const parseLabelSelector = (selector: string): Requirement[] =>
  splitTop(selector).map((part): Requirement => {
    let m = part.match(SET);
    if (m) {
      const values = m[4]!
        .split(',')
        .map((v) => v.trim())
        .filter(Boolean);
      return { op: m[3] as 'in' | 'notin', key: m[1]!, values };
    }
    m = part.match(CMP);
    if (m) return { op: m[3] === '!=' ? 'neq' : 'eq', key: m[1]!, value: m[4]! };
    m = part.match(EXISTS);
    if (m) return { op: m[1] ? 'notexists' : 'exists', key: m[2]! };
    throw badRequest(`unable to parse requirement: ${JSON.stringify(part)}`);
  });

const matches = (r: Requirement, value: string | undefined): boolean => {
  switch (r.op) {
    case 'eq':
      return value === r.value;
    case 'neq':
      return value !== r.value;
    case 'in':
      return value !== undefined && r.values.includes(value);
    case 'notin':
      return value === undefined || !r.values.includes(value);
    case 'exists':
      return value !== undefined;
    case 'notexists':
      return value === undefined;
  }
};

export const labelMatcher = (selector: string | null): Matcher => {
  if (!selector) return () => true;
  const reqs = parseLabelSelector(selector);
  return (o) => reqs.every((r) => matches(r, o.metadata.labels?.[r.key]));
};

export const fieldMatcher = (selector: string | null, resource: ResourceInfo): Matcher => {
  if (!selector) return () => true;
  const reqs = splitTop(selector).map((part) => {
    const m = part.match(/^([A-Za-z.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid field selector: ${JSON.stringify(part)}`);
    const [, field, op, value] = m as unknown as [string, string, string, string];
    const read =
      field === 'metadata.name'
        ? (o: KubeObject) => o.metadata.name
        : field === 'metadata.namespace'
          ? (o: KubeObject) => o.metadata.namespace ?? ''
          : resource.fieldSelectors[field];
    if (!read) throw badRequest(`field label not supported: ${field}`);
    return { read, neq: op === '!=', value };
  });
  return (o) =>
    reqs.every(({ read, neq, value }) => {
      const actual = read(o);
      const s = actual === undefined || actual === null ? '' : String(actual);
      return neq ? s !== value : s === value;
    });
};
