import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { findResource } from './resources.ts';
import { fieldMatcher, labelMatcher } from './selectors.ts';
import type { KubeObject } from './types.ts';

const obj = (labels: Record<string, string>, extra: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'v1',
  kind: 'Event',
  metadata: { name: 'e1', namespace: 'default', labels },
  ...extra,
});

describe('label selectors', () => {
  const o = obj({ app: 'web', tier: 'front', 'simops.dev/source': 'gs' });
  const yes = (s: string) => assert.equal(labelMatcher(s)(o), true, s);
  const no = (s: string) => assert.equal(labelMatcher(s)(o), false, s);
  it('supports equality, sets and existence', () => {
    yes('app=web');
    yes('app==web,tier=front');
    no('app=db');
    yes('app!=db');
    yes('tier in (front, back)');
    no('tier notin (front)');
    yes('simops.dev/source');
    no('!simops.dev/source');
    yes('!missing');
    yes('');
  });
  it('rejects garbage with a 400', () => {
    assert.throws(
      () => labelMatcher('a b c'),
      (e: { code?: number }) => e.code === 400,
    );
  });
});

describe('field selectors', () => {
  const events = findResource('', 'v1', 'events')!;
  const e = obj(
    {},
    { involvedObject: { kind: 'Sandbox', name: 'b', namespace: 'default' }, reason: 'Started' },
  );
  it('selects by name, namespace and involvedObject', () => {
    assert.equal(fieldMatcher('metadata.name=e1', events)(e), true);
    assert.equal(fieldMatcher('metadata.name=e2', events)(e), false);
    assert.equal(fieldMatcher('involvedObject.name=b,involvedObject.kind=Sandbox', events)(e), true);
    assert.equal(fieldMatcher('involvedObject.name=a', events)(e), false);
    assert.equal(fieldMatcher('reason!=Failed', events)(e), true);
  });
  it('rejects fields a kind does not support', () => {
    const sandboxes = findResource('simops.dev', 'v1alpha1', 'sandboxes')!;
    assert.throws(() => fieldMatcher('spec.runtime=process', sandboxes), /field label not supported/);
  });
});
