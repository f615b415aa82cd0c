import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parseResourcePath } from './request-info.ts';

it('parses namespaced, cluster-wide, namespace and subresource paths', () => {
  assert.deepEqual(parseResourcePath('/apis/simops.dev/v1alpha1/namespaces/default/sandboxes/a/status'), {
    group: 'simops.dev',
    version: 'v1alpha1',
    namespace: 'default',
    resource: 'sandboxes',
    name: 'a',
    subresource: 'status',
    watchPath: false,
  });
  assert.equal(parseResourcePath('/apis/simops.dev/v1alpha1/sandboxes')?.namespace, undefined);
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/team-a'), {
    group: '',
    version: 'v1',
    resource: 'namespaces',
    name: 'team-a',
    subresource: undefined,
    watchPath: false,
  });
  assert.equal(parseResourcePath('/api/v1/namespaces/team-a/status')?.subresource, 'status');
  assert.equal(parseResourcePath('/api/v1/namespaces/x/configmaps')?.resource, 'configmaps');
  assert.equal(parseResourcePath('/api/v1/watch/namespaces/x/events')?.watchPath, true);
  assert.equal(parseResourcePath('/apis/g/v/namespaces/x/r/n/status/extra'), undefined);
  assert.equal(parseResourcePath('/api/v1/namespaces/%E0%A4%A/configmaps'), undefined);
  // Namespaces are cluster-scoped: nested under a namespace they are a (missing) namespaced resource.
  assert.deepEqual(parseResourcePath('/api/v1/namespaces/a/namespaces/b'), {
    group: '',
    version: 'v1',
    namespace: 'a',
    resource: 'namespaces',
    name: 'b',
    subresource: undefined,
    watchPath: false,
  });
});
