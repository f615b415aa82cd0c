import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { History } from './history.ts';
import { sandbox } from './test-support.ts';
import type { StoreEvent } from './types.ts';

const event = (rv: number): StoreEvent => ({
  type: 'ADDED',
  key: `/k/${rv}`,
  rv,
  object: sandbox('ns', `n${rv}`),
});

describe('History', () => {
  it('keeps the last `capacity` events and reports the revision before the oldest', () => {
    const history = new History(3, 10);
    assert.equal(history.oldestWatchableRevision, 10);
    for (let rv = 11; rv <= 15; rv++) history.push(event(rv));
    assert.equal(history.size, 3);
    assert.equal(history.oldestWatchableRevision, 12);
    assert.deepEqual(
      history.since(12).map((e) => e.rv),
      [13, 14, 15],
    );
    assert.deepEqual(
      history.since(14).map((e) => e.rv),
      [15],
    );
    assert.deepEqual(history.since(15), []);
    assert.deepEqual(history.since(99), []);
  });

  it('refuses an event that does not follow the last revision', () => {
    const history = new History(3, 0);
    history.push(event(1));
    assert.throws(() => history.push(event(3)), /does not follow 1/);
  });

  it("keeps of a custom resource's earlier version what selectors read, and a core object whole", () => {
    const history = new History(4, 0);
    const before = sandbox('ns', 'a');
    before.metadata.labels = { team: 'a' };
    const after = { ...before, metadata: { ...before.metadata, labels: { team: 'b' } } };
    history.push({
      type: 'MODIFIED',
      key: '/simops.dev/sandboxes/ns/a',
      rv: 1,
      object: after,
      previous: before,
    });
    const ns = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' }, status: { phase: 'Active' } };
    const terminating = { ...ns, status: { phase: 'Terminating' } };
    history.push({ type: 'MODIFIED', key: '/core/namespaces//x', rv: 2, object: terminating, previous: ns });
    const [custom, core] = history.since(0);
    assert.deepEqual(custom!.previous, {
      apiVersion: before.apiVersion,
      kind: before.kind,
      metadata: {
        name: 'a',
        resourceVersion: before.metadata.resourceVersion,
        namespace: 'ns',
        labels: { team: 'a' },
      },
    });
    assert.equal(custom!.object, after, 'the object after the write is kept as it is');
    assert.equal(core!.previous, ns);
  });

  it('with capacity 0 keeps nothing but still tracks the revision', () => {
    const history = new History(0, 0);
    history.push(event(1));
    assert.equal(history.oldestWatchableRevision, 1);
    assert.deepEqual(history.since(1), []);
  });
});
