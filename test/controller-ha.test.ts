// Two controller processes against one API server, with leader election: only the leader applies;
// after the leader is killed with SIGKILL the other takes over within the lease duration and applies
// the next commit, and nothing already applied is applied again. A signed webhook that reaches the
// standby (a Service sends it to any replica) makes the leader sync the new commit.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import { KubeClient } from '../controller/runtime/kube-client.ts';
import type { Condition } from '../crds/common.ts';
import type { GitSourceStatus } from '../crds/git-source.ts';
import { sourceSelector } from '../reconcilers/git-source/desired.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo } from './helpers/git.ts';
import { tempDir } from './helpers/tmp.ts';

const TIMING = { leaseDurationMs: 3000, renewDeadlineMs: 2000, retryPeriodMs: 500 };
const GS = simopsKind('GitSource');
const MACHINE = simopsKind('Machine');
const CONFIGMAP = coreKind('ConfigMap');
const childEntry = new URL('./helpers/controller-process.ts', import.meta.url).pathname;

const configMap = `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: settings\ndata:\n  mode: simulation\n`;
const machine = (name: string, category = 'Fan') =>
  `apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: ${name}\nspec:\n  category: ${category}\n`;

const waitFor = async <T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 10_000,
): Promise<T> => {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

/** When the GitSource last server-side applied the object (its field manager's Apply entry). */
const appliedAt = (o: KubeObject) =>
  o.metadata.managedFields?.find((e) => e.manager === 'simops' && e.operation === 'Apply' && !e.subresource)
    ?.time;

/** One controller process and what it printed. */
interface Replica {
  identity: string;
  child: ChildProcess;
  lines: string[];
  exited: Promise<unknown>;
  leading(): boolean;
  synced(): string[];
  /** Where its health server (and webhook receiver) listens, once it printed it. */
  health(): string | undefined;
}

const startReplica = (kubeconfigPath: string, identity: string, leaseName = 'simops-controller'): Replica => {
  const child = spawn(
    process.execPath,
    [
      childEntry,
      kubeconfigPath,
      identity,
      tempDir('simops-ha-cache-'),
      ...[TIMING.leaseDurationMs, TIMING.renewDeadlineMs, TIMING.retryPeriodMs].map(String),
      leaseName,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const lines: string[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    lines.push(...parts);
  });
  return {
    identity,
    child,
    lines,
    exited: new Promise((resolve) => child.on('exit', resolve)),
    leading: () => lines.filter((l) => l === 'LEADING' || l === 'STOPPED').at(-1) === 'LEADING',
    synced: () => lines.filter((l) => l.startsWith('SYNCED ')).map((l) => l.slice('SYNCED '.length)),
    health: () => lines.find((l) => l.startsWith('HEALTH '))?.slice('HEALTH '.length),
  };
};

describe('two controller processes with leader election', () => {
  let api: Embedded;
  let client: KubeClient;
  let leases: CoordinationV1Api;
  const replicas: Replica[] = [];

  before(async () => {
    api = await startTestServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    client = new KubeClient(kc);
    leases = kc.makeApiClient(CoordinationV1Api);
  });
  after(async () => {
    for (const r of replicas) r.child.kill('SIGKILL');
    await Promise.all(replicas.map((r) => r.exited));
    await api.stop();
  });

  const statusOf = async (name = 'ha') =>
    ((await client.get(GS, 'default', name))?.status ?? {}) as GitSourceStatus;
  const readyAt = (revision: string, name = 'ha') =>
    waitFor(`GitSource ${name} Ready at ${revision}`, async () => {
      const s = await statusOf(name);
      const ready = getCondition(s.conditions as Condition[], 'Ready');
      return ready?.status === 'True' && s.lastAppliedRevision === revision && s;
    });
  const machines = async () =>
    new Map(
      (await client.list(MACHINE, 'default', sourceSelector('default', 'ha'))).items.map(
        (m): [string, KubeObject] => [m.metadata.name!, m],
      ),
    );

  it('applies from the leader only, and from the other replica within the lease duration after a SIGKILL', async (t) => {
    const repo = createRepo();
    const c1 = repo.commit({ 'a.yaml': machine('a'), 'b.yaml': machine('b'), 'settings.yaml': configMap });
    await client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'ha', namespace: 'default' },
        spec: { url: repo.url, interval: '1s' },
      },
      { fieldManager: 'test' },
    );
    replicas.push(
      startReplica(api.kubeconfigPath, 'replica-a'),
      startReplica(api.kubeconfigPath, 'replica-b'),
    );

    const leader = await waitFor('a leader', () => replicas.find((r) => r.leading()), 15_000);
    const standby = replicas.find((r) => r !== leader)!;
    await readyAt(`main@sha1:${c1}`);
    // Several intervals (1 s) and renewals: the leader keeps syncing, the standby does nothing.
    await sleep(2500);
    assert.ok(leader.leading() && !standby.leading(), 'exactly one leader');
    assert.ok(!standby.lines.includes('LEADING'), 'the standby never led');
    assert.ok(leader.synced().length >= 2, `the leader synced ${leader.synced().length} times`);
    assert.deepEqual(standby.synced(), [], 'the standby applied nothing');
    const lease = await leases.readNamespacedLease({ name: 'simops-controller', namespace: 'default' });
    assert.equal(lease.spec?.holderIdentity, leader.identity);

    const before = await machines();
    assert.deepEqual([...before.keys()].sort(), ['a', 'b']);
    const settings = await client.get(CONFIGMAP, 'default', 'settings');
    assert.ok(settings);

    // The leader dies without releasing anything; a commit lands meanwhile.
    const killedAt = Date.now();
    leader.child.kill('SIGKILL');
    await leader.exited;
    const c2 = repo.commit({ 'b.yaml': machine('b', 'Pump'), 'c.yaml': machine('c') });

    await waitFor('the standby to lead', () => standby.leading(), TIMING.leaseDurationMs * 3);
    const tookOver = Date.now() - killedAt;
    t.diagnostic(`took over ${tookOver} ms after SIGKILL`);
    assert.ok(
      tookOver <= TIMING.leaseDurationMs + TIMING.retryPeriodMs * 1.2 + 500,
      `took over after ${tookOver} ms`,
    );
    await readyAt(`main@sha1:${c2}`);
    assert.ok(standby.synced().includes(`main@sha1:${c2}`), 'the new leader applied the next commit');
    const taken = await leases.readNamespacedLease({ name: 'simops-controller', namespace: 'default' });
    assert.equal(taken.spec?.holderIdentity, standby.identity);
    assert.equal(taken.spec?.leaseTransitions, 1);

    // Nothing applied twice in a harmful way: no duplicates, what did not change is not written again
    // (the ConfigMap, which nothing else writes, keeps its resourceVersion; the Machine `a`, whose
    // status its own reconciler writes, keeps its generation and the time of our apply), and `b`
    // changed once.
    await sleep(1500); // a resync or two by the new leader
    const now = await machines();
    assert.deepEqual([...now.keys()].sort(), ['a', 'b', 'c']);
    const settingsNow = await client.get(CONFIGMAP, 'default', 'settings');
    assert.equal(settingsNow?.metadata.resourceVersion, settings.metadata.resourceVersion);
    const [a0, a1] = [before.get('a')!, now.get('a')!];
    assert.equal(a1.metadata.uid, a0.metadata.uid);
    assert.equal(a1.metadata.generation, a0.metadata.generation);
    assert.ok(appliedAt(a0), 'a was applied by simops');
    assert.equal(appliedAt(a1), appliedAt(a0), 'a was not applied again');
    const [b0, b1] = [before.get('b')!, now.get('b')!];
    assert.equal(b1.metadata.uid, b0.metadata.uid, 'b was updated in place, not re-created');
    assert.equal(b1.metadata.generation, (b0.metadata.generation ?? 0) + 1, 'b changed exactly once');
    assert.equal((b1.spec as { category?: string }).category, 'Pump');
    assert.notEqual(appliedAt(b1), appliedAt(b0), 'a re-apply does show in the time of the Apply entry');
    const s = await statusOf();
    assert.deepEqual(
      s.inventory?.map((e) => e.id),
      [
        'default_a_simops.dev_Machine',
        'default_b_simops.dev_Machine',
        'default_c_simops.dev_Machine',
        'default_settings__ConfigMap',
      ],
    );

    // One successful-sync Event per revision: neither replica re-announced what was already applied.
    const events = (await client.list(coreKind('Event'), 'default')).items.filter(
      (e) => (e as { reason?: string }).reason === 'ReconciliationSucceeded',
    );
    for (const c of [c1, c2]) {
      const these = events.filter((e) =>
        String((e as { message?: string }).message).startsWith(`main@sha1:${c}`),
      );
      assert.equal(these.length, 1, `one event for ${c}`);
      assert.equal((these[0] as { count?: number }).count, 1);
    }
  });

  it('a webhook sent to the standby makes the leader sync the new commit', async () => {
    // The replicas of the test before leave: these two elect their own leader.
    for (const r of replicas.splice(0)) {
      r.child.kill('SIGKILL');
      await r.exited;
    }
    const token = 'ha-webhook-token';
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'hooked-token', namespace: 'default' },
        stringData: { webhookToken: token },
      } as KubeObject,
      { fieldManager: 'test' },
    );
    const repo = createRepo();
    const c1 = repo.commit({ 'd.yaml': machine('d') });
    // An interval far away: only the webhook makes it sync again.
    await client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'hooked', namespace: 'default' },
        spec: { url: repo.url, interval: '1h', secretRef: { name: 'hooked-token' } },
      },
      { fieldManager: 'test' },
    );
    replicas.push(
      startReplica(api.kubeconfigPath, 'hooks-a', 'simops-hooks'),
      startReplica(api.kubeconfigPath, 'hooks-b', 'simops-hooks'),
    );
    const leader = await waitFor('a leader', () => replicas.find((r) => r.leading()), 15_000);
    const standby = replicas.find((r) => r !== leader)!;
    await readyAt(`main@sha1:${c1}`, 'hooked');

    const c2 = repo.commit({ 'e.yaml': machine('e') });
    const body = JSON.stringify({ ref: 'refs/heads/main', after: c2 });
    const url = await waitFor('the standby serving', () => standby.health());
    const hook = await fetch(`${url}/hook/default/hooked`, {
      method: 'POST',
      headers: {
        'Content-Type': 'application/json',
        'X-Signature-256': `sha256=${createHmac('sha256', token).update(body).digest('hex')}`,
      },
      body,
    });
    assert.equal(hook.status, 202);
    await readyAt(`main@sha1:${c2}`, 'hooked');
    assert.ok(leader.synced().includes(`main@sha1:${c2}`), 'the leader synced the new commit');
    assert.ok(!standby.leading(), 'the standby still stands by');
    assert.deepEqual(standby.synced(), [], 'the standby applied nothing');
  });
});
