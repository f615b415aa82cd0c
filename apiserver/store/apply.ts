// Applies one committed write to the objects and returns its event: shared by live writes and replay.

import { intern } from '../intern.ts';
import type { KubeObject } from '../types.ts';
import type { StoreEvent } from './types.ts';

/** `object` already carries `rv` as its resourceVersion, and is the store's own (freshly parsed). */
export const applyPut = (
  objects: Map<string, KubeObject>,
  key: string,
  rv: number,
  object: KubeObject,
): StoreEvent => {
  const previous = objects.get(key);
  intern(object);
  objects.set(key, object);
  return previous ? { type: 'MODIFIED', key, rv, object, previous } : { type: 'ADDED', key, rv, object };
};

/** The event carries the last state stamped with the delete's revision; undefined if `key` is absent. */
export const applyDelete = (
  objects: Map<string, KubeObject>,
  key: string,
  rv: number,
): StoreEvent | undefined => {
  const previous = objects.get(key);
  if (!previous) return undefined;
  objects.delete(key);
  const object = { ...previous, metadata: { ...previous.metadata, resourceVersion: String(rv) } };
  return { type: 'DELETED', key, rv, object, previous };
};
