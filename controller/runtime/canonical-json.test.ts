import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { canonicalJson } from './canonical-json.ts';

describe('canonicalJson', () => {
  it('sorts keys at every depth, drops undefined members, and is JSON otherwise', () => {
    const v = { b: 1, a: [{ d: 'x', c: undefined, e: null }, undefined], '10': true, '9': 'é"' };
    assert.equal(canonicalJson(v), '{"10":true,"9":"é\\"","a":[{"d":"x","e":null},null],"b":1}');
    assert.deepEqual(JSON.parse(canonicalJson(v)), JSON.parse(JSON.stringify(v)));
  });

  it('is the same for equal data whatever the key order', () => {
    assert.equal(
      canonicalJson({ spec: { y: 1, x: [2, { q: 1, p: 0 }] }, kind: 'K' }),
      canonicalJson({ kind: 'K', spec: { x: [2, { p: 0, q: 1 }], y: 1 } }),
    );
  });
});
