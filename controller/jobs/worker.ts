// The worker's side of a job queue: a BullMQ Worker that hands each job's input to the same work
// function the in-process runner runs, reports its stage and progress on the job, and aborts the
// work when the job is cancelled (the cancel key, checked before and every `cancelPollMs` while the
// job runs, or a message on the cancel channel). A job that throws is retried with backoff by the
// queue; a cancelled one fails as `cancelled` and is never retried. A job whose worker died (its
// lock expired) is picked up again by another worker: the work must be idempotent.
import { UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobContext, JobWork } from '../../reconcilers/simulation-run/jobs.ts';
import type { Log } from '../runtime/logger.ts';
import type { QueueJobData, QueueProgress } from './bullmq-runner.ts';
import { workerJobDuration, workerJobs, workerJobsActive, workerRedisConnected } from './metrics.ts';
import {
  CANCELLED,
  cancelChannel,
  cancelKey,
  connectionSettings,
  prefixOf,
  type QueueConnection,
  redisOptions,
} from './redis.ts';

export interface JobWorkerOptions<I, R> {
  connection: QueueConnection;
  queue: string;
  work: JobWork<I, R>;
  log: Log;
  /** Who runs the job, in its progress reports (host and pid). */
  name: string;
  /** Jobs run at once by this process (default 1: evaluations use one core each). */
  concurrency?: number;
  /** Progress is reported at most this often (default 250 ms); stages at once. */
  progressIntervalMs?: number;
  /** A job's lock lasts this long and is renewed at half of it; a worker that dies holding it
   * gives its jobs back after at most this long (default 30 s). */
  lockDurationMs?: number;
  /** How often expired locks are looked for (default 30 s). */
  stalledIntervalMs?: number;
  /** Times a job may lose its worker before it fails (default 2). */
  maxStalledCount?: number;
  /** How often the cancel keys of running jobs are checked (default 1 s). */
  cancelPollMs?: number;
}

export interface JobWorker {
  connected(): boolean;
  /** Stops taking jobs and waits for the running ones to end. */
  close(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export const startJobWorker = <I, R>(opts: JobWorkerOptions<I, R>): JobWorker => {
  const queue = opts.queue;
  const log = opts.log.child({ queue });
  const progressIntervalMs = opts.progressIntervalMs ?? 250;
  const active = new Map<string, AbortController>();
  const cancelError = () => new DOMException('the job was cancelled', 'AbortError');

  // Cancel checks fail at once while Redis is down (the poll tries again); the subscriber keeps
  // its subscription across reconnections.
  const client = new Redis(opts.connection.url, connectionSettings(false));
  const subscriber = new Redis(opts.connection.url, connectionSettings(true));
  client.on('error', () => {});
  subscriber.on('error', () => {});
  client.on('ready', () => workerRedisConnected.set(1));
  client.on('close', () => workerRedisConnected.set(0));
  const channel = cancelChannel(opts.connection, queue);
  void subscriber.subscribe(channel).catch(() => {});
  subscriber.on('message', (_channel: string, jobId: string) => active.get(jobId)?.abort(cancelError()));

  const cancelledIds = async (ids: string[]): Promise<string[]> => {
    if (!ids.length) return [];
    const values = await client.mget(ids.map((id) => cancelKey(opts.connection, queue, id)));
    return ids.filter((_, i) => values[i] !== null);
  };
  const poll = setInterval(() => {
    cancelledIds([...active.keys()])
      .then((ids) => {
        for (const id of ids) active.get(id)?.abort(cancelError());
      })
      .catch(() => {});
  }, opts.cancelPollMs ?? 1000);
  poll.unref();

  const processor = async (
    job: {
      id?: string;
      data: QueueJobData<I>;
      attemptsMade: number;
      updateProgress(p: object): Promise<void>;
    },
    _token?: string,
    signal?: AbortSignal,
  ): Promise<R> => {
    const jobId = job.id!;
    const started = performance.now();
    const abort = new AbortController();
    signal?.addEventListener('abort', () => abort.abort(cancelError()), { once: true });
    active.set(jobId, abort);
    workerJobsActive.inc({ queue });
    const jobLog = log.child({ jobId, attempt: job.attemptsMade + 1 });
    let result: 'completed' | 'failed' | 'cancelled' = 'completed';
    const report: QueueProgress = { stage: 'validating', progress: 0, worker: opts.name };
    let sentAt = 0;
    let unsent = false;
    let sending: Promise<void> = Promise.resolve();
    /** A held report goes out when the interval is up, not only with the next one: the step before
     * a long one (a flow's 30 s wait) would otherwise stay hidden for all of it. */
    let trailing: NodeJS.Timeout | undefined;
    const send = () => {
      clearTimeout(trailing);
      trailing = undefined;
      sentAt = Date.now();
      unsent = false;
      sending = job.updateProgress({ ...report }).catch(() => {});
    };
    /** The last progress on the job before it ends: what a cancelled job reported as it stopped
     * (a chaos run's final figures) is read by the controller from there. */
    const flush = async () => {
      if (unsent) send();
      await sending;
    };
    try {
      if ((await cancelledIds([jobId]).catch(() => [])).length) abort.abort(cancelError());
      abort.signal.throwIfAborted();
      send();
      const ctx: JobContext = {
        signal: abort.signal,
        stage: (stage, runId) => {
          if (stage === report.stage && (runId === undefined || runId === report.runId)) return;
          report.stage = stage;
          if (runId !== undefined) report.runId = runId;
          send();
        },
        progress: (fraction: number, detail?: unknown) => {
          report.progress = fraction;
          if (detail !== undefined) report.detail = detail;
          if (Date.now() - sentAt >= progressIntervalMs) send();
          else {
            unsent = true;
            trailing ??= setTimeout(() => unsent && send(), progressIntervalMs - (Date.now() - sentAt));
          }
        },
      };
      jobLog.debug({ id: job.data.id, generation: job.data.generation }, 'job started');
      const value = await opts.work(job.data.input, ctx);
      await flush();
      abort.signal.throwIfAborted();
      return value;
    } catch (err) {
      if (abort.signal.aborted) {
        await flush();
        result = 'cancelled';
        jobLog.info({ id: job.data.id }, 'job cancelled');
        throw new UnrecoverableError(CANCELLED);
      }
      result = 'failed';
      jobLog.warn({ id: job.data.id, error: (err as Error).message }, 'job failed');
      throw err;
    } finally {
      clearTimeout(trailing);
      active.delete(jobId);
      workerJobsActive.dec({ queue });
      workerJobs.inc({ queue, result });
      workerJobDuration.observe({ queue, result }, (performance.now() - started) / 1000);
    }
  };

  const worker = new Worker<QueueJobData<I>, R>(queue, processor, {
    connection: redisOptions(opts.connection, true),
    prefix: prefixOf(opts.connection),
    concurrency: opts.concurrency ?? 1,
    lockDuration: opts.lockDurationMs ?? 30_000,
    stalledInterval: opts.stalledIntervalMs ?? 30_000,
    maxStalledCount: opts.maxStalledCount ?? 2,
  });
  worker.on('error', (err) => log.debug({ error: err.message }, 'worker error'));
  worker.on('stalled', (jobId) => log.info({ jobId }, 'job lost its worker; queued again'));

  return {
    connected: () => client.status === 'ready',
    async close() {
      clearInterval(poll);
      // Stops taking jobs at once; the running ones finish (the drain). Closing BullMQ's connections
      // can hang while Redis is unreachable, so that part is bounded.
      const closing = worker.close().catch(() => {});
      while (active.size) await sleep(50);
      await Promise.race([closing, sleep(2000)]);
      await Promise.race([Promise.all([client.quit(), subscriber.quit()]).catch(() => {}), sleep(1000)]);
      client.disconnect();
      subscriber.disconnect();
    },
  };
};
