// Work distribution with a real redis-server: the controller (REDIS_URL) queues SimulationRun
// evaluations as BullMQ jobs, and `simops worker` processes (the real CLI) run them.
// 1. Two workers run 200 runs; one is killed with SIGKILL midway; every run is created exactly once.
// 2. Redis stops during a run: runs report QueueUnavailable, what needs no job goes on, and when
//    Redis is back (empty: no persistence) the runs complete without anyone's help.
// 3. A queued job and a running one are cancelled (deletion, and a new generation).
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { KubeConfig } from '@kubernetes/client-node';
import { Job, Queue } from 'bullmq';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import type { QueueJobData, QueueProgress } from '../controller/jobs/bullmq-runner.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { registry } from '../controller/runtime/metrics.ts';
import type { Condition } from '../crds/common.ts';
import type { SimulationRunStatus } from '../crds/simulation-run.ts';
import { startTestServer } from './helpers/embedded.ts';
import { redisAvailable, startRedis, type TestRedis } from './helpers/redis-server.ts';
import { tempDir } from './helpers/tmp.ts';
import { startWorkerProcess, type WorkerProcess } from './helpers/worker-process.ts';

const RUN = simopsKind('SimulationRun');
const MACHINE = simopsKind('Machine');
type Status = SimulationRunStatus & { conditions?: Condition[] };

/** A queue fed by poisson arrivals whose capacity is smoothed over `window` bins: the evaluation
 * costs about bins × window × 3 ns, the artifacts (six series) about 1 ms per 1,000 bins. */
const loadTemplate = (id: string, bins: number, window: number) => ({
  metadata: { id, version: '1' },
  window: { start: '2025-01-01T00:00:00Z', timezone: 'UTC' },
  grid: { bins, binSize: 1, binUnit: 'minutes' },
  traffic: { arrivals: [{ nodeId: 'Svc', pattern: { kind: 'poisson', ratePerBin: 8 } }] },
  nodes: [
    { id: 'cap', kind: 'const', values: 7 },
    { id: 'smooth', kind: 'expr', expr: `CONV(cap, [${Array(window).fill(0.002).join(',')}])` },
  ],
  topology: { nodes: [{ id: 'Svc', kind: 'serviceWithBuffer', semantics: { capacity: 'smooth' } }] },
});
/** Templates in ConfigMaps (small objects, so the API server and the controller stay light):
 * `quick` takes about 30 ms to evaluate and 20 ms to write, `slow` about three seconds. */
const TEMPLATES = { quick: loadTemplate('quick', 20_000, 500), slow: loadTemplate('slow', 300_000, 3000) };

const simulationRun = (name: string, template: keyof typeof TEMPLATES, seed: number): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'SimulationRun',
  metadata: { name, namespace: 'default' },
  spec: {
    templateId: template,
    template: { configMapRef: { name: template } },
    rng: { kind: 'pcg32', seed },
  },
});

/** What the queue and the runs looked like, for a timeout's message. */
let diagnose: () => Promise<string> = async () => '';

const waitFor = async <T>(
  what: string,
  check: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 50,
): Promise<T> => {
  const start = Date.now();
  const deadline = start + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) {
        if (process.env.DEBUG_WORKERS) console.log(`${what}: ${Date.now() - start} ms`);
        return v;
      }
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline) {
      const state = await diagnose().catch((err: unknown) => String(err));
      assert.fail(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}\n${state}`);
    }
    await sleep(everyMs);
  }
};

describe('workers on Redis', { skip: !redisAvailable() && 'redis-server is not installed' }, () => {
  let redis: TestRedis;
  let api: Embedded;
  let controller: Running;
  /** The test's own view of the queue, for what status does not show (which worker, waiting). */
  let queue: Queue<QueueJobData<unknown>>;
  const artifactDir = tempDir('simops-artifacts-');
  const kc = new KubeConfig();
  const workers: WorkerProcess[] = [];
  const client = () => controller.manager.client;
  const startWorker = async () => {
    const w = await startWorkerProcess({
      kubeconfig: api.kubeconfigPath,
      redisUrl: redis.url,
      artifactDir,
      cacheDir: tempDir('simops-worker-git-'),
      // A dead worker's jobs come back within two seconds.
      args: ['--lock-duration', '2000', '--stalled-interval', '500'],
    });
    workers.push(w);
    return w;
  };
  const statusOf = async (name: string): Promise<Status> =>
    ((await client().get(RUN, 'default', name))?.status ?? {}) as Status;
  const ready = (s: { conditions?: Condition[] }) => getCondition(s.conditions, 'Ready');
  const succeeded = (name: string, timeoutMs = 20_000) =>
    waitFor(
      `${name} Succeeded`,
      async () => {
        const s = await statusOf(name);
        return s.phase === 'Succeeded' && ready(s)?.status === 'True' && s;
      },
      timeoutMs,
    );
  const runDirs = () => readdirSync(join(artifactDir, 'runs')).filter((d) => !d.startsWith('.'));
  const jobOf = async (name: string, states: ('active' | 'waiting')[]) =>
    (await queue.getJobs(states)).find((j) => j.data.id === `default/${name}`);

  diagnose = async () => {
    const jobs = await queue.getJobs(['active', 'waiting', 'delayed', 'failed', 'completed', 'prioritized']);
    const lines = await Promise.all(
      jobs.map(
        async (j) => `${j.id} ${await j.getState()} ${JSON.stringify(j.progress)} ${j.failedReason ?? ''}`,
      ),
    );
    const { items } = await client().list(RUN, 'default');
    const runs = items
      .filter((o) => (o.status as Status)?.phase !== 'Succeeded')
      .map((o) => `${o.metadata.name}: ${JSON.stringify(o.status)}`);
    return `jobs:\n${lines.join('\n')}\nruns not Succeeded:\n${runs.join('\n')}`;
  };

  before(async () => {
    redis = await startRedis();
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    controller = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      redisUrl: redis.url,
      health: { host: '127.0.0.1', port: 0 },
    });
    queue = new Queue('simulation-run', { connection: { url: redis.url }, prefix: 'simops' });
    queue.on('error', () => {});
    for (const [name, template] of Object.entries(TEMPLATES)) {
      await client().apply(
        {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name, namespace: 'default' },
          data: { 'template.yaml': JSON.stringify(template) },
        },
        { fieldManager: 'test' },
      );
    }
  });
  after(async () => {
    await Promise.all(workers.map((w) => w.kill()));
    await controller.stop();
    await queue.close();
    await api.stop();
    await redis.stop();
  });

  it('runs 200 runs on two workers, one killed with SIGKILL midway, each run created exactly once', async (t) => {
    const [victim, survivor] = await Promise.all([startWorker(), startWorker()]);
    // A failed assertion must not leave the survivor running into the next test.
    t.after(() => survivor.stop());
    const n = 200;
    const names = Array.from({ length: n }, (_, i) => `load-${i}`);
    for (let i = 0; i < n; i += 25) {
      await Promise.all(
        names
          .slice(i, i + 25)
          .map((name, j) => client().apply(simulationRun(name, 'quick', i + j), { fieldManager: 'test' })),
      );
    }
    await waitFor('60 runs written', () => existsSync(join(artifactDir, 'runs')) && runDirs().length >= 60);

    // Kill the victim while it evaluates a job: the same job before and after its counter is read,
    // so it wrote nothing in between (one job at a time) and the count is its final one.
    const evaluating = async () =>
      (await queue.getActive()).find((j) => {
        const p = j.progress as QueueProgress;
        return p?.worker === victim.name && (p.stage === 'validating' || p.stage === 'evaluating');
      });
    let victimCreated = -1;
    let killedJob = '';
    await waitFor(
      'the victim evaluating a job',
      async () => {
        const first = await evaluating();
        if (!first) return false;
        const count = await victim.counter('simops_run_created_total');
        const second = await evaluating();
        if (second?.id !== first.id) return false;
        process.kill(victim.pid, 'SIGKILL');
        victimCreated = count;
        killedJob = first.id!;
        return true;
      },
      20_000,
      1,
    );
    await victim.exited;
    assert.ok(victimCreated > 0, 'the victim had created runs');

    await waitFor('200 runs written', () => runDirs().length >= n, 50_000, 100);
    await waitFor(
      'every run Succeeded',
      async () => {
        const { items } = await client().list(RUN, 'default');
        const done = items.filter(
          (o) => o.metadata.name!.startsWith('load-') && (o.status as Status)?.phase === 'Succeeded',
        );
        return done.length === n;
      },
      10_000,
      500,
    );
    const survivorCreated = await survivor.counter('simops_run_created_total');
    assert.equal(victimCreated + survivorCreated, n, 'runs created by the two workers');
    const dirs = runDirs();
    assert.equal(dirs.length, n, 'one artifact directory per run');
    const { items } = await client().list(RUN, 'default');
    const runIds = new Set(items.map((o) => (o.status as Status).runId));
    for (const d of dirs) {
      assert.ok(runIds.has(d), `${d} is the run of an object`);
      assert.ok(existsSync(join(artifactDir, 'runs', d, 'run.json')), `${d} is complete`);
    }
    assert.deepEqual(
      readdirSync(join(artifactDir, 'runs')).filter((d) => d.startsWith('.')),
      [],
      'no half-written run left behind',
    );
    const killedName = killedJob.split('/')[1]!;
    assert.equal((await statusOf(killedName)).phase, 'Succeeded', 'the killed job was run again');
    // The work ran in the workers, none in the controller.
    const controllerCreated =
      (await registry.getSingleMetric('simops_run_created_total')?.get())?.values ?? [];
    assert.equal(
      controllerCreated.reduce((s, v) => s + v.value, 0),
      0,
    );
    await survivor.stop();
  });

  it('reports QueueUnavailable while Redis is down, keeps reconciling the rest, and resumes when it is back', async () => {
    const worker = await startWorker();
    await client().apply(simulationRun('outage-slow', 'slow', 1), { fieldManager: 'test' });
    await waitFor('outage-slow Running', async () => (await statusOf('outage-slow')).phase === 'Running');
    await redis.stop();
    await client().apply(simulationRun('outage-new', 'quick', 100_000), { fieldManager: 'test' });
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Machine',
        metadata: { name: 'outage-fan', namespace: 'default' },
        spec: { category: 'Fan', simulated: true },
      },
      { fieldManager: 'test' },
    );
    for (const name of ['outage-slow', 'outage-new']) {
      const c = await waitFor(`${name} QueueUnavailable`, async () => {
        const c = ready(await statusOf(name));
        return c?.reason === 'QueueUnavailable' && c;
      });
      assert.equal(c.status, 'False');
      assert.match(c.message, /job queue at redis:\/\/127\.0\.0\.1:\d+ is unreachable/);
    }
    await waitFor('the machine Ready without Redis', async () => {
      const m = await client().get(MACHINE, 'default', 'outage-fan');
      return (
        getCondition((m?.status as { conditions?: Condition[] })?.conditions, 'Ready')?.status === 'True'
      );
    });
    assert.equal(redis.running(), false);

    await redis.start(); // empty: it kept nothing
    const slow = await succeeded('outage-slow', 30_000);
    const fresh = await succeeded('outage-new', 30_000);
    for (const s of [slow, fresh]) {
      assert.ok(['RunSucceeded', 'RunReused'].includes(ready(s)!.reason));
      assert.ok(existsSync(join(artifactDir, 'runs', s.runId!, 'run.json')));
    }
    await worker.stop();
  });

  it('cancels a queued job and a running one, on deletion and on a new generation', async () => {
    const worker = await startWorker();
    const cancelled = () => worker.counter('simops_worker_jobs_total', { result: 'cancelled' });
    const before = await cancelled();
    await client().apply(simulationRun('busy', 'slow', 2), { fieldManager: 'test' });
    const busyJob = await waitFor('busy running', () => jobOf('busy', ['active']));
    await client().apply(simulationRun('queued', 'slow', 3), { fieldManager: 'test' });
    const queuedJob = await waitFor('queued waiting', () => jobOf('queued', ['waiting']));
    await waitFor('queued Pending', async () => (await statusOf('queued')).phase === 'Pending');

    // Queued: removed from the queue; the worker never sees it.
    await client().delete(RUN, 'default', 'queued');
    await waitFor('queued gone', async () => !(await client().get(RUN, 'default', 'queued')));
    assert.equal(await Job.fromId(queue, queuedJob.id!), undefined);

    // Running, new generation: the worker stops the old job and runs the new one.
    const first = await statusOf('busy');
    await client().apply(simulationRun('busy', 'slow', 4), { fieldManager: 'test' });
    await waitFor(
      'the first job cancelled by its worker',
      async () => (await cancelled()) === before + 1,
      5000,
    );
    await waitFor('the old job gone', async () => !(await Job.fromId(queue, busyJob.id!)));
    const second = await waitFor('the new generation running', () => jobOf('busy', ['active']));
    assert.notEqual(second.id, busyJob.id);
    assert.equal(second.data.generation, 2);

    // Running, deletion.
    await client().delete(RUN, 'default', 'busy');
    await waitFor('busy gone', async () => !(await client().get(RUN, 'default', 'busy')));
    await waitFor(
      'the second job cancelled by its worker',
      async () => (await cancelled()) === before + 2,
      5000,
    );
    assert.equal(await Job.fromId(queue, second.id!), undefined);
    if (first.runId) assert.ok(!existsSync(join(artifactDir, 'runs', first.runId)), 'nothing written');
    assert.equal(await worker.counter('simops_worker_jobs_active'), 0);
    await worker.stop();
  });
});
