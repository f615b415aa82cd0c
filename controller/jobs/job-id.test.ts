import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputDigest, isJobOf, queueJobId } from './job-id.ts';

describe('queue job ids', () => {
  it('derive from the key, the generation and the input, never hold ":" and are not integers', () => {
    const id = queueJobId('default/order-peak', 3, { spec: { seed: 1, templateId: 't' } });
    assert.match(id, /^default\/order-peak\/3\/[0-9a-f]{12}$/);
    assert.equal(
      id,
      queueJobId('default/order-peak', 3, { spec: { templateId: 't', seed: 1 } }),
      'key order',
    );
    assert.notEqual(id, queueJobId('default/order-peak', 4, { spec: { seed: 1, templateId: 't' } }));
    assert.notEqual(id, queueJobId('default/order-peak', 3, { spec: { seed: 2, templateId: 't' } }));
    assert.doesNotMatch(queueJobId('a:b/c', 1, {}), /:/);
    assert.equal(inputDigest({ a: undefined, b: 1 }), inputDigest({ b: 1 }));
  });

  it("tell an id's jobs of any generation and input from another id's", () => {
    assert.ok(isJobOf('default/storm', queueJobId('default/storm', 1, { a: 1 })));
    assert.ok(isJobOf('default/storm', queueJobId('default/storm', 7, { a: 2 })));
    assert.ok(isJobOf('a:b/c', queueJobId('a:b/c', 1, {})));
    assert.ok(!isJobOf('default/storm', queueJobId('default/storm-2', 1, {})));
    assert.ok(!isJobOf('default/storm', queueJobId('default/storm/r1', 1, {})), 'a longer id');
    assert.ok(!isJobOf('default/storm/r1', queueJobId('default/storm', 1, {})));
    assert.ok(!isJobOf('default/storm', 'default/storm'));
  });
});
