import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { KubeObject } from '../../apiserver/types.ts';
import { DIGEST_ANNOTATION, isSubset, labelled, upToDate } from './desired.ts';
import { inventoryId, staleEntries } from './inventory.ts';

const m = (spec: Record<string, unknown>): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', namespace: 'lab' },
  spec,
});
const src = { namespace: 'default', name: 'repo' };

it('labels objects with their source and a digest that changes with the object only', () => {
  const a = labelled(m({ category: 'Fan' }), src);
  assert.equal(a.metadata.labels?.['simops.dev/source-name'], 'repo');
  assert.equal(
    labelled(m({ category: 'Fan' }), src).metadata.annotations?.[DIGEST_ANNOTATION],
    a.metadata.annotations?.[DIGEST_ANNOTATION],
  );
  assert.notEqual(
    labelled(m({ category: 'Pump' }), src).metadata.annotations?.[DIGEST_ANNOTATION],
    a.metadata.annotations?.[DIGEST_ANNOTATION],
  );
});

it('is up to date when the digest matches and no field we set drifted; server defaults are not drift', () => {
  const desired = labelled(m({ category: 'Fan', tags: [{ a: 1 }] }), src);
  const live: KubeObject = {
    ...desired,
    metadata: { ...desired.metadata, uid: 'u', resourceVersion: '3' },
    spec: { category: 'Fan', simulated: true, tags: [{ a: 1, defaulted: true }] },
    status: { phase: 'Running' },
  };
  assert.ok(upToDate(desired, live));
  assert.ok(
    !upToDate(desired, { ...live, spec: { category: 'Pump', tags: [{ a: 1 }] } }),
    'hand edit is drift',
  );
  assert.ok(
    !upToDate(labelled(m({ category: 'Fan' }), src), live),
    'a field removed from git changes the digest',
  );
  assert.ok(!upToDate(desired, undefined));
  assert.ok(!isSubset([1, 2], [1]));
});

it('finds inventory entries that left git', () => {
  const prev = [
    { id: 'lab_m_simops.dev_Machine', v: 'v1alpha1' },
    { id: 'lab_gone_simops.dev_Machine', v: 'v1alpha1' },
  ];
  assert.equal(inventoryId(m({})), 'lab_m_simops.dev_Machine');
  assert.deepEqual(
    staleEntries(prev, [m({})]).map((e) => e.id),
    ['lab_gone_simops.dev_Machine'],
  );
});

it("passes the GitSource's shard on to what it applies, unless the manifest names a shard", () => {
  const sharded = { ...src, shard: 'a' };
  const plain = labelled(m({ category: 'Fan' }), src);
  const inherited = labelled(m({ category: 'Fan' }), sharded);
  assert.equal(plain.metadata.labels?.['simops.dev/shard'], undefined);
  assert.equal(inherited.metadata.labels?.['simops.dev/shard'], 'a');
  // Moving the GitSource to a shard changes the digest: everything it applied is re-applied with the label.
  assert.notEqual(
    inherited.metadata.annotations?.[DIGEST_ANNOTATION],
    plain.metadata.annotations?.[DIGEST_ANNOTATION],
  );
  const own: KubeObject = {
    ...m({ category: 'Fan' }),
    metadata: { name: 'm', labels: { 'simops.dev/shard': 'b' } },
  };
  assert.equal(labelled(own, sharded).metadata.labels?.['simops.dev/shard'], 'b');
});
