import assert from 'node:assert/strict';
import { it } from 'node:test';
import { acquiredSpec, heldByOther, microTime, releasedSpec } from './lease-record.ts';

const T0 = Date.parse('2026-01-01T00:00:00.000Z');

it('writes MicroTimes with six fractional digits', () => {
  assert.equal(JSON.stringify({ t: microTime(T0 + 5) }), '{"t":"2026-01-01T00:00:00.005000Z"}');
});

it('treats a lease as held by another only while its holder is set and its renewTime is recent', () => {
  const spec = { holderIdentity: 'a', renewTime: microTime(T0), leaseDurationSeconds: 15 };
  assert.equal(heldByOther(spec, 'b', T0 + 15_000), true);
  assert.equal(heldByOther(spec, 'b', T0 + 15_001), false, 'expired');
  assert.equal(heldByOther(spec, 'a', T0), false, 'ours');
  assert.equal(heldByOther({ ...spec, holderIdentity: undefined }, 'b', T0), false, 'released');
  assert.equal(heldByOther(undefined, 'b', T0), false, 'absent');
  // As read back from the server: a string, not a V1MicroTime.
  const read = { ...spec, renewTime: '2026-01-01T00:00:00.000000Z' as unknown as Date };
  assert.equal(heldByOther(read, 'b', T0 + 1000), true);
});

it('counts transitions on a change of holder and keeps acquireTime while renewing', () => {
  const created = acquiredSpec(undefined, 'a', 2500, T0, false);
  assert.equal(created.leaseDurationSeconds, 3);
  assert.equal(created.leaseTransitions, 0);
  const renewed = acquiredSpec(created, 'a', 2500, T0 + 1000, true);
  assert.equal(renewed.acquireTime, created.acquireTime);
  assert.equal(renewed.renewTime?.getTime(), T0 + 1000);
  assert.equal(renewed.leaseTransitions, 0);
  const taken = acquiredSpec(renewed, 'b', 2500, T0 + 9000, false);
  assert.equal(taken.holderIdentity, 'b');
  assert.equal(taken.acquireTime?.getTime(), T0 + 9000);
  assert.equal(taken.leaseTransitions, 1);
  const released = releasedSpec(taken, T0 + 9500);
  assert.equal(released.holderIdentity, undefined);
  assert.equal(released.leaseDurationSeconds, 1);
  assert.equal(released.leaseTransitions, 1);
});
