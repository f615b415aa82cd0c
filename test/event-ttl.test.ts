// Events expire after the server's event TTL (kube-apiserver's --event-ttl), counted from their
// last occurrence, so a long-running `simops up` does not keep every Event it ever recorded.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { CoreV1Api, type CoreV1Event, KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';

const TTL_MS = 1500;

describe('event TTL', () => {
  let api: Embedded;
  let core: CoreV1Api;
  const names = async () =>
    (await core.listNamespacedEvent({ namespace: 'default' })).items.map((e) => e.metadata?.name);
  const event = (name: string, last: Date): CoreV1Event => ({
    metadata: { name, namespace: 'default' },
    involvedObject: { kind: 'Machine', name: 'm1', namespace: 'default' },
    reason: 'Test',
    message: name,
    type: 'Normal',
    count: 1,
    firstTimestamp: last,
    lastTimestamp: last,
  });

  before(async () => {
    api = await startTestServer({ eventTtlMs: TTL_MS });
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    core = kc.makeApiClient(CoreV1Api);
  });
  after(() => api.stop());

  it('deletes an Event once its last occurrence is older than the TTL, and keeps a recent one', async () => {
    await core.createNamespacedEvent({
      namespace: 'default',
      body: event('old', new Date(Date.now() - 60_000)),
    });
    await core.createNamespacedEvent({ namespace: 'default', body: event('recent', new Date()) });
    await eventually('the old event expired', async () => !(await names()).includes('old'), 2000);
    assert.ok((await names()).includes('recent'), 'a recent event is kept');
    await eventually(
      'the recent event expired after the TTL',
      async () => !(await names()).includes('recent'),
      5000,
    );
  });

  it('counts from the last occurrence: a repeated Event is kept', async () => {
    const first = new Date(Date.now() - 60_000);
    await core.createNamespacedEvent({
      namespace: 'default',
      body: { ...event('repeated', new Date()), firstTimestamp: first, count: 5 },
    });
    await new Promise((r) => setTimeout(r, TTL_MS / 2));
    assert.ok((await names()).includes('repeated'));
  });
});
