// The label selectors sharding relies on, over HTTP with @kubernetes/client-node against the
// embedded API server: `key=value` (a shard), `!key` (Flux's main instance) and `key notin (...)`
// (the chart's main instance) on list and on watch, through the informer every controller uses,
// including an object relabelled from one shard to another (deleted from one watch, added to the
// other).
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig, KubernetesObjectApi } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { type InformerEvent, type KindInformer, startInformer } from '../controller/runtime/informer.ts';
import { simopsKind } from '../controller/runtime/kinds.ts';
import { KubeClient } from '../controller/runtime/kube-client.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { SHARD_LABEL } from '../controller/runtime/sharding.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';

const MACHINE = simopsKind('Machine');
const SELECTORS = {
  a: `${SHARD_LABEL}=a`,
  unsharded: `!${SHARD_LABEL}`,
  notA: `${SHARD_LABEL} notin (a)`,
} as const;
type Watcher = keyof typeof SELECTORS;

const machine = (name: string, shard?: string) => ({
  apiVersion: MACHINE.apiVersion,
  kind: MACHINE.kind,
  metadata: { name, namespace: 'default', ...(shard ? { labels: { [SHARD_LABEL]: shard } } : {}) },
  spec: { category: 'Fan' },
});

describe('label selectors for shards, on list and watch', () => {
  let api: Embedded;
  let kc: KubeConfig;
  let client: KubeClient;
  const informers: KindInformer[] = [];
  const events: Record<Watcher, string[]> = { a: [], unsharded: [], notA: [] };

  before(async () => {
    api = await startTestServer();
    kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    client = new KubeClient(kc);
  });
  after(async () => {
    await Promise.all(informers.map((i) => i.stop()));
    await api.stop();
  });

  const names = (items: { metadata?: { name?: string } }[]) => items.map((o) => o.metadata?.name).sort();
  const cached = (w: Watcher) => names(informers[Object.keys(SELECTORS).indexOf(w)]!.list('default'));

  it('lists what each selector picks', async () => {
    for (const [name, shard] of [
      ['m-a', 'a'],
      ['m-b', 'b'],
      ['m-none', undefined],
    ] as const)
      await client.apply(machine(name, shard), { fieldManager: 'test' });
    const objects = KubernetesObjectApi.makeApiClient(kc);
    const list = async (selector: string) =>
      names(
        (
          await objects.list(
            MACHINE.apiVersion,
            MACHINE.kind,
            'default',
            undefined,
            undefined,
            undefined,
            undefined,
            selector,
          )
        ).items,
      );
    assert.deepEqual(await list(SELECTORS.a), ['m-a']);
    assert.deepEqual(await list(SELECTORS.unsharded), ['m-none']);
    assert.deepEqual(await list(SELECTORS.notA), ['m-b', 'm-none']);
  });

  it("watches what each selector picks, and moves a relabelled object from one shard's watch to another's", async () => {
    for (const [w, selector] of Object.entries(SELECTORS) as [Watcher, string][]) {
      const informer = startInformer(
        kc,
        MACHINE,
        (type: InformerEvent, o) => events[w].push(`${type} ${o.metadata.name}`),
        silentLog,
        { labelSelector: selector },
      );
      informers.push(informer);
      await informer.start();
    }
    assert.deepEqual(cached('a'), ['m-a']);
    assert.deepEqual(cached('unsharded'), ['m-none']);
    assert.deepEqual(cached('notA'), ['m-b', 'm-none']);

    // A new object of shard a, and the unsharded one moved into shard a.
    await client.apply(machine('m-a2', 'a'), { fieldManager: 'test' });
    await client.mergePatch(MACHINE, 'default', 'm-none', { metadata: { labels: { [SHARD_LABEL]: 'a' } } });
    await eventually('shard a to see both', async () => cached('a').length === 3);
    await eventually(
      'the others to drop m-none',
      async () => !cached('unsharded').includes('m-none') && cached('notA').join() === 'm-b',
    );
    assert.deepEqual(cached('a'), ['m-a', 'm-a2', 'm-none']);
    assert.deepEqual(cached('unsharded'), []);
    assert.ok(events.a.includes('add m-none'), events.a.join('; '));
    assert.ok(events.unsharded.includes('delete m-none'), events.unsharded.join('; '));
    assert.ok(events.notA.includes('delete m-none'), events.notA.join('; '));

    // Out of shard a again (the label removed): back to the unsharded watches.
    await client.mergePatch(MACHINE, 'default', 'm-a', { metadata: { labels: { [SHARD_LABEL]: null } } });
    await eventually('m-a to leave shard a', async () => !cached('a').includes('m-a'));
    await eventually(
      'm-a in the unsharded watches',
      async () => cached('unsharded').includes('m-a') && cached('notA').includes('m-a'),
    );
    assert.deepEqual(cached('a'), ['m-a2', 'm-none']);
    assert.deepEqual(cached('notA'), ['m-a', 'm-b']);
    assert.ok(events.a.includes('delete m-a'), events.a.join('; '));
    // What a selector never picked, its watch never reported.
    assert.ok(!events.a.some((e) => e.endsWith(' m-b')), events.a.join('; '));
    assert.ok(!events.unsharded.some((e) => e.endsWith(' m-b')), events.unsharded.join('; '));
  });
});
