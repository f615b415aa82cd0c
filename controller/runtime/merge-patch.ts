// The smallest JSON merge patch (RFC 7386) that turns one document into another.
import { isDeepStrictEqual } from 'node:util';

const isObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

/** Returns undefined when nothing changed. Lists are replaced whole, as merge patches do. */
export const createMergePatch = (from: unknown, to: unknown): unknown => {
  if (isDeepStrictEqual(from, to)) return undefined;
  if (!isObject(from) || !isObject(to)) return to;
  const patch: Record<string, unknown> = {};
  for (const key of Object.keys(from)) if (!(key in to)) patch[key] = null;
  for (const [key, value] of Object.entries(to)) {
    if (value === undefined) {
      if (key in from) patch[key] = null;
      continue;
    }
    const sub = createMergePatch(from[key], value);
    if (sub !== undefined) patch[key] = sub;
  }
  return Object.keys(patch).length ? patch : undefined;
};
