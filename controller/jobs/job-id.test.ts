import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inputDigest, queueJobId } from './job-id.ts';

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
});
