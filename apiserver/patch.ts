// Patch formats other than server-side apply: JSON merge patch (RFC 7386), JSON patch (RFC 6902)
// and, for core kinds only, strategic merge patch.
import fastJsonPatch, { type Operation } from 'fast-json-patch';
import { ApiError } from './errors.ts';

export const MERGE_PATCH = 'application/merge-patch+json';
export const JSON_PATCH = 'application/json-patch+json';
export const STRATEGIC_MERGE_PATCH = 'application/strategic-merge-patch+json';
export const APPLY_PATCH = 'application/apply-patch+yaml';

const isPlainObject = (v: unknown): v is Record<string, unknown> =>
  v !== null && typeof v === 'object' && !Array.isArray(v);

export const mergePatch = (target: unknown, patch: unknown): unknown => {
  if (!isPlainObject(patch)) return patch;
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (value === null) delete out[key];
    else out[key] = mergePatch(out[key], value);
  }
  return out;
};

export const jsonPatch = (target: unknown, patch: unknown): unknown => {
  if (!Array.isArray(patch))
    throw new ApiError(400, 'BadRequest', 'a JSON patch must be a list of operations');
  try {
    return fastJsonPatch.applyPatch(structuredClone(target), patch as Operation[], true, false).newDocument;
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw new ApiError(422, 'Invalid', `the JSON patch could not be applied: ${message}`);
  }
};

/**
 * Strategic merge patch for the core kinds served here (Namespace, ConfigMap, Secret, Event,
 * Lease): none of their fields are lists merged by key except `metadata.finalizers` (merged as a
 * set) and `ownerReferences` (by uid); `$patch: delete|replace` directives are honoured on maps.
 */
export const strategicMergePatch = (target: unknown, patch: unknown, path: string[] = []): unknown => {
  if (!isPlainObject(patch)) {
    if (Array.isArray(patch) && Array.isArray(target)) {
      const field = path.join('.');
      if (field === 'metadata.finalizers') return [...new Set([...(target as unknown[]), ...patch])];
      if (field === 'metadata.ownerReferences') {
        const byUid = new Map((target as { uid: string }[]).map((o) => [o.uid, o]));
        for (const o of patch as { uid: string }[]) byUid.set(o.uid, o);
        return [...byUid.values()];
      }
    }
    return patch;
  }
  if (patch.$patch === 'delete') return undefined;
  if (patch.$patch === 'replace') {
    const { $patch: _, ...rest } = patch;
    return rest;
  }
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [key, value] of Object.entries(patch)) {
    if (key.startsWith('$')) continue;
    if (value === null) delete out[key];
    else {
      const merged = strategicMergePatch(out[key], value, [...path, key]);
      if (merged === undefined) delete out[key];
      else out[key] = merged;
    }
  }
  return out;
};
