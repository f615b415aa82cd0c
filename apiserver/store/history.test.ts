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

  it('with capacity 0 keeps nothing but still tracks the revision', () => {
    const history = new History(0, 0);
    history.push(event(1));
    assert.equal(history.oldestWatchableRevision, 1);
    assert.deepEqual(history.since(1), []);
  });
});
