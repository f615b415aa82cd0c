import assert from 'node:assert/strict';
import { it } from 'node:test';
import type { KubeObject } from '../../apiserver/types.ts';
import { inShard, leaseName, shardingError, watchSelector } from './sharding.ts';

const labelled = (labels: Record<string, string>): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Machine',
  metadata: { name: 'm', namespace: 'default', labels },
});

it('turns a shard and a selector into one label selector, and a shard into its own Lease', () => {
  assert.equal(watchSelector({}), undefined);
  assert.equal(watchSelector({ shard: 'a' }), 'simops.dev/shard=a');
  assert.equal(watchSelector({ watchLabelSelector: '!simops.dev/shard' }), '!simops.dev/shard');
  assert.equal(watchSelector({ shard: 'a', watchLabelSelector: 'team=lab' }), 'simops.dev/shard=a,team=lab');
  assert.equal(watchSelector({ watchLabelSelector: ' ' }), undefined);
  assert.equal(leaseName(undefined), 'simops-controller');
  assert.equal(leaseName('a'), 'simops-controller-a');
});

it('selects the objects of a shard as the API server does', () => {
  const main = inShard(watchSelector({ watchLabelSelector: 'simops.dev/shard notin (a,b)' }));
  const a = inShard(watchSelector({ shard: 'a' }));
  const all = inShard(undefined);
  for (const [labels, expected] of [
    [{}, { main: true, a: false }],
    [{ 'simops.dev/shard': 'a' }, { main: false, a: true }],
    [{ 'simops.dev/shard': 'c' }, { main: true, a: false }],
  ] as const) {
    assert.equal(main(labelled(labels)), expected.main, JSON.stringify(labels));
    assert.equal(a(labelled(labels)), expected.a, JSON.stringify(labels));
    assert.equal(all(labelled(labels)), true);
  }
});

it('refuses shard names that are no label value or Lease name, and selectors that do not parse', () => {
  assert.equal(shardingError({ shard: 'shard-1', watchLabelSelector: '!simops.dev/shard' }), undefined);
  assert.match(shardingError({ shard: 'Shard_1' }) ?? '', /--shard "Shard_1": a shard name is/);
  assert.match(shardingError({ shard: '' }) ?? '', /--shard/);
  assert.match(shardingError({ shard: 'x'.repeat(64) }) ?? '', /at most 63/);
  assert.match(
    shardingError({ watchLabelSelector: 'a b c' }) ?? '',
    /--watch-label-selector "a b c": unable to parse/,
  );
});
