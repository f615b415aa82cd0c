import assert from 'node:assert/strict';
import { it } from 'node:test';
import { mergePatch } from '../../apiserver/patch.ts';
import { createMergePatch } from './merge-patch.ts';

it('creates the smallest merge patch, and applying it gives the target', () => {
  const from = { phase: 'A', keep: 1, gone: 'x', nested: { a: 1, b: 2 }, list: [1, 2] };
  const to = { phase: 'B', keep: 1, nested: { a: 1, c: 3 }, list: [1, 2, 3] };
  const patch = createMergePatch(from, to);
  assert.deepEqual(patch, { gone: null, phase: 'B', nested: { b: null, c: 3 }, list: [1, 2, 3] });
  assert.deepEqual(mergePatch(from, patch), to);
  assert.equal(createMergePatch({ a: [1] }, { a: [1] }), undefined);
});
