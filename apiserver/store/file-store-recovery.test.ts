import assert from 'node:assert/strict';
import { appendFileSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import type { KubeObject } from '../types.ts';
import { StoreCorruptionError } from './corruption.ts';
import { openFileStore } from './file-store.ts';
import { SNAPSHOT_FILE, SNAPSHOT_TEMP, writeSnapshot } from './snapshot.ts';
import { keyOf, recordingLogger, sandbox } from './test-support.ts';
import type { Store, StoreEvent } from './types.ts';
import { WAL_FILE, WAL_TEMP } from './wal.ts';

const open = (dir: string, options: { compactBytes?: number; historySize?: number } = {}) => {
  const logger = recordingLogger();
  return { store: openFileStore({ dir, logger, ...options }), logger };
};

/** Every object by key, as a plain value to compare stores with. */
const contents = (store: Store): Record<string, KubeObject> =>
  Object.fromEntries(store.list('/').items.map((o) => [keyOf(o.metadata.namespace!, o.metadata.name!), o]));

/** Writes a mix of creates, updates and deletes; returns the keys written. */
const churn = (store: Store, rounds: number): void => {
  for (let i = 0; i < rounds; i++) {
    const name = `obj-${i % 7}`;
    const key = keyOf(`ns-${i % 3}`, name);
    const current = store.get(key);
    if (!current) store.create(key, sandbox(`ns-${i % 3}`, name, { i, pad: 'x'.repeat(200) }));
    else if (i % 5 === 0) store.delete(key);
    else store.update(key, { ...current, spec: { i, pad: 'y'.repeat(200) } });
  }
};

const historyOf = (store: Store, from = store.oldestWatchableRevision): StoreEvent[] => {
  const events: StoreEvent[] = [];
  store.watch('/', from, (event) => events.push(event))();
  return events;
};

describe('file store: recovery', () => {
  it('reopens with the same objects, revision and watch history', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 50);
    const before = contents(first);
    const revision = first.revision;
    const events = historyOf(first, 0);
    first.close();

    const { store, logger } = open(dir);
    assert.deepEqual(contents(store), before);
    assert.equal(store.revision, revision);
    assert.equal(store.oldestWatchableRevision, 0);
    assert.deepEqual(
      historyOf(store, 0),
      events,
      'the history is rebuilt from the WAL, DELETED events included',
    );
    assert.ok(logger.entries.some((e) => e.message === 'store: recovered'));
    store.close();
  });

  it('never reuses a revision across restarts, even when every object was deleted', () => {
    const dir = tempDir();
    let last = 0;
    for (let round = 0; round < 3; round++) {
      const { store } = open(dir, { compactBytes: 2_000 });
      assert.equal(store.revision, last);
      const created = store.create(keyOf('ns', 'a'), sandbox('ns', 'a'));
      assert.equal(Number(created.metadata.resourceVersion), last + 1);
      churn(store, 30);
      if (store.get(keyOf('ns', 'a'))) store.delete(keyOf('ns', 'a'));
      for (const o of store.list('/').items) store.delete(keyOf(o.metadata.namespace!, o.metadata.name!));
      assert.equal(store.list('/').items.length, 0);
      last = store.revision;
      store.close();
    }
  });

  it('cuts a torn last record (a kill mid-append) and carries on from there', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 10);
    const before = contents(first);
    first.close();
    const wal = join(dir, WAL_FILE);
    const intact = statSync(wal).size;
    appendFileSync(wal, '{"rv":11,"op":"put","key":"/simops.dev/sandboxes/ns-0/x","obj');

    const { store, logger } = open(dir);
    assert.deepEqual(contents(store), before);
    assert.equal(store.revision, 10);
    assert.equal(statSync(wal).size, intact);
    assert.ok(logger.entries.some((e) => e.level === 'warn' && /torn/.test(e.message)));
    store.create(keyOf('ns', 'new'), sandbox('ns', 'new'));
    store.close();

    const again = open(dir).store;
    assert.equal(again.revision, 11);
    assert.ok(again.get(keyOf('ns', 'new')));
    again.close();
  });

  it('cuts a newline-terminated last record that is not JSON (a power loss)', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 10);
    first.close();
    appendFileSync(join(dir, WAL_FILE), '\0\0\0\0\n');
    const { store } = open(dir);
    assert.equal(store.revision, 10);
    store.close();
  });

  it('refuses a damaged record before the last one, naming the file and line', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 5);
    first.close();
    const wal = join(dir, WAL_FILE);
    const lines = readFileSync(wal, 'utf8').split('\n');
    lines[2] = lines[2]!.slice(0, 20);
    writeFileSync(wal, lines.join('\n'));
    assert.throws(
      () => open(dir),
      (err: unknown) =>
        err instanceof StoreCorruptionError && err.line === 3 && err.message.startsWith(`${wal}:3: `),
    );
  });

  it('refuses a WAL with a revision gap', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 5);
    first.close();
    const wal = join(dir, WAL_FILE);
    const lines = readFileSync(wal, 'utf8').split('\n');
    lines.splice(1, 1);
    writeFileSync(wal, lines.join('\n'));
    assert.throws(() => open(dir), /wal\.jsonl:2: revision 3 follows 1/);
  });
});

describe('file store: compaction', () => {
  it('compacts when the WAL passes compactBytes and recovers from snapshot plus WAL', () => {
    const dir = tempDir();
    const { store: first, logger } = open(dir, { compactBytes: 4_000 });
    churn(first, 200);
    assert.ok(logger.entries.filter((e) => e.message === 'store: compacted').length > 5);
    assert.ok(statSync(join(dir, WAL_FILE)).size < 4_000);
    assert.ok(existsSync(join(dir, SNAPSHOT_FILE)));
    const before = contents(first);
    const revision = first.revision;
    const all = historyOf(first, 0);
    first.close();

    const { store } = open(dir, { compactBytes: 4_000 });
    assert.deepEqual(contents(store), before);
    assert.equal(store.revision, revision);
    const walEvents = historyOf(store);
    assert.ok(walEvents.length > 0 && walEvents.length < all.length);
    assert.equal(walEvents[0]?.rv, store.oldestWatchableRevision + 1);
    assert.deepEqual(walEvents, all.slice(-walEvents.length), 'the WAL events after the snapshot');
    store.create(keyOf('ns', 'after'), sandbox('ns', 'after'));
    assert.equal(store.revision, revision + 1);
    store.close();
  });

  it('compacts on open when the WAL is already past compactBytes', () => {
    const dir = tempDir();
    const first = open(dir).store;
    churn(first, 100);
    const before = contents(first);
    first.close();
    const { store, logger } = open(dir, { compactBytes: 1_000 });
    assert.ok(logger.entries.some((e) => e.message === 'store: compacted'));
    assert.equal(statSync(join(dir, WAL_FILE)).size, 0);
    assert.deepEqual(contents(store), before);
    store.close();
  });

  describe('a crash at each point of a compaction still recovers every write', () => {
    it('while the snapshot is written: a partial temp file is ignored and removed', () => {
      const dir = tempDir();
      const first = open(dir).store;
      churn(first, 40);
      const before = contents(first);
      first.close();
      writeFileSync(join(dir, SNAPSHOT_TEMP), '{"revision":40,"count":3}\n{"key":"/x","obj');
      const { store } = open(dir);
      assert.deepEqual(contents(store), before);
      assert.equal(store.revision, 40);
      assert.ok(!existsSync(join(dir, SNAPSHOT_TEMP)));
      store.close();
    });

    it('after the snapshot is renamed, before the WAL is replaced: records it holds are skipped', () => {
      const dir = tempDir();
      const { store: first } = open(dir);
      churn(first, 40);
      const before = contents(first);
      const objects = new Map(Object.entries(before));
      writeSnapshot(dir, first.revision, objects);
      first.close();

      const { store } = open(dir);
      assert.deepEqual(contents(store), before);
      assert.equal(store.revision, 40);
      assert.equal(store.oldestWatchableRevision, 40);
      store.create(keyOf('ns', 'next'), sandbox('ns', 'next'));
      store.close();

      const { store: again } = open(dir);
      assert.deepEqual(contents(again), {
        ...before,
        [keyOf('ns', 'next')]: again.get(keyOf('ns', 'next'))!,
      });
      assert.equal(again.revision, 41);
      assert.deepEqual(
        historyOf(again).map((e) => e.rv),
        [41],
      );
      again.close();
    });

    it('with a snapshot in the middle of the WAL: replays only the records after it', () => {
      const dir = tempDir();
      const { store: first } = open(dir);
      churn(first, 20);
      const atTwenty = new Map(Object.entries(contents(first)));
      churn(first, 15);
      const before = contents(first);
      first.close();
      writeSnapshot(dir, 20, atTwenty);
      const { store } = open(dir);
      assert.deepEqual(contents(store), before);
      assert.equal(store.oldestWatchableRevision, 20);
      assert.deepEqual(
        historyOf(store).map((e) => e.rv),
        Array.from({ length: 15 }, (_, i) => 21 + i),
      );
      store.close();
    });

    it('after the WAL is replaced: a leftover temp WAL is removed', () => {
      const dir = tempDir();
      const { store: first } = open(dir, { compactBytes: 3_000 });
      churn(first, 60);
      const before = contents(first);
      first.close();
      writeFileSync(join(dir, WAL_TEMP), '');
      const { store } = open(dir);
      assert.deepEqual(contents(store), before);
      assert.ok(!existsSync(join(dir, WAL_TEMP)));
      store.close();
    });

    it('a WAL that starts after a gap from the snapshot is corruption', () => {
      const dir = tempDir();
      const { store: first } = open(dir);
      churn(first, 10);
      first.close();
      writeSnapshot(dir, 5, new Map());
      const wal = join(dir, WAL_FILE);
      writeFileSync(wal, readFileSync(wal, 'utf8').split('\n').slice(6).join('\n'));
      assert.throws(() => open(dir), /revision 7 follows the snapshot's 5/);
    });

    it('a damaged snapshot is corruption, even at its end', () => {
      const dir = tempDir();
      const { store: first } = open(dir, { compactBytes: 1_000 });
      churn(first, 30);
      first.close();
      const snapshot = join(dir, SNAPSHOT_FILE);
      writeFileSync(snapshot, readFileSync(snapshot, 'utf8').slice(0, -10));
      assert.throws(
        () => open(dir),
        (err: unknown) => err instanceof StoreCorruptionError && err.file === snapshot,
      );
    });
  });
});
