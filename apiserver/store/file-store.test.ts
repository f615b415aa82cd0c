import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { tempDir } from '../../test/helpers/tmp.ts';
import { openFileStore } from './file-store.ts';
import { keyOf, recordingLogger, sandbox } from './test-support.ts';
import { type Store, StoreError, type StoreEvent } from './types.ts';

const open = (historySize?: number) => {
  const logger = recordingLogger();
  const store = openFileStore({ dir: tempDir(), historySize, logger });
  return { store, logger };
};

const code = (fn: () => unknown): string => {
  try {
    fn();
  } catch (err) {
    if (err instanceof StoreError) return err.code;
    throw err;
  }
  assert.fail('expected a StoreError');
};

const collect = (store: Store, prefix: string, from: number) => {
  const events: StoreEvent[] = [];
  const stop = store.watch(prefix, from, (event) => events.push(event));
  return { events, stop };
};

describe('file store: objects and revisions', () => {
  it('starts empty at revision 0', () => {
    const { store } = open();
    assert.equal(store.revision, 0);
    assert.equal(store.oldestWatchableRevision, 0);
    assert.deepEqual(store.list('/'), { items: [], revision: 0 });
    store.close();
  });

  it('gives every write the next revision and stamps it as resourceVersion', () => {
    const { store } = open();
    const a = store.create(keyOf('ns', 'a'), sandbox('ns', 'a'));
    const b = store.create(keyOf('ns', 'b'), sandbox('ns', 'b'));
    const a2 = store.update(keyOf('ns', 'a'), { ...a, spec: { x: 1 } });
    const gone = store.delete(keyOf('ns', 'b'));
    assert.deepEqual(
      [a, b, a2, gone].map((o) => o.metadata.resourceVersion),
      ['1', '2', '3', '4'],
    );
    assert.equal(store.revision, 4);
    assert.equal(gone.metadata.name, 'b');
    assert.equal(store.get(keyOf('ns', 'b')), undefined);
    assert.deepEqual(store.get(keyOf('ns', 'a'))?.spec, { x: 1 });
    store.close();
  });

  it('stores a copy: changing the caller object afterwards changes nothing', () => {
    const { store } = open();
    const input = sandbox('ns', 'a', { replicas: 1 });
    const stored = store.create(keyOf('ns', 'a'), input);
    (input.spec as { replicas: number }).replicas = 2;
    input.metadata.name = 'changed';
    assert.notEqual(stored, input);
    assert.equal(input.metadata.resourceVersion, undefined);
    assert.deepEqual(store.get(keyOf('ns', 'a'))?.spec, { replicas: 1 });
    assert.equal(store.get(keyOf('ns', 'a')), stored, 'get does not copy');
    store.close();
  });

  it('reports AlreadyExists, NotFound and Conflict, and such failures use no revision', () => {
    const { store } = open();
    const key = keyOf('ns', 'a');
    const a = store.create(key, sandbox('ns', 'a'));
    assert.equal(
      code(() => store.create(key, sandbox('ns', 'a'))),
      'AlreadyExists',
    );
    assert.equal(
      code(() => store.update(keyOf('ns', 'missing'), sandbox('ns', 'missing'))),
      'NotFound',
    );
    assert.equal(
      code(() => store.delete(keyOf('ns', 'missing'))),
      'NotFound',
    );
    assert.equal(
      code(() => store.update(key, a, 7)),
      'Conflict',
    );
    assert.equal(
      code(() => store.delete(key, 7)),
      'Conflict',
    );
    assert.equal(store.revision, 1);
    const a2 = store.update(key, a, 1);
    assert.equal(a2.metadata.resourceVersion, '2');
    assert.equal(
      code(() => store.update(key, a, 1)),
      'Conflict',
    );
    store.delete(key, 2);
    assert.equal(store.revision, 3);
    store.close();
  });

  it('lists by prefix, sorted by key, and a namespace prefix does not match a longer namespace', () => {
    const { store } = open();
    for (const [ns, name] of [
      ['b', 'z'],
      ['ab', 'x'],
      ['a', 'y'],
      ['a', 'b'],
      ['a-b', 'c'],
    ] as const) {
      store.create(keyOf(ns, name), sandbox(ns, name));
    }
    store.create('/core/namespaces//a', { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'a' } });
    const names = (prefix: string) =>
      store.list(prefix).items.map((o) => `${o.metadata.namespace}/${o.metadata.name}`);
    assert.deepEqual(names('/simops.dev/sandboxes/a/'), ['a/b', 'a/y']);
    // Sorted by key, like etcd: '-' sorts before '/'.
    assert.deepEqual(names('/simops.dev/sandboxes/'), ['a-b/c', 'a/b', 'a/y', 'ab/x', 'b/z']);
    assert.deepEqual(names('/simops.dev/sandboxes/c/'), []);
    assert.equal(store.list('/core/namespaces/').items.length, 1);
    assert.equal(store.list('/').items.length, 6);
    assert.equal(store.list('/').revision, 6);
    store.delete(keyOf('a', 'b'));
    assert.deepEqual(names('/simops.dev/sandboxes/a/'), ['a/y']);
    store.close();
  });

  it('refuses use after close', () => {
    const { store } = open();
    store.close();
    assert.throws(() => store.create(keyOf('ns', 'a'), sandbox('ns', 'a')), /closed/);
    assert.throws(() => store.list('/'), /closed/);
    store.close();
  });

  it('refuses a second open of the same directory until the first is closed', () => {
    const dir = tempDir();
    const store = openFileStore({ dir });
    assert.throws(() => openFileStore({ dir: `${dir}/.` }), /already open/);
    store.close();
    openFileStore({ dir }).close();
  });

  it('takes a pino logger', () => {
    const store = openFileStore({ dir: tempDir(), logger: pino({ level: 'silent' }) });
    store.close();
  });
});

describe('file store: watch', () => {
  it('replays the history after fromRevision, then delivers live events, filtered by prefix', () => {
    const { store } = open();
    const a = store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    store.create(keyOf('ab', 'two'), sandbox('ab', 'two'));
    store.update(keyOf('a', 'one'), { ...a, spec: { v: 2 } });
    const { events, stop } = collect(store, '/simops.dev/sandboxes/a/', 1);
    assert.deepEqual(
      events.map((e) => [e.type, e.rv]),
      [['MODIFIED', 3]],
      'replayed synchronously',
    );
    assert.equal(events[0]?.previous?.metadata.resourceVersion, '1');
    store.create(keyOf('a', 'three'), sandbox('a', 'three'));
    store.create(keyOf('ab', 'four'), sandbox('ab', 'four'));
    store.delete(keyOf('a', 'one'));
    assert.deepEqual(
      events.map((e) => [e.type, e.rv, e.key]),
      [
        ['MODIFIED', 3, keyOf('a', 'one')],
        ['ADDED', 4, keyOf('a', 'three')],
        ['DELETED', 6, keyOf('a', 'one')],
      ],
    );
    const deleted = events[2]!;
    assert.equal(deleted.object.metadata.resourceVersion, '6', 'DELETED carries the delete revision');
    assert.equal(deleted.previous?.metadata.resourceVersion, '3');
    stop();
    store.create(keyOf('a', 'five'), sandbox('a', 'five'));
    assert.equal(events.length, 3);
    store.close();
  });

  it('from the current revision delivers only new events', () => {
    const { store } = open();
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    const { events } = collect(store, '/', store.revision);
    assert.equal(events.length, 0);
    store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    assert.deepEqual(
      events.map((e) => e.rv),
      [2],
    );
    store.close();
  });

  it('throws Expired before the oldest kept event, and a watch from oldestWatchableRevision misses nothing', () => {
    const { store } = open(3);
    for (let i = 0; i < 5; i++) store.create(keyOf('a', `n${i}`), sandbox('a', `n${i}`));
    assert.equal(store.oldestWatchableRevision, 2);
    assert.equal(
      code(() => store.watch('/', 1, () => {})),
      'Expired',
    );
    const { events } = collect(store, '/', 2);
    assert.deepEqual(
      events.map((e) => e.rv),
      [3, 4, 5],
    );
    store.close();
  });

  it('keeps no history with historySize 0: only the current revision is watchable', () => {
    const { store } = open(0);
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    assert.equal(store.oldestWatchableRevision, 1);
    assert.equal(
      code(() => store.watch('/', 0, () => {})),
      'Expired',
    );
    const { events } = collect(store, '/', 1);
    store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    assert.equal(events.length, 1);
    store.close();
  });

  it('survives a listener that throws, and other listeners still get every event', () => {
    const { store, logger } = open();
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    store.watch('/', 0, () => {
      throw new Error('listener bug');
    });
    const { events } = collect(store, '/', 0);
    const obj = store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    assert.equal(obj.metadata.resourceVersion, '2');
    assert.deepEqual(
      events.map((e) => e.rv),
      [1, 2],
    );
    assert.equal(logger.entries.filter((e) => e.level === 'error').length, 2, 'once in replay, once live');
    store.close();
  });

  it('keeps events in order for every watcher when a listener writes', () => {
    const { store } = open();
    const first: number[] = [];
    const second: number[] = [];
    store.watch('/', 0, (event) => {
      first.push(event.rv);
      if (event.type === 'ADDED') store.update(event.key, { ...event.object, spec: { touched: true } });
    });
    store.watch('/', 0, (event) => second.push(event.rv));
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    assert.deepEqual(first, [1, 2, 3, 4]);
    assert.deepEqual(second, [1, 2, 3, 4]);
    store.close();
  });

  it('delivers each event once to a watch started from inside a listener', () => {
    const { store } = open();
    const inner: number[] = [];
    store.watch('/', 0, (event) => {
      if (event.rv === 1) store.watch('/', 0, (e) => inner.push(e.rv));
    });
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    assert.deepEqual(inner, [1, 2]);
    store.close();
  });

  it('a listener that writes during its replay sees the write after the replayed events', () => {
    const { store } = open();
    store.create(keyOf('a', 'one'), sandbox('a', 'one'));
    store.create(keyOf('a', 'two'), sandbox('a', 'two'));
    const seen: number[] = [];
    store.watch('/', 0, (event) => {
      seen.push(event.rv);
      if (event.rv === 1) store.delete(event.key);
    });
    assert.deepEqual(seen, [1, 2, 3]);
    store.close();
  });
});
