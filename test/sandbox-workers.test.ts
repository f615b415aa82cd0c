// Sandbox flows and snapshots next to `simops worker` processes (the real CLI) and a real
// redis-server. A process-runtime sandbox listens on the controller's loopback and keeps its files
// in the controller's artifact directory, so even with REDIS_URL its flows and snapshots run in
// the controller (reconcilers/sandbox/work-placement.ts): nothing goes on the `sandbox-flow` and
// `sandbox-snapshot` queues. What the kubernetes runtime queues (no cluster here) is a flow job the
// worker runs in its own Chromium, checked through the controller's queue runner.
// 1. The spec's flows pass in the controller, with their steps and PNG screenshots in status.
// 2. A running flow's steps show in status as it goes; stopping the sandbox cancels it.
// 3. Redis down: a requested flow runs all the same, the sandbox stays Ready.
// 4. A snapshot: the services stop, the controller archives the working directory, they start again.
// 5. A queued flow job runs on the worker: screenshots in the shared artifact directory.
import assert from 'node:assert/strict';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import type { Embedded } from '../apiserver/embedded.ts';
import { loadJobQueues, queuedJobs, SANDBOX_FLOW_JOBS } from '../controller/job-kinds.ts';
import { type Running, runController } from '../controller/run.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import type { SandboxStatus } from '../crds/sandbox.ts';
import { RUN_FLOWS } from '../reconcilers/sandbox/decide.ts';
import { jobFlowRunner } from '../reconcilers/sandbox/flow-job.ts';
import type { FlowT } from '../reconcilers/simulator/config.ts';
import { applySource, demoFiles, eventually, ready, SANDBOX } from './helpers/demo.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo, type TestRepo } from './helpers/git.ts';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis-server.ts';
import { tempDir } from './helpers/tmp.ts';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
/** A flow that waits 30 s after loading the home page, to be cancelled while it runs. */
const SLOW_FLOW = `    - name: slow
      steps:
        - {type: navigate, url: /}
        - {type: wait, duration: 30000}
`;

describe('Sandbox flows and snapshots with job queues', {
  skip: !redisAvailable() && 'redis-server is not installed',
}, () => {
  let redis: TestRedis;
  let api: Embedded;
  let controller: Running;
  let worker: WorkerProcess;
  let repo: TestRepo;
  const artifactDir = tempDir('simops-flow-worker-artifacts-');
  const kc = new KubeConfig();
  const client = () => controller.manager.client;
  const statusOf = async (name: string) =>
    ((await client().get(SANDBOX, 'default', name))?.status ?? {}) as SandboxStatus;
  const flowJobs = (result: string) =>
    worker.counter('simops_worker_jobs_total', { queue: 'sandbox-flow', result });
  /** Every job ever added to a queue (completed and failed ones are kept a day). */
  const queuedEver = async (name: string) => {
    const queue = new Queue(name, { connection: { url: redis.url }, prefix: 'simops' });
    queue.on('error', () => {});
    try {
      const counts = await queue.getJobCounts();
      return Object.values(counts).reduce((a, b) => a + b, 0);
    } finally {
      await queue.close();
    }
  };
  const runOf = async (flow: string, pick: (r: NonNullable<SandboxStatus['flowRuns']>[number]) => boolean) =>
    (await statusOf('booking-dev')).flowRuns?.filter((r) => r.flow === flow).find(pick);
  const flowsDone = (since: string) =>
    eventually(
      'login and smoke finished',
      async () => {
        const s = await statusOf('booking-dev');
        const runs = ['login', 'smoke'].map((f) =>
          s.flowRuns?.find((r) => r.flow === f && r.startedAt >= since && r.result !== 'Running'),
        );
        return runs.every(Boolean) && s.phase === 'Ready' && runs;
      },
      60_000,
    );

  before(async () => {
    redis = await startRedis();
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    controller = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      processRuntime: true,
      redisUrl: redis.url,
      health: { host: '127.0.0.1', port: 0 },
    });
    worker = await startWorkerProcess({
      kubeconfig: api.kubeconfigPath,
      redisUrl: redis.url,
      artifactDir,
      cacheDir: tempDir('simops-worker-git-'),
    });
    const files = demoFiles();
    files['manifests/simulators/booking.yaml'] = files['manifests/simulators/booking.yaml']!.replace(
      '  flows:\n',
      `  flows:\n${SLOW_FLOW}`,
    );
    repo = createRepo();
    repo.commit(files);
    await applySource(client(), repo);
  });
  after(async () => {
    await worker?.kill();
    await controller?.stop();
    await api?.stop();
    await redis?.stop();
  });

  it("runs a process sandbox's flows in the controller even with REDIS_URL: steps and PNG screenshots in status", async () => {
    const [login, smoke] = await flowsDone('');
    assert.equal(login!.result, 'Passed', login!.message);
    assert.equal(smoke!.result, 'Passed', smoke!.message);
    assert.equal(login!.steps?.length, 9);
    assert.ok(login!.steps!.every((s) => s.result === 'Passed'));
    assert.equal(login!.screenshots?.length, 2);
    for (const shot of [...login!.screenshots!, ...smoke!.screenshots!]) {
      assert.ok(shot.startsWith(artifactDir), shot);
      assert.ok(readFileSync(shot).subarray(0, 8).equals(PNG), `${shot} is a PNG`);
    }
    assert.equal(JSON.parse(readFileSync(`${login!.artifacts}/result.json`, 'utf8')).result, 'Passed');
    assert.equal(await queuedEver('sandbox-flow'), 0, 'nothing queued');
    assert.equal(await flowJobs('completed'), 0, 'the worker ran no flow');
    assert.equal(ready(await client().get(SANDBOX, 'default', 'booking-dev'))?.status, 'True');
  });

  it('shows a running flow step by step, and stopping the sandbox cancels it', async () => {
    await client().mergePatch(SANDBOX, 'default', 'booking-dev', {
      metadata: { annotations: { [RUN_FLOWS]: 'slow' } },
    });
    const running = await eventually('slow running, its first step passed', async () => {
      const r = await runOf('slow', () => true);
      return r?.result === 'Running' && r.steps?.length === 1 && r;
    });
    assert.equal(running.steps![0]!.type, 'navigate');
    await client().mergePatch(SANDBOX, 'default', 'booking-dev', { spec: { operatingMode: 'Stopped' } });
    const stopped = await eventually('slow cancelled', async () => {
      const r = await runOf('slow', (x) => x.id === running.id);
      return r?.result === 'Failed' && r;
    });
    assert.equal(stopped.message, 'the run was cancelled');
    assert.ok((stopped.durationMs ?? 0) < 20_000, `cancelled after ${stopped.durationMs} ms`);
  });

  it('runs a requested flow while Redis is down: the sandbox does not need the queues', async () => {
    const since = new Date().toISOString().slice(0, 19);
    await client().mergePatch(SANDBOX, 'default', 'booking-dev', { spec: { operatingMode: 'Running' } });
    await flowsDone(since);
    await redis.stop();
    try {
      await client().mergePatch(SANDBOX, 'default', 'booking-dev', {
        metadata: { annotations: { [RUN_FLOWS]: 'smoke@outage' } },
      });
      const smoke = await eventually(
        'smoke ran during the outage',
        async () => {
          const r = await runOf('smoke', (x) => x.trigger === 'annotation');
          return r && r.result !== 'Running' && r;
        },
        30_000,
      );
      assert.equal(smoke.result, 'Passed', smoke.message);
      assert.equal(ready(await client().get(SANDBOX, 'default', 'booking-dev'))?.status, 'True');
    } finally {
      await redis.start();
    }
  });

  it('archives a snapshot in the controller, and the services start again', async () => {
    const before = (await statusOf('booking-dev')).endpoint;
    await client().mergePatch(SANDBOX, 'default', 'booking-dev', {
      spec: { snapshot: { requestedAt: 'snap-1' } },
    });
    const snap = await eventually(
      'the snapshot',
      async () => {
        const s = await statusOf('booking-dev');
        return s.lastSnapshot?.requestedAt === 'snap-1' && s.phase === 'Ready' && s.lastSnapshot;
      },
      30_000,
    );
    assert.match(snap.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(snap.artifact, `art_${snap.digest.slice(7, 19)}`);
    const archive = `${artifactDir}/snapshots/${snap.digest.slice(7)}.tar.gz`;
    assert.ok(statSync(archive).size > 0, archive);
    assert.equal(await queuedEver('sandbox-snapshot'), 0, 'nothing queued');
    assert.equal(await worker.counter('simops_worker_jobs_total', { queue: 'sandbox-snapshot' }), 0);
    assert.ok((await statusOf('booking-dev')).endpoint, `the services run again (before: ${before})`);
  });

  it("runs a queued flow job (a kubernetes sandbox's) in the worker's Chromium", async () => {
    const endpoint = (await statusOf('booking-dev')).endpoint;
    assert.ok(endpoint, 'the sandbox runs');
    const jobs = queuedJobs(await loadJobQueues({ url: redis.url }, silentLog), SANDBOX_FLOW_JOBS);
    try {
      const outDir = join(artifactDir, 'sandboxes', 'default', 'elsewhere', 'flows', 'r1');
      const outcome = await jobFlowRunner(jobs, { key: 'default/elsewhere', artifactDir }).run(
        {
          name: 'home',
          steps: [
            { type: 'navigate', url: '/' },
            { type: 'screenshot', filename: 'home.png' },
          ],
        } as FlowT,
        { baseUrl: endpoint, outDir },
      );
      assert.equal(outcome.result, 'Passed', outcome.message);
      assert.equal(outcome.screenshots.length, 1);
      assert.ok(outcome.screenshots[0]!.startsWith(outDir), outcome.screenshots[0]);
      assert.ok(readFileSync(outcome.screenshots[0]!).subarray(0, 8).equals(PNG), 'a PNG');
      assert.equal(await flowJobs('completed'), 1, 'the worker ran it');
    } finally {
      await jobs.stop();
    }
  });
});
