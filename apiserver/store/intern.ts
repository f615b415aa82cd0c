// Stored objects share identical managedFields trees. Every object a manager writes with the same
// set of fields has the same fieldsV1 tree ({"f:metadata":{"f:labels":{...}}, "f:spec":{...}}), a
// few dozen small objects each: at 10,000 Machines and their Events that was a third of the store's
// memory, kept 10,000 times over. Stored objects are immutable (types.ts), so one frozen tree per
// distinct shape serves them all.
import type { KubeObject } from '../types.ts';

/** Distinct trees kept; past this the table starts again (bounds memory under odd input). */
const MAX_SHAPES = 4096;
const shapes = new Map<string, Record<string, unknown>>();

const deepFreeze = <T>(v: T): T => {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
};

/** Replaces, in place, each managedFields entry's fieldsV1 with the shared tree of its shape.
 * `object` must be private to the caller (freshly parsed). Returns it. */
export const internManagedFields = (object: KubeObject): KubeObject => {
  for (const entry of object.metadata.managedFields ?? []) {
    if (!entry.fieldsV1 || typeof entry.fieldsV1 !== 'object') continue;
    const key = JSON.stringify(entry.fieldsV1);
    let shared = shapes.get(key);
    if (!shared) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      shared = deepFreeze(entry.fieldsV1);
      shapes.set(key, shared);
    }
    entry.fieldsV1 = shared;
  }
  return object;
};
