import assert from 'node:assert/strict';
import { it } from 'node:test';
import { applyOutcome, getCondition, setCondition } from './conditions.ts';

it('keeps lastTransitionTime while the status holds and moves it on a change', () => {
  let c = setCondition([], { type: 'Ready', status: 'False', reason: 'A', message: 'a' }, 1, 't1');
  c = setCondition(c, { type: 'Ready', status: 'False', reason: 'B', message: 'b' }, 2, 't2');
  assert.equal(getCondition(c, 'Ready')?.lastTransitionTime, 't1');
  assert.equal(getCondition(c, 'Ready')?.reason, 'B');
  assert.equal(getCondition(c, 'Ready')?.observedGeneration, 2);
  c = setCondition(c, { type: 'Ready', status: 'True', reason: 'C', message: 'c' }, 2, 't3');
  assert.equal(getCondition(c, 'Ready')?.lastTransitionTime, 't3');
});

it('has Ready always, and Reconciling/Stalled only while true', () => {
  let c = applyOutcome([], { kind: 'progressing', reason: 'Fetching', message: 'x' }, 1, 't');
  assert.deepEqual(
    c.map((x) => [x.type, x.status]),
    [
      ['Ready', 'Unknown'],
      ['Reconciling', 'True'],
    ],
  );
  c = applyOutcome(c, { kind: 'stalled', reason: 'InvalidSpec', message: 'y' }, 1, 't');
  assert.deepEqual(
    c.map((x) => [x.type, x.status]),
    [
      ['Ready', 'False'],
      ['Stalled', 'True'],
    ],
  );
  c = applyOutcome(c, { kind: 'ready', reason: 'Succeeded', message: 'z' }, 1, 't');
  assert.deepEqual(
    c.map((x) => [x.type, x.status]),
    [['Ready', 'True']],
  );
});
