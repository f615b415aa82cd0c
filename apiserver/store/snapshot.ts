// The snapshot: every object and the revision they were read at, replaced atomically by compaction.

import { closeSync, fsyncSync, openSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { intern } from '../intern.ts';
import type { KubeObject } from '../types.ts';
import { StoreCorruptionError } from './corruption.ts';
import { fsyncDir, writeAll } from './fs-durable.ts';
import { readLines } from './lines.ts';
import { isRecord, isStorable } from './shape.ts';

export const SNAPSHOT_FILE = 'snapshot.jsonl';
export const SNAPSHOT_TEMP = `${SNAPSHOT_FILE}.tmp`;

/** Writes are batched into chunks of about this size: fewer syscalls, bounded memory. */
const CHUNK_BYTES = 1 << 20;

export interface Snapshot {
  revision: number;
  objects: Map<string, KubeObject>;
}

/**
 * Writes the snapshot to a temporary file, fsyncs it, renames it over the snapshot and fsyncs the
 * directory, so a crash at any point leaves the old snapshot or the new one, never a mix.
 * Format: a header line `{"revision":R,"count":N}`, then one `{"key":K,"object":O}` line per object.
 * Returns the size in bytes.
 */
export const writeSnapshot = (
  dir: string,
  revision: number,
  objects: ReadonlyMap<string, KubeObject>,
): number => {
  const temp = join(dir, SNAPSHOT_TEMP);
  const fd = openSync(temp, 'w', 0o600);
  let bytes = 0;
  try {
    let chunk = `{"revision":${revision},"count":${objects.size}}\n`;
    for (const [key, object] of objects) {
      chunk += `{"key":${JSON.stringify(key)},"object":${JSON.stringify(object)}}\n`;
      if (chunk.length >= CHUNK_BYTES) {
        bytes += flush(fd, chunk);
        chunk = '';
      }
    }
    bytes += flush(fd, chunk);
    fsyncSync(fd);
  } catch (err) {
    closeSync(fd);
    rmSync(temp, { force: true });
    throw err;
  }
  closeSync(fd);
  renameSync(temp, join(dir, SNAPSHOT_FILE));
  fsyncDir(dir);
  return bytes;
};

const flush = (fd: number, text: string): number => {
  const buf = Buffer.from(text, 'utf8');
  writeAll(fd, buf);
  return buf.length;
};

/**
 * Reads the snapshot, or undefined when there is none yet. It is only ever renamed into place
 * complete, so any damage (even at the end) is corruption.
 */
export const readSnapshot = (dir: string): Snapshot | undefined => {
  const path = join(dir, SNAPSHOT_FILE);
  const file = readLines(path);
  if (!file) return undefined;
  const { lines } = file;
  const parse = (index: number): Record<string, unknown> => {
    let value: unknown;
    try {
      value = JSON.parse(lines[index]!);
    } catch {
      throw new StoreCorruptionError(path, index + 1, 'a snapshot line is not valid JSON');
    }
    if (!isRecord(value))
      throw new StoreCorruptionError(path, index + 1, 'a snapshot line is not a JSON object');
    return value;
  };
  if (file.tornBytes > 0)
    throw new StoreCorruptionError(path, lines.length + 1, 'the snapshot ends mid-line');
  if (lines.length === 0) throw new StoreCorruptionError(path, 1, 'the snapshot is empty');
  const { revision, count } = parse(0);
  if (typeof revision !== 'number' || !Number.isSafeInteger(revision) || revision < 0) {
    throw new StoreCorruptionError(path, 1, 'the snapshot header has no valid revision');
  }
  if (count !== lines.length - 1) {
    throw new StoreCorruptionError(
      path,
      1,
      `the header counts ${String(count)} objects, the file has ${lines.length - 1}`,
    );
  }
  const objects = new Map<string, KubeObject>();
  for (let i = 1; i < lines.length; i++) {
    const { key, object } = parse(i);
    if (typeof key !== 'string' || !isStorable(object)) {
      throw new StoreCorruptionError(
        path,
        i + 1,
        'a snapshot line is not {"key":..., "object":{"metadata":...}}',
      );
    }
    objects.set(key, intern(object));
  }
  return { revision, objects };
};
