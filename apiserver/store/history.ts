// The watch history: a ring buffer of the latest events, which are always consecutive revisions.
import type { KubeObject } from '../types.ts';
import type { StoreEvent } from './types.ts';

/**
 * What a kept event needs of the object before the write: a resumed watch reads it only to tell
 * whether the object matched its selectors before. A custom resource is selected by name,
 * namespace and labels only, so its earlier version is kept as just those (and its resourceVersion) — otherwise the history
 * holds a whole second copy of every object written since (10,000 Machines given a status: tens of
 * MB). Core kinds have field selectors on other fields (Event.reason, Namespace status.phase) and
 * are kept whole.
 */
export const selectorView = (key: string, previous: KubeObject): KubeObject => {
  if (key.startsWith('/core/')) return previous;
  const { name, namespace, labels, resourceVersion } = previous.metadata;
  return {
    apiVersion: previous.apiVersion,
    kind: previous.kind,
    metadata: {
      name,
      resourceVersion,
      ...(namespace !== undefined ? { namespace } : {}),
      ...(labels !== undefined ? { labels } : {}),
    },
  };
};

export class History {
  readonly #events: (StoreEvent | undefined)[];
  #start = 0;
  #count = 0;
  /** The revision of the latest event pushed (or the revision the history started at). */
  #revision: number;

  constructor(capacity: number, revision: number) {
    this.#events = new Array<StoreEvent | undefined>(Math.max(0, Math.floor(capacity)));
    this.#revision = revision;
  }

  get size(): number {
    return this.#count;
  }

  /** The revision just before the oldest event kept: a watch from it misses nothing. */
  get oldestWatchableRevision(): number {
    return this.#revision - this.#count;
  }

  /** Adds the event of the next revision, dropping the oldest when full. */
  push(event: StoreEvent): void {
    if (event.rv !== this.#revision + 1) {
      throw new Error(`history: event revision ${event.rv} does not follow ${this.#revision}`);
    }
    this.#revision = event.rv;
    const capacity = this.#events.length;
    if (capacity === 0) return;
    this.#events[(this.#start + this.#count) % capacity] = event.previous
      ? { ...event, previous: selectorView(event.key, event.previous) }
      : event;
    if (this.#count < capacity) this.#count++;
    else this.#start = (this.#start + 1) % capacity;
  }

  /** The events with `rv > fromRevision`, oldest first (a copy: callers may write while iterating). */
  since(fromRevision: number): StoreEvent[] {
    const skip = Math.max(0, fromRevision - this.oldestWatchableRevision);
    const capacity = this.#events.length;
    const out: StoreEvent[] = [];
    for (let i = skip; i < this.#count; i++) out.push(this.#events[(this.#start + i) % capacity]!);
    return out;
  }
}
