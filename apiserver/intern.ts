// Long-lived copies of objects (the store's, the informer caches') share what is equal among them.
// JSON.parse makes a new string for every value and a new object for every map, so 10,000 Machines
// and their Events held "simops.dev/v1alpha1" 65,000 times, the same labels, conditions and
// managedFields entries thousands of times, and the same fieldsV1 tree
// ({"f:metadata":{"f:labels":{...}}, "f:spec":{...}}) 10,000 times over. Both kinds of copy are
// treated as immutable once made (the store's by contract, types.ts; the caches' by use), so one
// string per value, one frozen object per distinct small map and one frozen tree per distinct
// managed field set serve them all — one table per process, so the embedded server's store and the
// controller's caches share too. Frozen: a change to a shared value throws rather than reaching
// every object that shares it.
import type { KubeObject } from './types.ts';

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

/** Short strings seen in stored objects, each kept once: apiVersion, kind, label keys and values,
 * reasons, timestamps of one second, backends... JSON.parse makes a new string for every value. */
const MAX_STRINGS = 100_000;
const MAX_STRING_LENGTH = 256;
const strings = new Map<string, string>();
/** Fields unique to each object: interning them would only fill the table. */
const UNIQUE = new Set(['uid', 'resourceVersion', 'name', 'generateName', 'fieldsV1']);

const internString = (v: string): string => {
  if (v.length > MAX_STRING_LENGTH) return v;
  const hit = strings.get(v);
  if (hit !== undefined) return hit;
  if (strings.size >= MAX_STRINGS) strings.clear();
  strings.set(v, v);
  return v;
};

/** Small objects of strings and numbers, each kept once: labels, a status's definition and backend,
 * conditions written in the same second, managedFields entries. Frozen (they are shared). */
const MAX_LEAVES = 20_000;
const MAX_LEAF_KEYS = 8;
const leaves = new Map<string, object>();
const sharedLeaves = new WeakSet<object>();
/** An object with one of these is one object's own (an involvedObject, an owner reference). */
const OWN = new Set(['uid', 'resourceVersion', 'generateName']);

const leafOf = (o: Record<string, unknown>): Record<string, unknown> => {
  let n = 0;
  for (const k in o) {
    if (++n > MAX_LEAF_KEYS || OWN.has(k)) return o;
    const v = o[k];
    if (v !== null && typeof v === 'object' && !sharedLeaves.has(v)) return o;
  }
  const key = JSON.stringify(o);
  const hit = leaves.get(key);
  if (hit) return hit as Record<string, unknown>;
  if (leaves.size >= MAX_LEAVES) leaves.clear();
  Object.freeze(o);
  sharedLeaves.add(o);
  leaves.set(key, o);
  return o;
};

const internValues = (o: Record<string, unknown> | unknown[]): void => {
  if (Array.isArray(o)) {
    for (let i = 0; i < o.length; i++) {
      const v = o[i];
      if (typeof v === 'string') o[i] = internString(v);
      else if (v && typeof v === 'object') {
        internValues(v as Record<string, unknown>);
        if (!Array.isArray(v)) o[i] = leafOf(v as Record<string, unknown>);
      }
    }
    return;
  }
  for (const k in o) {
    const v = o[k];
    if (typeof v === 'string') {
      if (!UNIQUE.has(k)) o[k] = internString(v);
    } else if (v && typeof v === 'object' && k !== 'fieldsV1') {
      internValues(v as Record<string, unknown>);
      if (!Array.isArray(v)) o[k] = leafOf(v as Record<string, unknown>);
    }
  }
};

/** Replaces, in place, each managedFields entry's fieldsV1 with the shared tree of its shape, and
 * short strings with their shared copy. `object` must be private to the caller (freshly parsed).
 * Returns it. */
export const intern = <T extends object>(object: T): T => {
  for (const entry of (object as Partial<KubeObject>).metadata?.managedFields ?? []) {
    if (!entry.fieldsV1 || typeof entry.fieldsV1 !== 'object') continue;
    const key = JSON.stringify(entry.fieldsV1);
    let shared = shapes.get(key);
    if (!shared) {
      if (shapes.size >= MAX_SHAPES) shapes.clear();
      shared = deepFreeze(entry.fieldsV1);
      shapes.set(key, shared);
      sharedLeaves.add(shared);
    }
    entry.fieldsV1 = shared;
  }
  internValues(object as Record<string, unknown>);
  return object;
};
