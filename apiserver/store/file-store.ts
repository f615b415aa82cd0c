// A durable Store: every object in memory, every write appended to a WAL before it is acknowledged.
import { mkdirSync } from 'node:fs';
import { resolve } from 'node:path';
import type { KubeObject } from '../types.ts';
import { applyDelete, applyPut } from './apply.ts';
import type { History } from './history.ts';
import { type StoreLogger, stderrLogger } from './logger.ts';
import { recover } from './recover.ts';
import { writeSnapshot } from './snapshot.ts';
import { SortedKeys } from './sorted-keys.ts';
import { type Store, StoreError, type StoreEvent, type StoreKey } from './types.ts';
import { encodeDelete, encodePut, openWal, replaceWithEmptyWal, type WalWriter } from './wal.ts';

export interface FileStoreOptions {
  /**
   * Directory of the store's files, created when missing. One open store per directory: a second
   * open in the same process throws; another process must not open it (nothing stops it).
   */
  dir: string;
  /** Events kept in memory for watches to resume from (default 10,000). */
  historySize?: number;
  /** WAL size that triggers a compaction into a snapshot (default 64 MiB). */
  compactBytes?: number;
  /** A pino logger fits; without one, warnings and errors go to stderr. */
  logger?: StoreLogger;
}

export const DEFAULT_HISTORY_SIZE = 10_000;
export const DEFAULT_COMPACT_BYTES = 64 * 1024 * 1024;

/** Opens (recovering) the store in `options.dir`. Throws StoreCorruptionError on damaged files. */
export const openFileStore = (options: FileStoreOptions): Store => new FileStore(options);

interface Watcher {
  prefix: string;
  listener: (event: StoreEvent) => void;
  /** The last revision this watcher was offered: guards against delivering an event twice. */
  lastRv: number;
  active: boolean;
}

const revisionOf = (object: KubeObject): number => Number(object.metadata.resourceVersion);

/** Directories with an open store in this process: two stores appending to one WAL corrupt it. */
const openDirs = new Set<string>();

class FileStore implements Store {
  readonly #dir: string;
  readonly #compactBytes: number;
  readonly #logger: StoreLogger;
  readonly #objects: Map<StoreKey, KubeObject>;
  readonly #keys: SortedKeys;
  readonly #history: History;
  readonly #watchers = new Set<Watcher>();
  /** Events waiting for delivery: a listener that writes must not overtake the event it is handling. */
  readonly #pending: StoreEvent[] = [];
  #delivering = false;
  #revision: number;
  #wal: WalWriter;
  /** WAL size at which to compact: raised after a failed compaction so it is not retried per write. */
  #compactAt: number;
  #closed = false;

  constructor(options: FileStoreOptions) {
    this.#dir = resolve(options.dir);
    this.#compactBytes = options.compactBytes ?? DEFAULT_COMPACT_BYTES;
    this.#logger = options.logger ?? stderrLogger;
    if (openDirs.has(this.#dir)) throw new Error(`a store is already open in ${this.#dir}`);
    mkdirSync(this.#dir, { recursive: true });
    const state = recover(this.#dir, options.historySize ?? DEFAULT_HISTORY_SIZE, this.#logger);
    this.#objects = state.objects;
    this.#keys = new SortedKeys(state.objects.keys());
    this.#history = state.history;
    this.#revision = state.revision;
    this.#wal = openWal(this.#dir, state.walBytes, this.#logger);
    openDirs.add(this.#dir);
    this.#compactAt = this.#compactBytes;
    this.#maybeCompact();
  }

  get revision(): number {
    return this.#revision;
  }

  get oldestWatchableRevision(): number {
    return this.#history.oldestWatchableRevision;
  }

  get(key: StoreKey): KubeObject | undefined {
    this.#assertOpen();
    return this.#objects.get(key);
  }

  list(prefix: string): { items: KubeObject[]; revision: number } {
    this.#assertOpen();
    const items = this.#keys.withPrefix(prefix).map((key) => this.#objects.get(key)!);
    return { items, revision: this.#revision };
  }

  create(key: StoreKey, object: KubeObject): KubeObject {
    this.#assertOpen();
    if (this.#objects.has(key)) throw new StoreError('AlreadyExists', `${key} already exists`);
    const rv = this.#revision + 1;
    const { json, stored } = this.#stamp(object, rv);
    this.#wal.append(encodePut(rv, key, json));
    this.#keys.insert(key);
    this.#commit(applyPut(this.#objects, key, rv, stored));
    return stored;
  }

  update(key: StoreKey, object: KubeObject, expectedRevision?: number): KubeObject {
    this.#assertOpen();
    this.#current(key, expectedRevision);
    const rv = this.#revision + 1;
    const { json, stored } = this.#stamp(object, rv);
    this.#wal.append(encodePut(rv, key, json));
    this.#commit(applyPut(this.#objects, key, rv, stored));
    return stored;
  }

  /** Returns the deleted object stamped with the delete's revision (the DELETED event's object). */
  delete(key: StoreKey, expectedRevision?: number): KubeObject {
    this.#assertOpen();
    this.#current(key, expectedRevision);
    const rv = this.#revision + 1;
    this.#wal.append(encodeDelete(rv, key));
    this.#keys.remove(key);
    const event = applyDelete(this.#objects, key, rv)!;
    this.#commit(event);
    return event.object;
  }

  watch(prefix: string, fromRevision: number, listener: (event: StoreEvent) => void): () => void {
    this.#assertOpen();
    if (!Number.isSafeInteger(fromRevision))
      throw new RangeError(`watch: revision ${fromRevision} is not an integer`);
    const oldest = this.#history.oldestWatchableRevision;
    if (fromRevision < oldest) {
      throw new StoreError(
        'Expired',
        `revision ${fromRevision} is too old: the oldest watchable revision is ${oldest}`,
      );
    }
    const watcher: Watcher = { prefix, listener, lastRv: fromRevision, active: true };
    const backlog = this.#history.since(fromRevision);
    this.#watchers.add(watcher);
    // Writes made by a listener during the replay queue up behind it, as during live delivery.
    const nested = this.#delivering;
    this.#delivering = true;
    try {
      for (const event of backlog) this.#offer(watcher, event);
    } finally {
      this.#delivering = nested;
    }
    if (!nested) this.#drain();
    return () => {
      watcher.active = false;
      this.#watchers.delete(watcher);
    };
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.clear();
    this.#pending.length = 0;
    try {
      this.#wal.close(true);
    } finally {
      openDirs.delete(this.#dir);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new Error(`the store in ${this.#dir} is closed`);
  }

  /** The current object, after checking the precondition. */
  #current(key: StoreKey, expectedRevision: number | undefined): KubeObject {
    const current = this.#objects.get(key);
    if (!current) throw new StoreError('NotFound', `${key} not found`);
    if (expectedRevision !== undefined && revisionOf(current) !== expectedRevision) {
      throw new StoreError(
        'Conflict',
        `${key} is at revision ${revisionOf(current)}, not ${expectedRevision}`,
      );
    }
    return current;
  }

  /**
   * The object stamped with `rv`, as JSON (for the WAL) and as the stored copy parsed back from it:
   * private, so the caller's later changes cannot reach the store, and exactly what recovery will
   * rebuild (JSON drops `undefined`, turns a Date into a string). Stringify plus parse costs about
   * 7 µs for 1.5 KB, less than structuredClone plus stringify (12 µs).
   */
  #stamp(object: KubeObject, rv: number): { json: string; stored: KubeObject } {
    const stamped = { ...object, metadata: { ...object.metadata, resourceVersion: String(rv) } };
    const json = JSON.stringify(stamped);
    const stored: KubeObject = JSON.parse(json);
    return { json, stored };
  }

  /** Runs once the write is in the WAL. */
  #commit(event: StoreEvent): void {
    this.#revision = event.rv;
    this.#history.push(event);
    this.#pending.push(event);
    if (!this.#delivering) this.#drain();
    this.#maybeCompact();
  }

  #drain(): void {
    this.#delivering = true;
    try {
      // Index loop: listeners may append to #pending while it runs.
      for (let i = 0; i < this.#pending.length; i++) {
        const event = this.#pending[i]!;
        for (const watcher of this.#watchers) this.#offer(watcher, event);
      }
    } finally {
      this.#pending.length = 0;
      this.#delivering = false;
    }
  }

  #offer(watcher: Watcher, event: StoreEvent): void {
    if (!watcher.active || event.rv <= watcher.lastRv) return;
    watcher.lastRv = event.rv;
    if (!event.key.startsWith(watcher.prefix)) return;
    try {
      watcher.listener(event);
    } catch (err) {
      this.#logger.error({ err, key: event.key, rv: event.rv }, 'store: a watch listener threw; ignored');
    }
  }

  #maybeCompact(): void {
    if (this.#wal.size >= this.#compactAt) this.#compact();
  }

  /**
   * Snapshot, then an empty WAL. Crash points: before the snapshot's rename, the old snapshot and
   * the full WAL remain; after it, the new snapshot and a WAL whose records it already holds
   * (recovery skips rv <= the snapshot's); after the WAL's rename, the snapshot alone. Each step is
   * fsynced before the next, so the same holds for a power loss.
   */
  #compact(): void {
    const started = performance.now();
    const walBytes = this.#wal.size;
    try {
      const snapshotBytes = writeSnapshot(this.#dir, this.#revision, this.#objects);
      const wal = replaceWithEmptyWal(this.#dir, this.#logger);
      this.#wal.close(false);
      this.#wal = wal;
      this.#compactAt = this.#compactBytes;
      const ms = Math.round(performance.now() - started);
      this.#logger.info({ revision: this.#revision, walBytes, snapshotBytes, ms }, 'store: compacted');
    } catch (err) {
      // Nothing is lost: the WAL still holds every write. Retry once it has grown as much again.
      this.#compactAt = this.#wal.size + this.#compactBytes;
      this.#logger.error({ err, dir: this.#dir }, 'store: compaction failed; the WAL keeps growing');
    }
  }
}
