// ChaosScenario runs on `simops worker` processes (the real CLI) through a real redis-server: the
// controller (REDIS_URL) queues each run as a job on the `chaos-scenario` queue, and the worker runs
// the load against the demo booking app, reading the chaos hook secret with its own API client.
// 1. A run goes on a worker: live progress in status, a controller restarted midway collapses into
//    the same job (same run id), the final verdict and the artifacts the worker wrote.
// 2. The kill switch and a deletion reach the worker running the job; the Stopped status carries
//    the figures the worker reported as it stopped.
// 3. A controller started after the kill switch, a new generation or a deletion (a restart, a new
//    leader) has no job of its own for the run an earlier one started: it finds the job in the
//    queue and stops it on the worker.
// 4. Redis down: a new scenario reports QueueUnavailable and runs when Redis is back.
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { Queue } from 'bullmq';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import type { QueueJobData, QueueProgress } from '../controller/jobs/bullmq-runner.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { registry } from '../controller/runtime/metrics.ts';
import type { ChaosScenarioStatus } from '../crds/chaos-scenario.ts';
import type { Condition } from '../crds/common.ts';
import { type DemoApp, startDemoApp } from './helpers/demo-app.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis-server.ts';
import { tempDir } from './helpers/tmp.ts';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.ts';

const CHAOS = simopsKind('ChaosScenario');
type Status = ChaosScenarioStatus & { conditions?: Condition[]; observedGeneration?: number };

describe('ChaosScenario on workers', { skip: !redisAvailable() && 'redis-server is not installed' }, () => {
  let redis: TestRedis;
  let api: Embedded;
  let app: DemoApp;
  let controller: Running;
  let worker: WorkerProcess;
  let queue: Queue<QueueJobData<unknown>>;
  const artifactDir = tempDir('simops-chaos-worker-artifacts-');
  const kc = new KubeConfig();
  const client = () => controller.manager.client;
  const startController = () =>
    runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      redisUrl: redis.url,
      health: { host: '127.0.0.1', port: 0 },
    });
  const statusOf = async (name: string) =>
    ((await client().get(CHAOS, 'default', name))?.status ?? {}) as Status;
  const ready = (s: Status) => getCondition(s.conditions, 'Ready');
  const cancelledOnWorker = () =>
    worker.counter('simops_worker_jobs_total', { queue: 'chaos-scenario', result: 'cancelled' });
  const scenario = (name: string, realSeconds: number, extra: Record<string, unknown> = {}): KubeObject => ({
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'ChaosScenario',
    metadata: { name, namespace: 'default' },
    spec: {
      target: { url: app.url, chaosHookSecretRef: { name: 'chaos-hook' } },
      seed: 7,
      duration: { realSeconds, simHours: 1 },
      policies: { customerSpawnRate: 2, maxConcurrentAgents: 20, tickMs: 250 },
      ...extra,
    },
  });
  const running = (name: string) =>
    eventually(
      `${name} Running with traffic`,
      async () => {
        const s = await statusOf(name);
        return s.phase === 'Running' && (s.progress?.requests ?? 0) > 0 && s;
      },
      20_000,
    );

  before(async () => {
    redis = await startRedis();
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    app = await startDemoApp({ CHAOS_HOOK_SECRET: 'hook-secret' });
    controller = await startController();
    worker = await startWorkerProcess({
      kubeconfig: api.kubeconfigPath,
      redisUrl: redis.url,
      artifactDir,
      cacheDir: tempDir('simops-worker-git-'),
    });
    queue = new Queue('chaos-scenario', { connection: { url: redis.url }, prefix: 'simops' });
    queue.on('error', () => {});
    await client().apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'chaos-hook', namespace: 'default' },
        stringData: { secret: 'hook-secret' },
      } as KubeObject,
      { fieldManager: 'test' },
    );
  });
  after(async () => {
    await worker?.kill();
    await controller?.stop();
    await queue?.close();
    await api?.stop();
    await app?.stop();
    await redis?.stop();
  });

  it('runs on a worker: progress in status, a restarted controller collapses into the job, the verdict and artifacts', async () => {
    await client().apply(
      scenario('storm', 6, {
        events: [
          {
            type: 'CACHE_INVALIDATION_STORM',
            triggerAt: 10,
            duration: 10,
            parameters: { invalidationRate: 0.8 },
          },
        ],
      }),
      { fieldManager: 'test' },
    );
    const first = await running('storm');
    assert.equal(ready(first)?.reason, 'Running');
    const [job] = await queue.getActive();
    assert.ok(job, 'the run is a job on the chaos-scenario queue');
    assert.equal(job.data.id, 'default/storm');
    assert.equal((job.progress as QueueProgress).worker, worker.name);

    // A new controller (a restart, a new leader) names the same run: its submission collapses into
    // the job the worker is running.
    await controller.stop();
    controller = await startController();

    const done = await eventually(
      'storm finished',
      async () => {
        const s = await statusOf('storm');
        return ['Passed', 'Failed'].includes(s.phase ?? '') && s;
      },
      30_000,
    );
    assert.equal(done.runId, first.runId);
    assert.equal(done.summary?.verdict, done.phase);
    assert.equal(done.progress?.simTime, '1:00/1:00');
    assert.ok((done.summary?.requests ?? 0) > 0);
    assert.equal(
      await worker.counter('simops_worker_jobs_total', { queue: 'chaos-scenario', result: 'completed' }),
      1,
      'one job ran',
    );
    // The worker wrote the artifacts in the shared directory, and its load reached the app.
    assert.ok(done.artifacts?.location.includes(done.runId!));
    assert.equal(JSON.parse(readFileSync(done.artifacts!.summary, 'utf8')).runId, done.runId);
    assert.ok((await worker.counter('simops_chaos_requests_total', { scenario: 'default/storm' })) > 0);
    const here = (await registry.getSingleMetric('simops_chaos_requests_total')?.get())?.values ?? [];
    assert.equal(
      here.reduce((s, v) => s + v.value, 0),
      0,
      'no load from the controller',
    );
    // Signed hook deliveries: the worker read the Secret with its own client.
    for (const phase of ['start', 'end'])
      assert.match(app.output(), new RegExp(`chaos hook: CACHE_INVALIDATION_STORM ${phase}\\n`));
  });

  it('the kill switch and a deletion reach the worker running the job', async () => {
    const before = await cancelledOnWorker();
    await client().apply(scenario('killed', 60), { fieldManager: 'test' });
    await running('killed');
    await client().mergePatch(CHAOS, 'default', 'killed', { spec: { state: 'Stopped' } });
    const stopped = await eventually(
      'killed Stopped',
      async () => {
        const s = await statusOf('killed');
        return s.phase === 'Stopped' && s;
      },
      10_000,
    );
    assert.equal(ready(stopped)?.reason, 'Stopped');
    // What the worker reported as the run stopped: its summary and artifacts.
    assert.equal(stopped.summary?.verdict, 'Stopped');
    assert.equal(stopped.progress?.agents, 0);
    assert.ok(existsSync(stopped.artifacts!.summary), 'the stopped run wrote its artifacts');
    assert.equal(await cancelledOnWorker(), before + 1);
    assert.equal((await queue.getJobs(['active', 'waiting', 'failed'])).length, 0);

    await client().apply(scenario('deleted', 60), { fieldManager: 'test' });
    await running('deleted');
    await client().delete(CHAOS, 'default', 'deleted');
    await eventually('deleted gone', async () => !(await client().get(CHAOS, 'default', 'deleted')), 10_000);
    await eventually('the worker stopped it', async () => (await cancelledOnWorker()) === before + 2, 5000);
    assert.equal((await queue.getJobs(['active', 'waiting', 'failed'])).length, 0);
    assert.equal(await worker.counter('simops_worker_jobs_active', { queue: 'chaos-scenario' }), 0);
  });

  it('a restarted controller stops the run an earlier one started: kill switch, new generation, deletion', async () => {
    const before = await cancelledOnWorker();
    const restartedAfter = async (change: () => Promise<unknown>) => {
      await controller.stop();
      await change();
      controller = await startController();
    };
    const unfinished = () => queue.getJobs(['active', 'waiting', 'delayed', 'prioritized']);

    // The kill switch, set while no controller runs.
    await client().apply(scenario('restart-killed', 60), { fieldManager: 'test' });
    const going = await running('restart-killed');
    await restartedAfter(() =>
      client().mergePatch(CHAOS, 'default', 'restart-killed', { spec: { state: 'Stopped' } }),
    );
    const stopped = await eventually(
      'restart-killed Stopped',
      async () => {
        const s = await statusOf('restart-killed');
        return s.phase === 'Stopped' && s;
      },
      15_000,
    );
    await eventually('the worker cancelled it', async () => (await cancelledOnWorker()) === before + 1, 5000);
    // The figures the worker reported as it stopped, for the run the first controller started.
    assert.equal(stopped.runId, going.runId);
    assert.equal(stopped.summary?.verdict, 'Stopped');
    assert.ok((stopped.summary?.requests ?? 0) >= (going.progress?.requests ?? 0));
    assert.equal(stopped.progress?.agents, 0);
    assert.ok(existsSync(stopped.artifacts!.summary), 'the stopped run wrote its artifacts');
    assert.equal((await unfinished()).length, 0);

    // A new generation: its run replaces the old one rather than queueing behind it.
    await client().apply(scenario('restart-changed', 60), { fieldManager: 'test' });
    const first = await running('restart-changed');
    await restartedAfter(() =>
      client().mergePatch(CHAOS, 'default', 'restart-changed', { spec: { seed: 8 } }),
    );
    const second = await eventually(
      'restart-changed running its new generation',
      async () => {
        const s = await statusOf('restart-changed');
        return s.phase === 'Running' && s.runId !== first.runId && (s.progress?.requests ?? 0) > 0 && s;
      },
      20_000,
    );
    assert.equal(second.seed, 8);
    assert.equal(await cancelledOnWorker(), before + 2, 'the first generation cancelled');
    assert.deepEqual(
      (await unfinished()).map((j) => j.data.generation),
      [2],
      'one job: the new generation',
    );

    // A deletion: the finalizer goes once the run stopped.
    await restartedAfter(() => client().delete(CHAOS, 'default', 'restart-changed'));
    await eventually(
      'restart-changed gone',
      async () => !(await client().get(CHAOS, 'default', 'restart-changed')),
      15_000,
    );
    await eventually('the worker stopped it', async () => (await cancelledOnWorker()) === before + 3, 5000);
    assert.equal((await unfinished()).length, 0);
    assert.equal(await worker.counter('simops_worker_jobs_active', { queue: 'chaos-scenario' }), 0);
  });

  it('reports QueueUnavailable while Redis is down, and runs the scenario when it is back', async () => {
    await redis.stop();
    await client().apply(scenario('outage', 3), { fieldManager: 'test' });
    const down = await eventually(
      'outage QueueUnavailable',
      async () => {
        const s = await statusOf('outage');
        return ready(s)?.reason === 'QueueUnavailable' && s;
      },
      10_000,
    );
    assert.equal(ready(down)?.status, 'False');
    assert.match(ready(down)!.message, /job queue at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    await redis.start(); // empty: no persistence
    const done = await eventually(
      'outage finished',
      async () => {
        const s = await statusOf('outage');
        return ['Passed', 'Failed'].includes(s.phase ?? '') && s;
      },
      30_000,
    );
    assert.equal(done.runId, down.runId);
    assert.ok((done.summary?.requests ?? 0) > 0);
  });
});
