// The watch history: a ring buffer of the latest events, which are always consecutive revisions.
import type { StoreEvent } from './types.ts';

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
    this.#events[(this.#start + this.#count) % capacity] = event;
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
