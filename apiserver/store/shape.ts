// Shape checks for JSON read back from the store's files.
import type { KubeObject } from '../types.ts';

export const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Enough of an object for the store, which reads and writes only `metadata.resourceVersion`. */
export const isStorable = (value: unknown): value is KubeObject =>
  isRecord(value) && isRecord(value.metadata);
