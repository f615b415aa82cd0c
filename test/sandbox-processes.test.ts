// The process runtime's promise: a sandbox leaves no process behind. Expiry, operatingMode
// Stopped, a crashing service (one that starts a child of its own), a crash loop and deletion,
// each checked against the process table. Real git, the embedded API server, the GitSource,
// Simulator and Sandbox reconcilers (restart backoff shortened so the crash loop is quick).
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { type Manager, startManager } from '../controller/runtime/manager.ts';
import { REQUESTED_AT } from '../controller/runtime/status.ts';
import type { SandboxStatus } from '../crds/sandbox.ts';
import { gitSourceReconciler } from '../reconcilers/git-source/reconciler.ts';
import { HEARTBEAT } from '../reconcilers/sandbox/decide.ts';
import { sandboxReconciler } from '../reconcilers/sandbox/reconciler.ts';
import { simulatorReconciler } from '../reconcilers/simulator/reconciler.ts';
import { applySource, demoFiles, eventsOf, eventually, ready, SANDBOX, sync, yaml } from './helpers/demo.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo, type TestRepo } from './helpers/git.ts';
import { processesUnder, settledProcessesUnder } from './helpers/processes.ts';
import { tempDir } from './helpers/tmp.ts';

/** A service that starts a child of its own, crashes on /crash, and at start while `crash-at-start` exists. */
const CRASHY = `import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:http';
if (existsSync('crash-at-start')) {
  console.error('refusing to start: crash-at-start exists');
  process.exit(3);
}
spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
createServer((req, res) => {
  if (req.url === '/crash') {
    console.error('crashing on request');
    process.exit(2);
  }
  res.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;

const simulator = yaml({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Simulator',
  metadata: { name: 'crashy', namespace: 'default' },
  spec: {
    service: 'crashy',
    datasets: {
      base: {
        compute: { appPort: 80 },
        services: {
          web: {
            type: 'process',
            command: 'node',
            args: ['app/crashy.mjs'],
            env: { PORT: '$(SIMOPS_PORT_WEB)' },
          },
        },
        listeners: [{ name: 'web', port: 80, protocol: 'http', path: '/' }],
      },
    },
  },
});

const sandbox = (name: string, spec: Record<string, unknown> = {}) =>
  yaml({
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'Sandbox',
    metadata: { name, namespace: 'default' },
    spec: { simulatorRef: { name: 'crashy' }, source: { config: true }, ...spec },
  });

const controller = async (api: Embedded, artifactDir: string, processRuntime: boolean) => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const cacheDir = tempDir('simops-git-');
  return startManager({
    kubeConfig: kc,
    log: silentLog,
    reconcilers: [
      gitSourceReconciler({ cacheDir, watchWorktrees: false }),
      simulatorReconciler({ cacheDir }),
      sandboxReconciler({
        cacheDir,
        artifactDir,
        processRuntime,
        process: { restartBaseMs: 50, maxRestarts: 3, stopGraceMs: 2000 },
      }),
    ],
  });
};

describe('Sandbox processes', () => {
  let api: Embedded;
  let manager: Manager;
  let repo: TestRepo;
  const artifactDir = tempDir('simops-artifacts-');
  const client = () => manager.client;
  const statusOf = async (name: string) =>
    ((await client().get(SANDBOX, 'default', name))?.status ?? {}) as SandboxStatus;
  const waitFor = async (
    name: string,
    what: string,
    ok: (s: SandboxStatus) => boolean,
    timeoutMs?: number,
  ) => {
    try {
      return await eventually(
        `${name}: ${what}`,
        async () => {
          const s = await statusOf(name);
          return ok(s) && s;
        },
        timeoutMs,
      );
    } catch (err) {
      // Say where it was instead.
      const s = await statusOf(name);
      throw new Error(
        `${(err as Error).message}; it is ${s.phase}: ${ready(await client().get(SANDBOX, 'default', name))?.message}; services ${JSON.stringify(s.services)}`,
      );
    }
  };
  const phase = (name: string, p: string, timeoutMs?: number) =>
    waitFor(name, p, (s) => s.phase === p, timeoutMs);
  const workDirOf = (name: string) => join(artifactDir, 'sandboxes', 'default', name, 'work');

  before(async () => {
    api = await startTestServer();
    manager = await controller(api, artifactDir, true);
    repo = createRepo();
    repo.commit({
      ...demoFiles(),
      'manifests/sandboxes/booking-dev.yaml': null,
      'app/crashy.mjs': CRASHY,
      'manifests/crashy.yaml': simulator,
      'manifests/crash.yaml': sandbox('crash'),
      'manifests/pause.yaml': sandbox('pause'),
      'manifests/short.yaml': sandbox('short', { timeoutSeconds: 2 }),
    });
    await applySource(client(), repo);
  });
  after(async () => {
    await manager.stop();
    await api.stop();
  });

  it('restarts a crashed service with backoff, reports it, and leaves nothing of the crashed one', async () => {
    const s = await phase('crash', 'Ready');
    const dir = workDirOf('crash');
    assert.equal(processesUnder(dir).length, 2, 'the service and the child it started');
    const first = processesUnder(dir).map((p) => p.pid);
    await fetch(`${s.endpoint}/crash`).catch(() => {});
    const restarted = await waitFor('crash', 'a restart', (x) => (x.services?.[0]?.restarts ?? 0) >= 1);
    assert.equal(restarted.services?.[0]?.state, 'Running');
    await eventually('the new incarnation', async () => processesUnder(dir).length === 2);
    const now = processesUnder(dir).map((p) => p.pid);
    assert.deepEqual(
      now.filter((pid) => first.includes(pid)),
      [],
      "the crashed service's child went with it",
    );
    const events = await eventsOf(client(), 'crash');
    const restart = events.find((e) => e.reason === 'ServiceRestarting');
    assert.equal(restart?.type, 'Warning');
    assert.match(String(restart?.message), /web: (restarted: it )?exited with code 2: crashing on request/);
  });

  it('fails a sandbox whose service keeps crashing, with no process left; a requested reconcile starts it again', async () => {
    const s = await statusOf('crash');
    const dir = workDirOf('crash');
    writeFileSync(join(dir, 'crash-at-start'), '');
    await fetch(`${s.endpoint}/crash`).catch(() => {});
    const failed = await phase('crash', 'Failed');
    const r = ready(await client().get(SANDBOX, 'default', 'crash'));
    assert.equal(r?.status, 'False');
    assert.equal(r?.reason, 'ServiceFailed');
    assert.match(
      r?.message ?? '',
      /service web keeps crashing \(3 restarts\); it exited with code 3: refusing to start: crash-at-start exists/,
    );
    assert.equal(failed.endpoint, undefined);
    assert.equal(failed.services?.[0]?.state, 'Failed');
    assert.deepEqual(await settledProcessesUnder(dir), []);
    // simops.dev/requestedAt makes a new working directory from the repository, and starts again.
    await client().mergePatch(SANDBOX, 'default', 'crash', {
      metadata: { annotations: { [REQUESTED_AT]: 'again' } },
    });
    await phase('crash', 'Ready');
    assert.equal(processesUnder(dir).length, 2);
  });

  it('stops every process for operatingMode Stopped, and starts again on the same port for Running', async () => {
    const running = await phase('pause', 'Ready');
    const dir = workDirOf('pause');
    assert.ok(processesUnder(dir).length > 0);
    await sync(client(), repo, { 'manifests/pause.yaml': sandbox('pause', { operatingMode: 'Stopped' }) });
    const stopped = await waitFor(
      'pause',
      'Stopped',
      (x) => x.phase === 'Stopped' && x.services?.[0]?.state === 'Stopped',
    );
    assert.equal(stopped.endpoint, undefined);
    assert.equal(ready(await client().get(SANDBOX, 'default', 'pause'))?.reason, 'SandboxStopped');
    assert.deepEqual(await settledProcessesUnder(dir), []);
    await sync(client(), repo, { 'manifests/pause.yaml': sandbox('pause') });
    const again = await phase('pause', 'Ready');
    assert.equal(again.endpoint, running.endpoint, 'the listener keeps its port');
  });

  it('expires an idle sandbox after timeoutSeconds, and a heartbeat starts it again', async () => {
    const dir = workDirOf('short');
    const expired = await phase('short', 'Expired', 10_000);
    const reasons = (await eventsOf(client(), 'short')).map((e) => e.reason);
    assert.ok(reasons.includes('Ready') && reasons.includes('SandboxExpired'), reasons.join(','));
    assert.equal(ready(await client().get(SANDBOX, 'default', 'short'))?.reason, 'SandboxExpired');
    assert.ok(expired.expiresAt && Date.parse(expired.expiresAt) <= Date.now());
    assert.deepEqual(await settledProcessesUnder(dir), []);
    await client().mergePatch(SANDBOX, 'default', 'short', {
      metadata: { annotations: { [HEARTBEAT]: new Date(Date.now() + 1000).toISOString() } },
    });
    await phase('short', 'Ready');
    assert.ok(processesUnder(dir).length > 0);
    await phase('short', 'Expired', 10_000);
    assert.deepEqual(await settledProcessesUnder(dir), []);
  });

  it('removes every process and the working directory of deleted sandboxes', async () => {
    const dirs = ['crash', 'pause', 'short'].map(workDirOf);
    await sync(client(), repo, {
      'manifests/crash.yaml': null,
      'manifests/pause.yaml': null,
      'manifests/short.yaml': null,
    });
    await eventually('deleted', async () => (await client().list(SANDBOX, 'default')).items.length === 0);
    for (const dir of dirs) assert.deepEqual(await settledProcessesUnder(dir), [], dir);
    assert.deepEqual(processesUnder(artifactDir), []);
  });
});

describe('Sandbox process runtime in cluster mode', () => {
  it('is off unless enabled: the sandbox stalls and says how to enable it', async () => {
    const api = await startTestServer();
    const artifactDir = tempDir('simops-artifacts-');
    const manager = await controller(api, artifactDir, false);
    try {
      const repo = createRepo();
      repo.commit({
        'app/crashy.mjs': CRASHY,
        'manifests/crashy.yaml': simulator,
        'manifests/crash.yaml': sandbox('crash'),
      });
      await applySource(manager.client, repo);
      const o = await eventually('RuntimeDisabled', async () => {
        const x = await manager.client.get(SANDBOX, 'default', 'crash');
        return ready(x)?.reason === 'RuntimeDisabled' && x;
      });
      assert.equal((o.status as SandboxStatus).phase, 'Failed');
      assert.match(ready(o)?.message ?? '', /--enable-process-runtime/);
      assert.deepEqual(processesUnder(artifactDir), []);
    } finally {
      await manager.stop();
      await api.stop();
    }
  });
});
