// The durable object store behind the embedded API server.
import type { KubeObject } from '../types.ts';

/**
 * Keys are `/<group>/<resource>/<namespace>/<name>`: group `core` for the legacy group, namespace
 * empty for cluster-scoped objects (`/core/namespaces//default`). A prefix selects a resource
 * (`/simops.dev/sandboxes/`) or a resource in one namespace (`/simops.dev/sandboxes/team-a/`).
 */
export type StoreKey = string;

export type StoreEventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoreEvent {
  type: StoreEventType;
  key: StoreKey;
  /** The revision of this write; equal to `object.metadata.resourceVersion`. */
  rv: number;
  /** The object after the write; for DELETED, the last state with the delete's resourceVersion. */
  object: KubeObject;
  /** The object before the write (MODIFIED and DELETED). Replayed from the history, a custom
   * resource's is only what selectors read: name, namespace, labels, resourceVersion. */
  previous?: KubeObject;
}

export type StoreErrorCode = 'NotFound' | 'AlreadyExists' | 'Conflict' | 'Expired';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string) {
    super(message);
    this.code = code;
  }
}

export interface Store {
  /** The revision of the latest committed write (0 for an empty new store). */
  readonly revision: number;
  /** The oldest revision a watch can resume from (events after it are still kept). */
  readonly oldestWatchableRevision: number;
  get(key: StoreKey): KubeObject | undefined;
  /** Every object whose key starts with `prefix`, sorted by key, and the store revision read at. */
  list(prefix: string): { items: KubeObject[]; revision: number };
  /**
   * Writes. The store assigns the next revision and sets `metadata.resourceVersion` (as a decimal
   * string) on a copy of `object`, appends the write durably, and only then returns the stored
   * copy and notifies watchers. Stored objects must be treated as immutable by callers.
   * `expectedRevision`, when given, must equal the current object's revision (else `Conflict`).
   */
  create(key: StoreKey, object: KubeObject): KubeObject;
  update(key: StoreKey, object: KubeObject, expectedRevision?: number): KubeObject;
  delete(key: StoreKey, expectedRevision?: number): KubeObject;
  /**
   * Calls `listener` for every event with `rv > fromRevision` under `prefix`: first those still in
   * the history (synchronously, in order), then live ones as they commit. Throws `Expired` when
   * `fromRevision < oldestWatchableRevision`. Returns a function that stops the watch.
   */
  watch(prefix: string, fromRevision: number, listener: (event: StoreEvent) => void): () => void;
  /** Flushes and closes the files; the store is unusable afterwards. */
  close(): void;
}
