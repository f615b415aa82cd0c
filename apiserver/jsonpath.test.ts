import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { kinds } from '../crds/index.ts';
import { evaluateJsonPath, parseJsonPath } from './jsonpath.ts';

const obj = {
  metadata: { name: 'a' },
  status: {
    tags: { 'prod-latest': { artifact: 'art-1' } },
    conditions: [
      { type: 'Reconciling', status: 'True' },
      { type: 'Ready', status: 'False' },
    ],
  },
};

describe('jsonpath', () => {
  it('reads fields, dashed keys, indexes and filters', () => {
    const at = (p: string) => evaluateJsonPath(parseJsonPath(p), obj);
    assert.deepEqual(at('.metadata.name'), ['a']);
    assert.deepEqual(at('.status.tags.prod-latest.artifact'), ['art-1']);
    assert.deepEqual(at(".status.tags['prod-latest'].artifact"), ['art-1']);
    assert.deepEqual(at('.status.conditions[1].type'), ['Ready']);
    assert.deepEqual(at('.status.conditions[*].type'), ['Reconciling', 'Ready']);
    assert.deepEqual(at('.status.conditions[?(@.type=="Ready")].status'), ['False']);
    assert.deepEqual(at('.status.missing.deeper'), []);
  });

  it('parses every printer column of every kind', () => {
    for (const k of kinds)
      for (const c of k.printerColumns) assert.doesNotThrow(() => parseJsonPath(c.jsonPath), c.jsonPath);
  });

  it('rejects what it does not understand', () => {
    assert.throws(() => parseJsonPath('.a[?(@.x>1)]'));
  });
});
