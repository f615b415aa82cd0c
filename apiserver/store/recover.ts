// Rebuilds the store's state on open: the snapshot, then the WAL records after it.
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { KubeObject } from '../types.ts';
import { applyDelete, applyPut } from './apply.ts';
import { StoreCorruptionError } from './corruption.ts';
import { History } from './history.ts';
import type { StoreLogger } from './logger.ts';
import { readSnapshot, SNAPSHOT_TEMP } from './snapshot.ts';
import { readWal, truncateWal, WAL_FILE, WAL_TEMP } from './wal.ts';

export interface Recovered {
  objects: Map<string, KubeObject>;
  revision: number;
  /** The events replayed from the WAL, for watches that resume from before the restart. */
  history: History;
  /** Size of the WAL once a torn tail is cut off: where appends continue. */
  walBytes: number;
}

export const recover = (dir: string, historySize: number, logger: StoreLogger): Recovered => {
  const started = performance.now();
  // Leftovers of a compaction a crash interrupted; the files they were to replace are intact.
  const leftovers = [SNAPSHOT_TEMP, WAL_TEMP].filter((name) => existsSync(join(dir, name)));
  for (const name of leftovers) rmSync(join(dir, name), { force: true });

  const snapshot = readSnapshot(dir);
  const objects = snapshot?.objects ?? new Map<string, KubeObject>();
  const snapshotRevision = snapshot?.revision ?? 0;
  let revision = snapshotRevision;

  const history = new History(historySize, revision);
  const corrupt = (line: number, problem: string) =>
    new StoreCorruptionError(join(dir, WAL_FILE), line, problem);
  let previousRv: number | undefined;
  let covered = 0;
  const wal = readWal(dir, (record, line) => {
    if (previousRv !== undefined && record.rv !== previousRv + 1) {
      throw corrupt(line, `revision ${record.rv} follows ${previousRv}: revisions must be consecutive`);
    }
    previousRv = record.rv;
    // Already in the snapshot: a crash struck after the snapshot was written, before the WAL was emptied.
    if (record.rv <= revision) {
      covered++;
      return;
    }
    if (record.rv !== revision + 1) {
      throw corrupt(line, `revision ${record.rv} follows the snapshot's ${revision}: records are missing`);
    }
    const event =
      record.op === 'put'
        ? applyPut(objects, record.key, record.rv, record.object)
        : applyDelete(objects, record.key, record.rv);
    if (!event) throw corrupt(line, `deletes ${record.key}, which does not exist`);
    history.push(event);
    revision = record.rv;
  });
  // Cut only after every intact record was read: a corrupt WAL is left as found, for inspection.
  if (wal.tornBytes > 0) {
    truncateWal(dir, wal.validBytes);
    logger.warn(
      { dir, bytes: wal.tornBytes },
      'store: cut a torn WAL record left by a crash (it was never acknowledged)',
    );
  }

  logger.info(
    {
      dir,
      objects: objects.size,
      revision,
      snapshotRevision,
      walRecords: wal.records,
      coveredBySnapshot: covered,
      tornBytes: wal.tornBytes,
      leftovers,
      ms: Math.round(performance.now() - started),
    },
    'store: recovered',
  );
  return { objects, revision, history, walBytes: wal.validBytes };
};
