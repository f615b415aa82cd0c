import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { intern } from './intern.ts';
import type { KubeObject } from './types.ts';

const withFields = (name: string, fieldsV1: Record<string, unknown>): KubeObject =>
  JSON.parse(
    JSON.stringify({
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Machine',
      metadata: {
        name,
        managedFields: [{ manager: 'simops', operation: 'Apply', fieldsType: 'FieldsV1', fieldsV1 }],
      },
    }),
  );

describe('intern', () => {
  it('gives objects with the same managed field set one frozen tree, and others their own', () => {
    const shape = { 'f:spec': { 'f:category': {}, 'f:location': {} } };
    const a = intern(withFields('a', shape));
    const b = intern(withFields('b', shape));
    const c = intern(withFields('c', { 'f:spec': { 'f:category': {} } }));
    const tree = (o: KubeObject) => o.metadata.managedFields![0]!.fieldsV1;
    assert.equal(tree(a), tree(b));
    assert.notEqual(tree(a), tree(c));
    assert.deepEqual(tree(a), shape);
    assert.ok(Object.isFrozen(tree(a)) && Object.isFrozen(tree(a)['f:spec']));
    assert.deepEqual(tree(c), { 'f:spec': { 'f:category': {} } });
  });

  it("shares small objects of plain values between objects, frozen, but not one object's own", () => {
    const event = (name: string) =>
      intern(
        JSON.parse(
          JSON.stringify({
            metadata: { name, labels: { app: 'lab', site: 'a' } },
            involvedObject: { kind: 'Machine', name: 'm1', uid: `uid-${name}` },
            source: { component: 'simops' },
          }),
        ) as KubeObject & { involvedObject: object; source: object },
      );
    const a = event('a');
    const b = event('b');
    assert.equal(a.metadata.labels, b.metadata.labels);
    assert.equal(a.source, b.source);
    assert.ok(Object.isFrozen(a.source));
    assert.notEqual(a.involvedObject, b.involvedObject, 'an object with a uid is its own');
    assert.ok(!Object.isFrozen(a.involvedObject));
    assert.notEqual(a.metadata, b.metadata);
  });
});
