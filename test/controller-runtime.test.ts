// The controller runtime against the embedded API server through client-node.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { type Manager, startManager } from '../controller/runtime/manager.ts';
import type { Reconciler } from '../controller/runtime/reconciler.ts';
import {
  hasFinalizer,
  nextStatus,
  patchStatus,
  REQUESTED_AT,
  setFinalizer,
} from '../controller/runtime/status.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';

const MACHINE = simopsKind('Machine');
const FINALIZER = 'simops.dev/test';

describe('controller runtime', () => {
  let api: Embedded;
  let manager: Manager;
  const calls = new Map<string, number>();
  let failuresLeft = 0;
  /** What the cache held for an object when it was last reconciled. */
  const cachedAtReconcile = new Map<string, KubeObject | undefined>();

  const machineReconciler: Reconciler = {
    kind: MACHINE,
    async reconcile(req, ctx) {
      calls.set(req.name, (calls.get(req.name) ?? 0) + 1);
      cachedAtReconcile.set(req.name, ctx.cache.get(req.namespace, req.name));
      const o = await ctx.client.get(MACHINE, req.namespace, req.name);
      if (!o) return undefined;
      if (o.metadata.deletionTimestamp) {
        await setFinalizer(ctx.client, MACHINE, o, FINALIZER, false);
        return undefined;
      }
      if (!hasFinalizer(o, FINALIZER)) {
        await setFinalizer(ctx.client, MACHINE, o, FINALIZER, true);
        return undefined; // the finalizer change brings us back
      }
      if (o.metadata.annotations?.fail && failuresLeft > 0) {
        failuresLeft--;
        throw new Error('transient failure');
      }
      ctx.events.record(o, 'Normal', 'Reconciled', `generation ${o.metadata.generation}`);
      await patchStatus(
        ctx.client,
        MACHINE,
        o,
        nextStatus(o, { phase: 'Running' }, { kind: 'ready', reason: 'Succeeded', message: 'ok' }),
      );
      return o.metadata.annotations?.requeue ? { requeueAfterMs: 100 } : undefined;
    },
  };

  const kc = new KubeConfig();
  const machine = (name: string, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'Machine',
    metadata: { name, namespace: 'default', ...extra },
    spec: { category: 'Fan' },
  });
  const get = (k = MACHINE, name = 'm1') => manager.client.get(k, 'default', name);

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    manager = await startManager({
      kubeConfig: kc,
      reconcilers: [machineReconciler],
      log: silentLog,
    });
  });
  after(async () => {
    await manager.stop();
    await api.stop();
  });

  it('reconciles a new object: finalizer, status with observedGeneration and Ready, an Event', async () => {
    await manager.client.apply(machine('m1'), { fieldManager: 'test' });
    const o = await eventually('Ready', async () => {
      const m = await get();
      return getCondition((m?.status as { conditions?: [] })?.conditions, 'Ready')?.status === 'True' && m;
    });
    assert.deepEqual(o.metadata.finalizers, [FINALIZER]);
    assert.equal((o.status as { observedGeneration: number }).observedGeneration, 1);
    const events = await eventually('event', async () => {
      const list = await manager.client.list(coreKind('Event'), 'default');
      return (
        list.items.filter((e) => (e.involvedObject as { name: string }).name === 'm1').length > 0 &&
        list.items
      );
    });
    assert.ok(events.some((e) => e.reason === 'Reconciled'));
  });

  it('does not reconcile again for its own status write, but does for a spec change', async () => {
    const before = calls.get('m1') ?? 0;
    await new Promise((r) => setTimeout(r, 400));
    assert.equal(calls.get('m1'), before, 'a status-only change is not a reason to reconcile');
    await manager.client.mergePatch(MACHINE, 'default', 'm1', { spec: { location: 'bench-b' } });
    const o = await eventually('generation 2 observed', async () => {
      const m = await get();
      return (m?.status as { observedGeneration?: number })?.observedGeneration === 2 && m;
    });
    assert.equal(o.metadata.generation, 2);
  });

  it('caches objects without their managedFields, as they are otherwise', async () => {
    const live = await get();
    assert.ok(live?.metadata.managedFields?.length, 'the server tracks field managers');
    const seen = await eventually('a reconcile saw generation 2 in the cache', async () => {
      const c = cachedAtReconcile.get('m1');
      return c?.metadata.generation === 2 && c;
    });
    assert.equal(seen.metadata.managedFields, undefined);
    assert.equal(seen.kind, 'Machine');
    assert.equal(seen.metadata.uid, live?.metadata.uid);
    assert.deepEqual(seen.spec, live?.spec);
  });

  it('honours simops.dev/requestedAt and echoes it in status.lastHandledReconcileAt', async () => {
    await manager.client.mergePatch(MACHINE, 'default', 'm1', {
      metadata: { annotations: { [REQUESTED_AT]: 'now-1' } },
    });
    await eventually(
      'lastHandledReconcileAt',
      async () =>
        ((await get())?.status as { lastHandledReconcileAt?: string })?.lastHandledReconcileAt === 'now-1',
    );
  });

  it('retries a failing reconcile with backoff until it succeeds', async () => {
    failuresLeft = 2;
    const before = calls.get('m2') ?? 0;
    await manager.client.apply(machine('m2', { annotations: { fail: 'yes' } }), { fieldManager: 'test' });
    await eventually(
      'Ready after retries',
      async () =>
        getCondition(((await get(MACHINE, 'm2'))?.status as { conditions?: [] })?.conditions, 'Ready')
          ?.status === 'True',
      8000,
    );
    assert.ok((calls.get('m2') ?? 0) - before >= 3, 'two failures and a success');
    assert.equal(failuresLeft, 0);
  });

  it('requeues after the requested delay', async () => {
    await manager.client.apply(machine('m3', { annotations: { requeue: 'yes' } }), { fieldManager: 'test' });
    await eventually('several requeues', async () => (calls.get('m3') ?? 0) >= 5, 5000);
  });

  it('removes its finalizer on deletion so the delete completes', async () => {
    await manager.client.delete(MACHINE, 'default', 'm1');
    await eventually('deleted', async () => (await get()) === undefined);
  });
});
