import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { backoffDelay, WorkQueue } from './work-queue.ts';

describe('WorkQueue', () => {
  it('de-duplicates keys waiting in the queue', async () => {
    const q = new WorkQueue();
    q.add('a');
    q.add('b');
    q.add('a');
    assert.equal(q.length, 2);
    assert.equal(await q.get(), 'a');
    assert.equal(await q.get(), 'b');
  });

  it('never hands a key to two workers; a key added while processed runs again after done', async () => {
    const q = new WorkQueue();
    q.add('a');
    const first = await q.get();
    q.add('a');
    assert.equal(q.length, 0, 'not queued while in flight');
    let second: string | undefined;
    void q.get().then((k) => {
      second = k;
    });
    await new Promise((r) => setImmediate(r));
    assert.equal(second, undefined);
    q.done(first!);
    await new Promise((r) => setImmediate(r));
    assert.equal(second, 'a');
  });

  it('backs off exponentially from 750 ms to 15 minutes, and forget resets it', () => {
    assert.equal(backoffDelay(0), 750);
    assert.equal(backoffDelay(1), 1500);
    assert.equal(backoffDelay(3), 6000);
    assert.equal(backoffDelay(30), 15 * 60 * 1000);
    const q = new WorkQueue({ baseMs: 10, maxMs: 100 });
    assert.equal(q.addRateLimited('a'), 10);
    assert.equal(q.addRateLimited('a'), 20);
    q.forget('a');
    assert.equal(q.numRequeues('a'), 0);
    q.shutDown();
  });

  it('adds a key after a delay; the earlier schedule wins', async () => {
    const q = new WorkQueue();
    const t0 = Date.now();
    q.addAfter('a', 500);
    q.addAfter('a', 30);
    assert.equal(await q.get(), 'a');
    assert.ok(Date.now() - t0 < 400);
    q.shutDown();
  });

  it('wakes waiting workers with undefined on shutdown', async () => {
    const q = new WorkQueue();
    const waiting = q.get();
    q.shutDown();
    assert.equal(await waiting, undefined);
  });
});
