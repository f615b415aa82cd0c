// The manager across leadership terms: leadership lost and regained while the controllers of the
// first term are still starting (their informers' first list is slow) must leave exactly the
// second term's controllers running, and none after stop().
import assert from 'node:assert/strict';
import { after, before, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { simopsKind } from '../controller/runtime/kinds.ts';
import { KubeClient } from '../controller/runtime/kube-client.ts';
import { microTime } from '../controller/runtime/lease-record.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { startManager } from '../controller/runtime/manager.ts';
import type { Reconciler } from '../controller/runtime/reconciler.ts';
import { type DelayProxy, startDelayProxy } from './helpers/delay-proxy.ts';
import { startTestServer } from './helpers/embedded.ts';

const MACHINE = simopsKind('Machine');
const LEASE = { namespace: 'default', name: 'manager-terms' };
const SLOW_LIST_MS = 2500;

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 10_000) => {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

let api: Embedded;
let proxy: DelayProxy;
before(async () => {
  api = await startTestServer();
  // Every list of Machines (not their watches) is slow: each term's controllers take that long to start.
  proxy = await startDelayProxy(api.server.url, api.caPem, (req) =>
    /\/machines(\?|$)/.test(req.url ?? '') && !/[?&]watch=/.test(req.url ?? '') ? SLOW_LIST_MS : 0,
  );
});
after(async () => {
  await proxy.close();
  await api.stop();
});

it('runs only the current term’s controllers when leadership is lost and regained during a slow start', async () => {
  const direct = new KubeConfig();
  direct.loadFromFile(api.kubeconfigPath);
  const leases = direct.makeApiClient(CoordinationV1Api);
  const client = new KubeClient(direct);
  const viaProxy = new KubeConfig();
  viaProxy.loadFromOptions({
    clusters: [{ name: 'proxy', server: proxy.url, skipTLSVerify: true }],
    users: [{ name: 'test', token: api.token }],
    contexts: [{ name: 'proxy', cluster: 'proxy', user: 'test' }],
    currentContext: 'proxy',
  });

  const reconciled: string[] = [];
  const reconciler: Reconciler = {
    kind: MACHINE,
    async reconcile(req) {
      reconciled.push(req.name);
      return undefined;
    },
  };
  const manager = await startManager({
    kubeConfig: viaProxy,
    reconcilers: [reconciler],
    log: silentLog,
    leaderElection: {
      ...LEASE,
      identity: 'me',
      leaseDurationMs: 2000,
      renewDeadlineMs: 1500,
      retryPeriodMs: 300,
    },
  });
  let stopped = false;
  try {
    await waitFor('leadership', () => manager.isLeader());
    // Someone else takes the lease while the first term's controllers are still starting...
    const held = await leases.readNamespacedLease(LEASE);
    await leases.replaceNamespacedLease({
      ...LEASE,
      body: { ...held, spec: { ...held.spec, holderIdentity: 'thief', renewTime: microTime(Date.now()) } },
    });
    await waitFor('stepping down', () => !manager.isLeader(), 3000);
    // ...and gives it up at once, so that we lead again before that start has finished.
    const taken = await leases.readNamespacedLease(LEASE);
    const { holderIdentity: _thief, ...rest } = taken.spec ?? {};
    await leases.replaceNamespacedLease({ ...LEASE, body: { ...taken, spec: rest } });
    await waitFor('leading again', () => manager.isLeader(), 3000);

    await waitFor('the second term’s controller', () => manager.controller('Machine') !== undefined, 10_000);
    await client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Machine',
        metadata: { name: 'during', namespace: 'default' },
        spec: { category: 'Fan' },
      },
      { fieldManager: 'test' },
    );
    await waitFor('a reconcile', () => reconciled.includes('during'));
    await sleep(300);
    assert.equal(reconciled.filter((n) => n === 'during').length, 1, 'one controller reconciled it, once');

    await manager.stop();
    stopped = true;
    await client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Machine',
        metadata: { name: 'after-stop', namespace: 'default' },
        spec: { category: 'Fan' },
      },
      { fieldManager: 'test' },
    );
    await sleep(1000);
    assert.ok(!reconciled.includes('after-stop'), 'no controller runs after stop()');
  } finally {
    if (!stopped) await manager.stop();
  }
});
