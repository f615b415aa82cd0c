// The write-ahead log: one JSON line per committed write, appended before the write is acknowledged.
import {
  closeSync,
  constants,
  fdatasync,
  fdatasyncSync,
  fsyncSync,
  ftruncateSync,
  openSync,
  renameSync,
} from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../types.ts';
import { StoreCorruptionError } from './corruption.ts';
import { fsyncDir, writeAll } from './fs-durable.ts';
import { readLines } from './lines.ts';
import type { StoreLogger } from './logger.ts';
import { isRecord, isStorable } from './shape.ts';

export const WAL_FILE = 'wal.jsonl';
export const WAL_TEMP = `${WAL_FILE}.tmp`;

/** How long written records may wait for `fdatasync`: the data a power loss can cost. */
export const SYNC_INTERVAL_MS = 200;

export type WalRecord =
  | { rv: number; op: 'put'; key: string; object: KubeObject }
  | { rv: number; op: 'del'; key: string };

/** `objectJson` is the object already serialized: the store needs that JSON for its own copy too. */
export const encodePut = (rv: number, key: string, objectJson: string): string =>
  `{"rv":${rv},"op":"put","key":${JSON.stringify(key)},"object":${objectJson}}\n`;

export const encodeDelete = (rv: number, key: string): string =>
  `{"rv":${rv},"op":"del","key":${JSON.stringify(key)}}\n`;

/** The record a parsed line holds, or why it is not one. */
const toRecord = (value: unknown): WalRecord | string => {
  if (!isRecord(value)) return 'not a JSON object';
  const { rv, op, key, object } = value;
  if (typeof rv !== 'number' || !Number.isSafeInteger(rv) || rv < 1) return 'rv is not a positive integer';
  if (typeof key !== 'string') return 'key is not a string';
  if (op === 'del') return { rv, op, key };
  if (op !== 'put') return `unknown op ${JSON.stringify(op)}`;
  if (!isStorable(object)) return 'object is not an object with metadata';
  return { rv, op, key, object };
};

export interface WalContents {
  /** How many intact records the file holds. */
  records: number;
  /** Length of the intact records: the file is truncated here when a torn tail follows. */
  validBytes: number;
  /** Bytes of a torn last record (0 when the file ends cleanly). */
  tornBytes: number;
}

/**
 * Reads the WAL, passing each record to `onRecord` as it is parsed (so superseded objects die
 * young instead of piling up for the garbage collector). A crash mid-append leaves a torn last line
 * (no newline, or not JSON): it was never acknowledged and is reported for truncation. Damage
 * anywhere else is corruption.
 */
export const readWal = (dir: string, onRecord: (record: WalRecord, line: number) => void): WalContents => {
  const path = join(dir, WAL_FILE);
  const file = readLines(path);
  if (!file) return { records: 0, validBytes: 0, tornBytes: 0 };
  const { lines } = file;
  let validBytes = file.completeBytes;
  let tornBytes = file.tornBytes;
  let records = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      if (i === lines.length - 1 && tornBytes === 0) {
        // Only a power loss leaves a newline after a torn record: it lies in the unsynced window.
        const bytes = Buffer.byteLength(line) + 1;
        validBytes -= bytes;
        tornBytes = bytes;
        break;
      }
      throw new StoreCorruptionError(path, i + 1, 'a WAL record is not valid JSON');
    }
    const record = toRecord(value);
    if (typeof record === 'string') throw new StoreCorruptionError(path, i + 1, `bad WAL record: ${record}`);
    onRecord(record, i + 1);
    records++;
  }
  return { records, validBytes, tornBytes };
};

/** Cuts a torn tail off the WAL and makes the cut durable before anything is appended after it. */
export const truncateWal = (dir: string, length: number): void => {
  const fd = openSync(join(dir, WAL_FILE), 'r+');
  try {
    ftruncateSync(fd, length);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};

/**
 * Replaces the WAL with an empty one, atomically: a crash leaves either the old WAL or the new
 * one. Call it only once a snapshot covers every record of the old WAL.
 */
export const replaceWithEmptyWal = (dir: string, logger: StoreLogger): WalWriter => {
  const temp = join(dir, WAL_TEMP);
  const flags = constants.O_WRONLY | constants.O_CREAT | constants.O_TRUNC | constants.O_APPEND;
  const fd = openSync(temp, flags, 0o600);
  try {
    fsyncSync(fd);
    renameSync(temp, join(dir, WAL_FILE));
    fsyncDir(dir);
  } catch (err) {
    closeSync(fd);
    throw err;
  }
  return new WalWriter(fd, 0, logger);
};

/** Opens the WAL for appending, creating it (durably) when missing. */
export const openWal = (dir: string, size: number, logger: StoreLogger): WalWriter => {
  const fd = openSync(join(dir, WAL_FILE), 'a', 0o600);
  if (size === 0) fsyncDir(dir);
  return new WalWriter(fd, size, logger);
};

/** Appends records with one synchronous write each and flushes them to disk in the background. */
export class WalWriter {
  readonly #fd: number;
  readonly #logger: StoreLogger;
  #size: number;
  #timer: NodeJS.Timeout | undefined;
  #syncing = false;
  #closed = false;
  #failed: unknown;

  constructor(fd: number, size: number, logger: StoreLogger) {
    this.#fd = fd;
    this.#size = size;
    this.#logger = logger;
  }

  /** Bytes in the file. */
  get size(): number {
    return this.#size;
  }

  /**
   * Appends one encoded record. When this returns, the record is in the kernel's page cache, which
   * survives the process being killed; `fdatasync` follows within SYNC_INTERVAL_MS, so a power loss
   * costs at most that window (an fsync per write would cost milliseconds each).
   */
  append(line: string): void {
    if (this.#closed) throw new Error('the WAL is closed');
    if (this.#failed !== undefined) {
      throw new Error('the WAL failed earlier and is read-only', { cause: this.#failed });
    }
    const buf = Buffer.from(line, 'utf8');
    try {
      writeAll(this.#fd, buf);
    } catch (err) {
      this.#undoPartialWrite();
      throw err;
    }
    this.#size += buf.length;
    this.#timer ??= setTimeout(() => this.#sync(), SYNC_INTERVAL_MS).unref();
  }

  /** A failed append (a full disk) may leave part of a record: cut it, or the next append corrupts. */
  #undoPartialWrite(): void {
    try {
      ftruncateSync(this.#fd, this.#size);
    } catch (err) {
      this.#failed = err;
      this.#logger.error({ err }, 'store: cannot cut a partial WAL record; refusing further writes');
    }
  }

  #sync(): void {
    this.#timer = undefined;
    if (this.#closed) return;
    if (this.#syncing) {
      this.#timer = setTimeout(() => this.#sync(), SYNC_INTERVAL_MS).unref();
      return;
    }
    // Asynchronous, on the thread pool, so the event loop does not wait for the disk.
    this.#syncing = true;
    fdatasync(this.#fd, (err) => {
      this.#syncing = false;
      if (err) this.#logger.error({ err }, 'store: fdatasync of the WAL failed');
      if (this.#closed) closeSync(this.#fd);
    });
  }

  /**
   * Stops appending. `sync` flushes first (a normal close); without it (a WAL a snapshot has made
   * redundant) nothing is flushed. The descriptor is closed after an in-flight background sync.
   */
  close(sync: boolean): void {
    if (this.#closed) return;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    if (sync && this.#failed === undefined) fdatasyncSync(this.#fd);
    this.#closed = true;
    if (!this.#syncing) closeSync(this.#fd);
  }
}
