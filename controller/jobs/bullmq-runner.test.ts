// The BullMQ runner and worker with a real redis-server, both in this process: what the reconciler
// reads (stage, progress, result, error), duplicates collapsing, retries with backoff, a prepared
// input, cancellation, forgetting, and an outage with data loss.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import type { JobContext, JobRunner } from '../../reconcilers/simulation-run/jobs.ts';
import { redisAvailable, startRedis, type TestRedis } from '../../test/helpers/redis-server.ts';
import { silentLog } from '../runtime/logger.ts';
import { bullmqJobs, type QueueJobData } from './bullmq-runner.ts';
import { queueJobId } from './job-id.ts';
import { CANCELLED } from './redis.ts';
import { type JobWorker, startJobWorker } from './worker.ts';

interface Input {
  value: string;
  /** Attempts that throw before one succeeds. */
  failures?: number;
  /** Waits this long (or until cancelled). */
  holdMs?: number;
  pinned?: string;
}

const eventually = async <T>(
  what: string,
  fn: () => T | undefined | false | Promise<T | undefined | false>,
) => {
  const end = Date.now() + 10_000;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await sleep(20);
  }
};

describe('BullMQ job runner', { skip: !redisAvailable() && 'redis-server is not installed' }, () => {
  let redis: TestRedis;
  let n = 0;
  const attempts = new Map<string, number>();
  const closers: (() => Promise<void>)[] = [];
  const work = async (input: Input, ctx: JobContext) => {
    const seen = (attempts.get(input.value) ?? 0) + 1;
    attempts.set(input.value, seen);
    ctx.stage('evaluating', `run_${input.value}`);
    ctx.progress(0.5);
    if (seen <= (input.failures ?? 0)) throw new Error(`attempt ${seen} failed`);
    if (input.holdMs) {
      await new Promise((resolve, reject) => {
        const t = setTimeout(resolve, input.holdMs);
        ctx.signal.addEventListener('abort', () => {
          clearTimeout(t);
          reject(ctx.signal.reason);
        });
      });
    }
    return `done ${input.value}${input.pinned ? ` ${input.pinned}` : ''}`;
  };
  /** A runner and a worker on a queue of their own. */
  const setup = (opts: { worker?: boolean; concurrency?: number } = {}) => {
    const queue = `test-${++n}`;
    const connection = { url: redis.url };
    const runner: JobRunner<Input, string> = bullmqJobs<Input, string>({
      connection,
      queue,
      log: silentLog,
      backoffMs: 50,
      graceMs: 300,
      resyncIntervalMs: 500,
      prepare: (input) => ({ ...input, pinned: 'pinned' }),
    });
    let worker: JobWorker | undefined;
    const startWorker = () => {
      worker = startJobWorker({
        connection,
        queue,
        work,
        log: silentLog,
        name: 'test-worker',
        concurrency: opts.concurrency ?? 1,
        progressIntervalMs: 0,
        cancelPollMs: 100,
      });
      return worker;
    };
    if (opts.worker !== false) startWorker();
    const bull = new Queue<QueueJobData<Input>>(queue, { connection, prefix: 'simops' });
    bull.on('error', () => {});
    closers.push(async () => {
      await runner.stop();
      await worker?.close();
      await bull.close();
    });
    return { runner, bull, startWorker, worker: () => worker };
  };

  before(async () => {
    redis = await startRedis();
  });
  after(async () => {
    for (const close of closers) await close();
    await redis.stop();
  });

  it('runs a job on a worker: stage, run id, progress and result, with the prepared input', async () => {
    const { runner } = setup();
    const updates: string[] = [];
    runner.onUpdate((id) => updates.push(id));
    runner.submit('ns/a', 1, { value: 'a' });
    assert.equal(runner.get('ns/a')!.stage, 'queued');
    const done = await eventually('a done', () => runner.get('ns/a')?.done && runner.get('ns/a'));
    assert.equal(done.result, 'done a pinned');
    assert.equal(done.runId, 'run_a');
    assert.equal(done.progress, 1);
    assert.equal(done.cancelled, false);
    assert.equal(done.error, undefined);
    assert.match(done.startedAt!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
    assert.ok(updates.length >= 2 && updates.every((u) => u === 'ns/a'));
  });

  it('collapses a resubmission of the same key and generation into one job, and forget drops it', async () => {
    const { runner, bull } = setup({ worker: false });
    runner.submit('ns/b', 1, { value: 'b' });
    runner.submit('ns/b', 1, { value: 'b' });
    const jobId = queueJobId('ns/b', 1, { value: 'b' });
    assert.doesNotMatch(jobId, /:/);
    await eventually('b queued', async () => (await bull.getJobState(jobId)) === 'waiting');
    // Another controller (a new leader) submitting the same object collapses into it too.
    const other = bullmqJobs<Input, string>({
      connection: { url: redis.url },
      queue: bull.name,
      log: silentLog,
    });
    closers.push(() => other.stop());
    other.submit('ns/b', 1, { value: 'b' });
    await sleep(200);
    assert.equal(await bull.count(), 1);
    const worker = startJobWorker({
      connection: { url: redis.url },
      queue: bull.name,
      work,
      log: silentLog,
      name: 'late-worker',
    });
    closers.push(() => worker.close());
    await eventually('b done', () => runner.get('ns/b')?.done);
    await eventually('b done for the other', () => other.get('ns/b')?.done);
    assert.equal(attempts.get('b'), 1, 'ran once');
    runner.forget('ns/b');
    assert.equal(runner.get('ns/b'), undefined);
    await eventually('b removed', async () => (await bull.getJobState(jobId)) === 'unknown');
  });

  it('retries a job that throws, with backoff, and reports the last error when attempts run out', async () => {
    const { runner } = setup();
    runner.submit('ns/c', 1, { value: 'c', failures: 2 });
    const c = await eventually('c done', () => runner.get('ns/c')?.done && runner.get('ns/c'));
    assert.equal(c.result, 'done c pinned');
    assert.equal(attempts.get('c'), 3);
    runner.submit('ns/d', 1, { value: 'd', failures: 5 });
    const d = await eventually('d done', () => runner.get('ns/d')?.done && runner.get('ns/d'));
    assert.equal(d.error, 'attempt 3 failed');
    assert.equal(d.result, undefined);
    assert.equal(attempts.get('d'), 3);
  });

  it('cancels a queued job and a running one; a new generation cancels the old', async () => {
    const { runner, bull } = setup();
    runner.submit('ns/e', 1, { value: 'e', holdMs: 10_000 });
    await eventually('e running', () => runner.get('ns/e')?.stage === 'evaluating');
    runner.submit('ns/f', 1, { value: 'f', holdMs: 10_000 });
    await eventually('f queued', async () => (await bull.getWaiting()).length === 1);
    await runner.cancel('ns/f');
    assert.deepEqual([runner.get('ns/f')!.done, runner.get('ns/f')!.cancelled], [true, true]);
    assert.equal(await bull.getJobState(queueJobId('ns/f', 1, { value: 'f', holdMs: 10_000 })), 'unknown');
    assert.equal(attempts.get('f'), undefined, 'never ran');

    const started = Date.now();
    runner.submit('ns/e', 2, { value: 'e2' }); // the running generation 1 is cancelled
    await eventually('e2 done', () => runner.get('ns/e')?.done);
    assert.equal(runner.get('ns/e')!.result, 'done e2 pinned');
    assert.equal(runner.get('ns/e')!.generation, 2);
    assert.ok(Date.now() - started < 5000, 'the first job stopped long before its 10 s');
    // The cancel of generation 1 runs beside generation 2 (submit does not wait for it): its job is
    // removed once its worker has let go of it, which may be just after generation 2 finished.
    await eventually(
      'generation 1 removed from the queue',
      async () =>
        (await bull.getJobState(queueJobId('ns/e', 1, { value: 'e', holdMs: 10_000 }))) === 'unknown',
    );

    runner.submit('ns/g', 1, { value: 'g', holdMs: 10_000 });
    await eventually('g running', () => runner.get('ns/g')?.stage === 'evaluating');
    await runner.cancel('ns/g');
    assert.deepEqual([runner.get('ns/g')!.done, runner.get('ns/g')!.cancelled], [true, true]);
    assert.equal(await bull.getJobState(queueJobId('ns/g', 1, { value: 'g', holdMs: 10_000 })), 'unknown');
  });

  it('carries the detail the work reports, and what a cancelled job reported as it stopped', async () => {
    const queue = `test-${++n}`;
    const connection = { url: redis.url };
    type Detail = { ticks: number; final?: string };
    const runner = bullmqJobs<{ value: string }, string, Detail>({
      connection,
      queue,
      log: silentLog,
      resyncIntervalMs: 500,
    });
    // Reports a tick every 20 ms (throttled to one report a second); when stopped, a final detail
    // and a result, as a chaos run does.
    const worker = startJobWorker<{ value: string }, string>({
      connection,
      queue,
      log: silentLog,
      name: 'detail-worker',
      progressIntervalMs: 1000,
      work: async (_input, ctx: JobContext<Detail>) => {
        ctx.stage('evaluating');
        let ticks = 0;
        while (!ctx.signal.aborted) {
          ctx.progress(0.1, { ticks: ++ticks });
          await sleep(20);
        }
        ctx.progress(0.2, { ticks, final: `stopped after ${ticks}` });
        return 'stopped';
      },
    });
    closers.push(async () => {
      await runner.stop();
      await worker.close();
    });
    runner.submit('ns/l', 1, { value: 'l' });
    await eventually('l reporting', () => (runner.get('ns/l')?.detail?.ticks ?? 0) >= 1);
    await runner.cancel('ns/l');
    const l = runner.get('ns/l')!;
    assert.deepEqual([l.done, l.cancelled], [true, true]);
    assert.match(l.detail?.final ?? '', /^stopped after \d+$/);
    assert.equal(l.detail?.final, `stopped after ${l.detail?.ticks}`);
  });

  it('sends a held progress report when the interval is up, not only with the next one', async () => {
    const queue = `test-${++n}`;
    const connection = { url: redis.url };
    const runner = bullmqJobs<{ value: string }, string, { step: number }>({
      connection,
      queue,
      log: silentLog,
      resyncIntervalMs: 500,
    });
    // Two reports in quick succession, then a long quiet step: the second must arrive during it.
    const worker = startJobWorker<{ value: string }, string>({
      connection,
      queue,
      log: silentLog,
      name: 'trailing-worker',
      progressIntervalMs: 300,
      work: async (_input, ctx: JobContext<{ step: number }>) => {
        ctx.stage('evaluating');
        ctx.progress(0.1, { step: 1 });
        ctx.progress(0.2, { step: 2 });
        await sleep(3000);
        return 'done';
      },
    });
    closers.push(async () => {
      await runner.stop();
      await worker.close();
    });
    runner.submit('ns/t', 1, { value: 't' });
    await eventually('step 2 shown while the long step runs', () => runner.get('ns/t')?.detail?.step === 2);
    assert.equal(runner.get('ns/t')?.done, false);
  });

  it('starts afresh when a job of the same id was cancelled earlier and left in the queue', async () => {
    const { runner, bull, startWorker } = setup({ worker: false });
    const input = { value: 'k' };
    const jobId = queueJobId('ns/k', 1, input);
    await bull.add(bull.name, { id: 'ns/k', generation: 1, input }, { jobId });
    const canceller = new Worker(
      bull.name,
      async () => {
        throw new UnrecoverableError(CANCELLED);
      },
      { connection: { url: redis.url }, prefix: 'simops' },
    );
    await eventually('k failed as cancelled', async () => (await bull.getJobState(jobId)) === 'failed');
    await canceller.close();
    runner.submit('ns/k', 1, input);
    startWorker();
    const k = await eventually('k done', () => runner.get('ns/k')?.done && runner.get('ns/k'));
    assert.equal(k.cancelled, false);
    assert.equal(k.result, 'done k pinned');
  });

  it('reports the queue unavailable while Redis is down and re-adds the jobs Redis lost', async () => {
    const { runner } = setup();
    runner.submit('ns/h', 1, { value: 'h', holdMs: 600 });
    await eventually('h running', () => runner.get('ns/h')?.stage === 'evaluating');
    await redis.stop();
    const down = await eventually('h unavailable', () => runner.get('ns/h')?.queueUnavailable);
    assert.match(down, /^the job queue at redis:\/\/127\.0\.0\.1:\d+ is unreachable \(/);
    runner.submit('ns/i', 1, { value: 'i' });
    assert.ok(runner.get('ns/i')!.queueUnavailable, 'a job submitted meanwhile says so too');
    await redis.start();
    const h = await eventually('h done', () => runner.get('ns/h')?.done && runner.get('ns/h'));
    const i = await eventually('i done', () => runner.get('ns/i')?.done && runner.get('ns/i'));
    assert.equal(h.result, 'done h pinned');
    assert.equal(i.result, 'done i pinned');
    assert.equal(h.queueUnavailable, undefined);
  });
});
