// GitSource end to end: real git repositories in temp directories, the embedded API server, and
// SimOps' controllers, as `simops up` runs them.
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import type { Log } from '../controller/runtime/logger.ts';
import { REQUESTED_AT } from '../controller/runtime/status.ts';
import type { Condition } from '../crds/common.ts';
import type { GitSourceStatus } from '../crds/git-source.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';
import { createRepo } from './helpers/git.ts';
import { startGitHttpServer } from './helpers/git-http-server.ts';
import { tempDir } from './helpers/tmp.ts';

const GS = simopsKind('GitSource');
const MACHINE = simopsKind('Machine');

const machine = (name: string, category = 'Fan', extra = '') => `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: ${name}
spec:
  category: ${category}
${extra}`;

/** Every log line, to check that no secret is ever logged. */
const lines: string[] = [];
const recordingLog = (): Log => {
  const log: Log = {
    info: (o, m) => lines.push(JSON.stringify(o) + (m ?? '')),
    warn: (o, m) => lines.push(JSON.stringify(o) + (m ?? '')),
    error: (o, m) => lines.push(JSON.stringify(o) + (m ?? '')),
    debug: () => {},
    child: () => log,
  };
  return log;
};

describe('GitSource', () => {
  let api: Embedded;
  let running: Running;
  const kc = new KubeConfig();
  const client = () => running.manager.client;

  const source = (name: string, spec: Record<string, unknown>): KubeObject => ({
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'GitSource',
    metadata: { name, namespace: 'default' },
    spec: { interval: '1h', ...spec },
  });
  const statusOf = async (name: string) =>
    ((await client().get(GS, 'default', name))?.status ?? {}) as GitSourceStatus;
  const ready = async (name: string) =>
    getCondition((await statusOf(name)).conditions as Condition[], 'Ready');
  const machineOf = (name: string, ns = 'default') => client().get(MACHINE, ns, name);
  const specOf = async (name: string, ns = 'default') =>
    ((await machineOf(name, ns))?.spec ?? {}) as {
      category?: string;
      simulated?: boolean;
      connectionInfo?: unknown;
    };
  const waitReady = (name: string, revision: RegExp | string, timeoutMs?: number) =>
    eventually(
      `${name} Ready at ${revision}`,
      async () => {
        const s = await statusOf(name);
        const r = getCondition(s.conditions as Condition[], 'Ready');
        const rev = s.lastAppliedRevision ?? '';
        return (
          r?.status === 'True' && (typeof revision === 'string' ? rev === revision : revision.test(rev)) && s
        );
      },
      timeoutMs,
    );

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: recordingLog(),
      cacheDir: tempDir('simops-git-'),
      health: { host: '127.0.0.1', port: 0 },
    });
  });
  after(async () => {
    await running.stop();
    await api.stop();
  });

  it('applies a commit, updates and prunes on the next, applies nothing from a broken one, and recovers', async () => {
    const repo = createRepo();
    const c1 = repo.commit({
      'machines/a.yaml': machine('a'),
      'machines/b.yaml': machine('b'),
      'README.md': '# lab\n',
    });
    await client().apply(source('lab', { url: repo.url }), { fieldManager: 'test' });
    const s1 = await waitReady('lab', `main@sha1:${c1}`);
    assert.equal(s1.artifact?.revision, `main@sha1:${c1}`);
    assert.deepEqual(
      s1.inventory?.map((e) => e.id),
      ['default_a_simops.dev_Machine', 'default_b_simops.dev_Machine'],
    );
    assert.equal((await machineOf('a'))?.metadata.labels?.['simops.dev/source-name'], 'lab');

    const c2 = repo.commit({ 'machines/a.yaml': machine('a', 'Pump'), 'machines/b.yaml': null });
    await client().mergePatch(GS, 'default', 'lab', { metadata: { annotations: { [REQUESTED_AT]: 'c2' } } });
    await waitReady('lab', `main@sha1:${c2}`);
    assert.equal((await specOf('a')).category, 'Pump');
    await eventually('b pruned', async () => (await machineOf('b')) === undefined);

    const c3 = repo.commit({
      'machines/a.yaml': machine('a', 'Shaker'),
      'machines/c.yaml': machine('c', 'Fan', '  bogus: 1\n'),
    });
    await client().mergePatch(GS, 'default', 'lab', { metadata: { annotations: { [REQUESTED_AT]: 'c3' } } });
    const failed = await eventually('BuildFailed', async () => {
      const r = await ready('lab');
      return r?.reason === 'BuildFailed' && r;
    });
    assert.equal(failed.status, 'False');
    assert.match(failed.message, /machines\/c\.yaml:7:3 spec\.bogus: unknown field/);
    const s3 = await statusOf('lab');
    assert.equal(s3.lastAttemptedRevision, `main@sha1:${c3}`);
    assert.equal(s3.lastAppliedRevision, `main@sha1:${c2}`);
    assert.equal((await specOf('a')).category, 'Pump', 'nothing of the broken commit applied');
    assert.equal(await machineOf('c'), undefined);

    const c4 = repo.commit({ 'machines/c.yaml': machine('c') });
    await client().mergePatch(GS, 'default', 'lab', { metadata: { annotations: { [REQUESTED_AT]: 'c4' } } });
    const s4 = await waitReady('lab', `main@sha1:${c4}`);
    assert.equal(s4.lastHandledReconcileAt, 'c4');
    assert.equal((await specOf('a')).category, 'Shaker');
    assert.ok(await machineOf('c'));
  });

  it('pins a tag and a commit, and reads only path minus ignored files', async () => {
    const repo = createRepo();
    const c1 = repo.commit({
      'deploy/m.yaml': machine('pinned', 'Fan'),
      'deploy/skip/x.yaml': machine('ignored'),
      'other/o.yaml': machine('outside'),
    });
    repo.tag('v1.0.0');
    repo.commit({ 'deploy/m.yaml': machine('pinned', 'Pump') });
    await client().apply(
      source('tagged', { url: repo.url, ref: { tag: 'v1.0.0' }, path: './deploy', ignore: 'skip/\n' }),
      { fieldManager: 'test' },
    );
    await waitReady('tagged', `v1.0.0@sha1:${c1}`);
    assert.equal((await specOf('pinned')).category, 'Fan');
    assert.equal(await machineOf('ignored'), undefined);
    assert.equal(await machineOf('outside'), undefined);

    await client().apply(source('by-commit', { url: repo.url, ref: { commit: c1 }, path: './other' }), {
      fieldManager: 'test',
    });
    await waitReady('by-commit', `sha1:${c1}`);
    assert.ok(await machineOf('outside'));
  });

  it('builds different objects from one base with the simulation and live overlays', async () => {
    const repo = createRepo();
    repo.commit({
      'namespace.yaml': 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: lab-sim\n',
      'base.yaml': machine('reader', 'PlateReader').replace(
        'metadata:\n',
        'metadata:\n  namespace: lab-sim\n',
      ),
      'overlays/live/reader.yaml':
        'apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: reader\n  namespace: lab-sim\nspec:\n  simulated: false\n  connectionInfo:\n    host: 10.0.0.5\n    port: 5025\n',
    });
    await client().apply(source('sim-env', { url: repo.url, environment: 'simulation' }), {
      fieldManager: 'test',
    });
    await waitReady('sim-env', /^main@sha1:/);
    const sim = await specOf('reader', 'lab-sim');
    assert.equal(sim.simulated, true);
    assert.equal(sim.connectionInfo, undefined);

    await client().delete(GS, 'default', 'sim-env');
    await eventually(
      'sim-env gone and its objects pruned',
      async () => (await machineOf('reader', 'lab-sim')) === undefined,
    );
    await client().apply(source('live-env', { url: repo.url, environment: 'live' }), {
      fieldManager: 'test',
    });
    await waitReady('live-env', /^main@sha1:/);
    const live = await specOf('reader', 'lab-sim');
    assert.equal(live.simulated, false);
    assert.deepEqual(live.connectionInfo, {
      host: '10.0.0.5',
      port: 5025,
    });
  });

  it('corrects drift on the next interval, keeps prune opt-outs, and does nothing while suspended', async () => {
    const repo = createRepo();
    repo.commit({ 'm.yaml': machine('drifty'), 'keep.yaml': machine('keeper') });
    await client().apply(source('drift', { url: repo.url, interval: '1s' }), { fieldManager: 'test' });
    await waitReady('drift', /^main@sha1:/);
    await client().mergePatch(
      MACHINE,
      'default',
      'drifty',
      { spec: { category: 'Centrifuge' } },
      'kubectl-edit',
    );
    await eventually('drift corrected', async () => (await specOf('drifty')).category === 'Fan', 6000);

    await client().mergePatch(MACHINE, 'default', 'keeper', {
      metadata: { annotations: { 'simops.dev/prune': 'disabled' } },
    });
    const c2 = repo.commit({ 'keep.yaml': null });
    await waitReady('drift', `main@sha1:${c2}`, 6000);
    assert.ok(await machineOf('keeper'), 'an object that opts out of pruning stays');

    await client().mergePatch(GS, 'default', 'drift', { spec: { suspend: true } });
    await new Promise((r) => setTimeout(r, 300));
    const c3 = repo.commit({ 'm.yaml': machine('drifty', 'Incubator') });
    await new Promise((r) => setTimeout(r, 2500));
    assert.equal((await specOf('drifty')).category, 'Fan', 'suspended: nothing applied');
    await client().mergePatch(GS, 'default', 'drift', { spec: { suspend: false } });
    await waitReady('drift', `main@sha1:${c3}`, 6000);
    assert.equal((await specOf('drifty')).category, 'Incubator');
  });

  it('fetches over authenticated HTTP; a wrong password is AuthenticationFailed and never shown', async () => {
    const root = tempDir('simops-gitroot-');
    const repo = createRepo(join(root, 'lab.git'));
    const c1 = repo.commit({ 'm.yaml': machine('remote') });
    const server = await startGitHttpServer({ root, username: 'bot', password: 's3cret-Pa55' });
    try {
      const secret = (name: string, password: string): KubeObject => ({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name, namespace: 'default' },
        stringData: { username: 'bot', password },
      });
      await client().apply(secret('good-creds', 's3cret-Pa55'), { fieldManager: 'test' });
      await client().apply(secret('bad-creds', 'wr0ng-Pa55word'), { fieldManager: 'test' });
      await client().apply(
        source('remote', { url: `${server.url}/lab.git`, secretRef: { name: 'good-creds' } }),
        { fieldManager: 'test' },
      );
      await waitReady('remote', `main@sha1:${c1}`);
      assert.ok(await machineOf('remote'));

      await client().apply(
        source('remote-bad', { url: `${server.url}/lab.git`, secretRef: { name: 'bad-creds' } }),
        { fieldManager: 'test' },
      );
      const r = await eventually('AuthenticationFailed', async () => {
        const c = await ready('remote-bad');
        return c?.reason === 'AuthenticationFailed' && c;
      });
      assert.equal(r.status, 'False');
      const everything = JSON.stringify(await client().get(GS, 'default', 'remote-bad')) + lines.join('\n');
      const events = JSON.stringify((await client().list(coreKind('Event'), 'default')).items);
      for (const text of [everything, events]) {
        assert.doesNotMatch(text, /wr0ng-Pa55word|s3cret-Pa55/);
      }
    } finally {
      await server.close();
    }
  });

  it('syncs at once on a webhook with a good signature and rejects a bad one', async () => {
    const repo = createRepo();
    repo.commit({ 'm.yaml': machine('hooked', 'Fan') });
    await client().apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'hook', namespace: 'default' },
        stringData: { webhookToken: 'tok-123' },
      } as KubeObject,
      { fieldManager: 'test' },
    );
    await client().apply(source('hooked', { url: repo.url, secretRef: { name: 'hook' } }), {
      fieldManager: 'test',
    });
    await waitReady('hooked', /^main@sha1:/);
    const c2 = repo.commit({ 'm.yaml': machine('hooked', 'Pump') });
    const post = (signature: string) =>
      new Promise<number>((resolve, reject) => {
        const body = '{"ref":"refs/heads/main"}';
        const req = request(
          `${running.healthUrl}/hook/default/hooked`,
          {
            method: 'POST',
            headers: { 'Content-Type': 'application/json', 'X-Signature-256': signature },
          },
          (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          },
        );
        req.on('error', reject);
        req.end(body);
      });
    const body = '{"ref":"refs/heads/main"}';
    assert.equal(await post('sha256=0000'), 401);
    assert.equal(await post(`sha256=${createHmac('sha256', 'tok-123').update(body).digest('hex')}`), 202);
    await waitReady('hooked', `main@sha1:${c2}`, 5000);
  });

  it('writes a status report back to a branch of the repository, and commits only on change', async () => {
    const repo = createRepo();
    const c1 = repo.commit({ 'm.yaml': machine('reported', 'Fan') });
    await client().apply(
      source('reporter', { url: repo.url, writeBack: { branch: 'simops-status', path: 'status/' } }),
      { fieldManager: 'test' },
    );
    await waitReady('reporter', `main@sha1:${c1}`);
    const index = await eventually('status branch', async () => {
      try {
        return repo.git('show', 'simops-status:status/index.yaml');
      } catch {
        return undefined;
      }
    });
    assert.match(index, /reported/);
    assert.match(index, new RegExp(c1));
    const commits = () => Number(repo.git('rev-list', '--count', 'simops-status'));
    // The report carries the objects' status, which their reconcilers write: once that settles,
    // another sync must not commit.
    await eventually(
      'machine Ready',
      async () =>
        getCondition(
          ((await machineOf('reported'))?.status as { conditions?: Condition[] })?.conditions,
          'Ready',
        )?.status === 'True',
    );
    await client().mergePatch(GS, 'default', 'reporter', {
      metadata: { annotations: { [REQUESTED_AT]: 'settled' } },
    });
    await eventually(
      'handled',
      async () => (await statusOf('reporter')).lastHandledReconcileAt === 'settled',
    );
    const before = commits();
    await client().mergePatch(GS, 'default', 'reporter', {
      metadata: { annotations: { [REQUESTED_AT]: 'again' } },
    });
    await eventually('handled', async () => (await statusOf('reporter')).lastHandledReconcileAt === 'again');
    assert.equal(commits(), before, 'nothing changed, no commit');
    assert.equal(repo.git('rev-parse', 'main'), c1, 'the source branch is untouched');
  });

  it('applies an edited file of a local working tree within a second', async () => {
    const dir = tempDir('simops-worktree-');
    writeFileSync(join(dir, 'm.yaml'), machine('local', 'Fan'));
    await client().apply(source('worktree', { url: dir }), { fieldManager: 'test' });
    await waitReady('worktree', /^worktree@sha256:/);
    const edited = Date.now();
    writeFileSync(join(dir, 'm.yaml'), machine('local', 'Pump'));
    await eventually('edit applied', async () => (await specOf('local')).category === 'Pump', 3000);
    const took = Date.now() - edited;
    assert.ok(took < 1500, `applied ${took} ms after the edit`);
  });
});
