// Two `simops controller` processes against one API server, each one shard: `--shard a`, and the
// main instance with `--watch-label-selector 'simops.dev/shard notin (a)'` (as the Helm chart runs
// it). Each elects its own leader on its own Lease and reconciles only its shard's objects: the
// GitSource of shard a applies Machines that inherit its shard label, and every Machine's status
// endpoint (written by its reconcile, on the reconciling controller's HTTP port) names the
// controller of its shard. A webhook for shard a's GitSource that reaches the main instance is
// passed on to shard a. Objects moved from one shard to the other by their label change hands.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import { KubeClient } from '../controller/runtime/kube-client.ts';
import { SHARD_LABEL } from '../controller/runtime/sharding.ts';
import type { Condition } from '../crds/common.ts';
import type { GitSourceStatus } from '../crds/git-source.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';
import { createRepo } from './helpers/git.ts';
import { tempDir } from './helpers/tmp.ts';

const GS = simopsKind('GitSource');
const MACHINE = simopsKind('Machine');
const bin = new URL('../bin/simops.js', import.meta.url).pathname;
const TOKEN = 'shard-a-webhook-token';

const machine = (name: string, labels: Record<string, string> = {}) => ({
  apiVersion: MACHINE.apiVersion,
  kind: MACHINE.kind,
  metadata: { name, namespace: 'default', labels },
  spec: { category: 'Fan' },
});
const machineYaml = (name: string) =>
  `apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: ${name}\nspec:\n  category: Fan\n`;

/** One `simops controller` process and its JSON log lines. */
interface Instance {
  child: ChildProcess;
  logs: Record<string, unknown>[];
  exited: Promise<unknown>;
}

const startInstance = (kubeconfigPath: string, args: string[]): Instance => {
  const child = spawn(
    process.execPath,
    [
      bin,
      'controller',
      `--kubeconfig=${kubeconfigPath}`,
      '--namespace=default',
      '--health-bind=127.0.0.1:0',
      `--cache-dir=${tempDir('simops-shard-cache-')}`,
      `--artifact-dir=${tempDir('simops-shard-artifacts-')}`,
      ...args,
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const logs: Record<string, unknown>[] = [];
  let partial = '';
  child.stdout?.setEncoding('utf8').on('data', (s: string) => {
    const parts = (partial + s).split('\n');
    partial = parts.pop() ?? '';
    for (const line of parts) {
      try {
        logs.push(JSON.parse(line) as Record<string, unknown>);
      } catch {
        // not a log line
      }
    }
  });
  return { child, logs, exited: new Promise((resolve) => child.on('exit', resolve)) };
};

const running = (i: Instance) =>
  eventually(
    'the controller to run',
    async () => i.logs.find((l) => l.msg === 'controller running') as { identity: string; health: string },
    15_000,
  );

/** The GitSource revisions an instance synced (its reconciler's `synced` log lines). */
const synced = (i: Instance, name: string) =>
  i.logs.filter((l) => l.msg === 'synced' && l.name === name).map((l) => l.revision as string);

describe('two controller processes, each one shard', () => {
  let api: Embedded;
  let client: KubeClient;
  let leases: CoordinationV1Api;
  const instances: Instance[] = [];

  before(async () => {
    api = await startTestServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    client = new KubeClient(kc);
    leases = kc.makeApiClient(CoordinationV1Api);
  });
  after(async () => {
    // Stopped as a Deployment stops them; one still draining after 10 s is killed (and reported) so
    // that it cannot hold the suite.
    for (const i of instances) i.child.kill('SIGTERM');
    await Promise.all(
      instances.map(async (i) => {
        const timer = setTimeout(() => {
          console.error(`controller ${i.child.pid} still running 10 s after SIGTERM: killed`);
          i.child.kill('SIGKILL');
        }, 10_000);
        await i.exited;
        clearTimeout(timer);
      }),
    );
    await api.stop();
  });

  it('reconciles each object in its own shard only, with one leader Lease per shard', async (t) => {
    const repoA = createRepo();
    // One of gs-a's Machines names another shard itself: it stays there (the main instance takes it).
    const namesB = machineYaml('from-git-a-names-b').replace(
      'metadata:\n',
      `metadata:\n  labels:\n    ${SHARD_LABEL}: b\n`,
    );
    const c1 = repoA.commit({
      'm.yaml': `${machineYaml('from-git-a')}---\n${machineYaml('from-git-a2')}---\n${namesB}`,
    });
    const repoMain = createRepo();
    const cMain = repoMain.commit({ 'm.yaml': machineYaml('from-git-main') });
    await client.apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'shard-a-hook', namespace: 'default' },
        stringData: { webhookToken: TOKEN },
      },
      { fieldManager: 'test' },
    );
    const gitSource = (name: string, url: string, labels: Record<string, string>, secret?: string) =>
      client.apply(
        {
          apiVersion: GS.apiVersion,
          kind: GS.kind,
          metadata: { name, namespace: 'default', labels },
          spec: { url, interval: '1h', ...(secret ? { secretRef: { name: secret } } : {}) },
        },
        { fieldManager: 'test' },
      );
    await gitSource('gs-a', repoA.url, { [SHARD_LABEL]: 'a' }, 'shard-a-hook');
    await gitSource('gs-main', repoMain.url, {});
    await client.apply(machine('direct-a', { [SHARD_LABEL]: 'a' }), { fieldManager: 'test' });
    await client.apply(machine('direct-main'), { fieldManager: 'test' });
    // No instance runs shard b: the main instance's `notin` selector takes it rather than orphan it.
    await client.apply(machine('direct-b', { [SHARD_LABEL]: 'b' }), { fieldManager: 'test' });

    const a = startInstance(api.kubeconfigPath, ['--shard=a']);
    const main = startInstance(api.kubeconfigPath, [`--watch-label-selector=${SHARD_LABEL} notin (a)`]);
    instances.push(a, main);
    const [runA, runMain] = await Promise.all([running(a), running(main)]);
    assert.notEqual(runA.health, runMain.health);

    // Each shard leads on its own Lease.
    const holder = async (name: string) =>
      (await leases.readNamespacedLease({ name, namespace: 'default' }).catch(() => undefined))?.spec
        ?.holderIdentity;
    await eventually('both leaders', async () => {
      return (
        (await holder('simops-controller-a')) === runA.identity &&
        (await holder('simops-controller')) === runMain.identity
      );
    });

    // Both GitSources synced, each by its own shard; what gs-a applied carries its shard label.
    const ready = (name: string, revision: string) =>
      eventually(
        `${name} Ready at ${revision}`,
        async () => {
          const s = ((await client.get(GS, 'default', name))?.status ?? {}) as GitSourceStatus;
          const r = getCondition(s.conditions as Condition[], 'Ready');
          return r?.status === 'True' && s.lastAppliedRevision === revision && s;
        },
        15_000,
      );
    await ready('gs-a', `main@sha1:${c1}`);
    await ready('gs-main', `main@sha1:${cMain}`);
    assert.deepEqual(synced(a, 'gs-a'), [`main@sha1:${c1}`]);
    assert.deepEqual(synced(main, 'gs-main'), [`main@sha1:${cMain}`]);
    assert.deepEqual(synced(a, 'gs-main'), [], 'shard a did not sync the main GitSource');
    assert.deepEqual(synced(main, 'gs-a'), [], 'the main instance did not sync shard a’s GitSource');

    // Every Machine is Ready with its command endpoint on the HTTP port of its shard's controller.
    const expected: Record<string, string> = {
      'from-git-a': runA.health,
      'from-git-a2': runA.health,
      'direct-a': runA.health,
      'from-git-main': runMain.health,
      'direct-main': runMain.health,
      'direct-b': runMain.health,
      'from-git-a-names-b': runMain.health,
    };
    const endpointOf = async (name: string) => {
      const o = await client.get(MACHINE, 'default', name);
      return (o?.status as { endpoint?: string } | undefined)?.endpoint;
    };
    for (const [name, base] of Object.entries(expected)) {
      const endpoint = await eventually(`${name}'s endpoint`, () => endpointOf(name), 15_000);
      assert.ok(endpoint.startsWith(`${base}/`), `${name}: ${endpoint} is not on ${base}`);
    }
    for (const name of ['from-git-a', 'from-git-a2'])
      assert.equal((await client.get(MACHINE, 'default', name))?.metadata.labels?.[SHARD_LABEL], 'a');
    assert.equal(
      (await client.get(MACHINE, 'default', 'from-git-main'))?.metadata.labels?.[SHARD_LABEL],
      undefined,
    );

    // A webhook for gs-a that reaches the main instance is handed to shard a, which syncs the commit.
    const c2 = repoA.commit({ 'more.yaml': machineYaml('from-git-a3') });
    const body = JSON.stringify({ ref: 'refs/heads/main' });
    const signature = `sha256=${createHmac('sha256', TOKEN).update(body).digest('hex')}`;
    const hook = await fetch(`${runMain.health}/hook/default/gs-a`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', 'X-Signature-256': signature },
      body,
    });
    assert.equal(hook.status, 202);
    await ready('gs-a', `main@sha1:${c2}`);
    assert.deepEqual(synced(a, 'gs-a'), [`main@sha1:${c1}`, `main@sha1:${c2}`]);
    // What shard a does not watch (the Machine that names shard b) is still known to be unchanged.
    const results = a.logs.filter((l) => l.msg === 'synced' && l.name === 'gs-a').map((l) => l.result);
    assert.deepEqual(results, ['3 created', '1 created, 3 unchanged']);
    assert.deepEqual(synced(main, 'gs-a'), []);
    const endpoint = await eventually('from-git-a3 endpoint', () => endpointOf('from-git-a3'), 10_000);
    assert.ok(endpoint.startsWith(`${runA.health}/`), endpoint);

    // Moved between shards by its label: the main instance lets go, shard a takes it.
    await client.mergePatch(MACHINE, 'default', 'direct-main', {
      metadata: { labels: { [SHARD_LABEL]: 'a' }, annotations: { 'simops.dev/requestedAt': 'moved' } },
    });
    await eventually(
      'direct-main handled by shard a',
      async () => {
        const o = await client.get(MACHINE, 'default', 'direct-main');
        const s = o?.status as { lastHandledReconcileAt?: string; endpoint?: string } | undefined;
        return s?.lastHandledReconcileAt === 'moved' && s.endpoint?.startsWith(`${runA.health}/`);
      },
      10_000,
    );

    // A GitSource moved to shard a takes what it applies along: shard a syncs it and relabels its
    // Machines; the main instance, told by its watch that the GitSource left, does not sync it again.
    await client.mergePatch(GS, 'default', 'gs-main', { metadata: { labels: { [SHARD_LABEL]: 'a' } } });
    await eventually('shard a to sync gs-main', async () => synced(a, 'gs-main').length === 1, 10_000);
    await eventually(
      'from-git-main handled by shard a',
      async () => {
        const o = await client.get(MACHINE, 'default', 'from-git-main');
        const endpoint = (o?.status as { endpoint?: string } | undefined)?.endpoint;
        return o?.metadata.labels?.[SHARD_LABEL] === 'a' && endpoint?.startsWith(`${runA.health}/`);
      },
      10_000,
    );
    await sleep(500);
    assert.deepEqual(synced(main, 'gs-main'), [`main@sha1:${cMain}`], 'the main instance let gs-main go');
    const events = (await client.list(coreKind('Event'), 'default')).items.length;
    t.diagnostic(`${events} events; shard a logged ${a.logs.length} lines, main ${main.logs.length}`);
  });
});
