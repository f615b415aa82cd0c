// The controller's side of the job queues: a JobRunner whose jobs are BullMQ jobs on Redis, run by
// `simops worker` processes (worker.ts). The reconciler keeps reading `get(id)` as it does with the
// in-process runner; the states come from the queue's events (progress, active, completed, ...)
// and from a periodic resync, which also re-adds jobs Redis lost (a restart without persistence).
//
// - One job per object key and generation (job-id.ts): a resubmission, a restarted controller or a
//   new leader collapses into the job already queued, running or finished.
// - cancel(): a cancel key any worker checks before and while running the job, a message on the
//   cancel channel for the worker running it now, removal of a waiting job. A running job's last
//   progress (what the work reported as it stopped) is read before the job is removed.
// - Jobs this runner never knew (an earlier controller added them, before a restart or a change of
//   leader) are found in the queue by id: cancel() of an id without a job here cancels them and
//   reports the one that ran; the first submit() of an id cancels those of other generations.
// - Redis unreachable for longer than `graceMs`: every job not finished reports `queueUnavailable`
//   (the reconciler turns it into Ready=False, reason QueueUnavailable); submissions and
//   cancellations are kept and carried out when Redis is back.
// - stop() leaves the jobs to the workers: a later controller collapses into them.
import { Job, Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import type { JobRunner, JobStage, JobState } from '../../reconcilers/simulation-run/jobs.ts';
import type { Log } from '../runtime/logger.ts';
import { isJobOf, queueJobId } from './job-id.ts';
import { jobsSubmitted, queueAvailable } from './metrics.ts';
import {
  CANCEL_TTL_SECONDS,
  CANCELLED,
  cancelChannel,
  cancelKey,
  connectionSettings,
  describeRedis,
  prefixOf,
  type QueueConnection,
  redisOptions,
} from './redis.ts';

/** What a queued job carries: plain data, the same the in-process runner hands its work. */
export interface QueueJobData<I> {
  id: string;
  generation: number;
  input: I;
}

/** What a worker reports as the job's progress. */
export interface QueueProgress {
  stage: JobStage;
  progress: number;
  runId?: string;
  /** The work's own progress detail, if any. */
  detail?: unknown;
  worker?: string;
}

export interface BullmqRunnerOptions<I> {
  connection: QueueConnection;
  /** The queue: one per job kind (e.g. `simulation-run`). */
  queue: string;
  log: Log;
  /** Applied to the input once, when the job is first added (e.g. to fix a random run id, so that
   * a retry writes the same run rather than a second one). The job id is taken before. */
  prepare?: (input: I) => I;
  /** Attempts of a job that throws (default 3), with exponential backoff from `backoffMs` (2 s). */
  attempts?: number;
  backoffMs?: number;
  /** Redis unreachable for this long makes jobs report queueUnavailable (default 2 s). */
  graceMs?: number;
  /** Every job's state is read again this often, whatever events were missed (default 5 s). */
  resyncIntervalMs?: number;
  /** How long cancel() waits for a running job's worker to stop it (default 10 s). */
  cancelTimeoutMs?: number;
  /** Finished jobs the controller never read are dropped from Redis after this long (default a day). */
  keepFinishedSeconds?: number;
}

interface Entry<I, R, P> {
  state: JobState<R, P>;
  jobId: string;
  data: QueueJobData<I>;
  /** Added to the queue since Redis last lost it. */
  added: boolean;
  adding?: Promise<void>;
  refreshing?: Promise<void>;
  refreshAgain: boolean;
  cancelling?: Promise<void>;
  /** Cancel the id's other jobs in the queue before adding this one: this runner had no job for it. */
  sweep: boolean;
}

/** Where an unfinished job is. */
const UNFINISHED = ['active', 'waiting', 'delayed', 'prioritized'] as const;

const iso = (ms: number) => `${new Date(ms).toISOString().slice(0, 19)}Z`;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
/** Waits for `p`, at most `ms` (closing a connection to a Redis that is gone can hang). */
const bounded = (p: Promise<unknown>, ms: number) =>
  Promise.race([p.catch(() => {}), sleep(ms)]).then(() => {});

const isProgress = (p: unknown): p is QueueProgress =>
  typeof p === 'object' && p !== null && typeof (p as QueueProgress).stage === 'string';

export const bullmqJobs = <I, R, P = unknown>(opts: BullmqRunnerOptions<I>): JobRunner<I, R, P> => {
  const name = opts.queue;
  const where = describeRedis(opts.connection.url);
  const log = opts.log.child({ queue: name });
  const graceMs = opts.graceMs ?? 2000;
  const cancelTimeoutMs = opts.cancelTimeoutMs ?? 10_000;
  const keep = { age: opts.keepFinishedSeconds ?? 86_400 };
  const jobOptions = {
    attempts: opts.attempts ?? 3,
    backoff: { type: 'exponential', delay: opts.backoffMs ?? 2000 },
    removeOnComplete: keep,
    removeOnFail: keep,
  };
  const prefix = prefixOf(opts.connection);

  // One connection for the queue's commands and SimOps' own (cancel keys and messages); commands
  // fail at once while it is down. The event listener has its own, blocking, connection.
  const client = new Redis(opts.connection.url, connectionSettings(false));
  const queue = new Queue<QueueJobData<I>, R>(name, { connection: client, prefix });
  const events = new QueueEvents(name, { connection: redisOptions(opts.connection, true), prefix });

  const entries = new Map<string, Entry<I, R, P>>();
  const byJobId = new Map<string, Entry<I, R, P>>();
  const listeners = new Set<(id: string) => void>();
  /** Cancellations to carry out when Redis is back. */
  const pendingCancels = new Set<string>();
  /** Ids to cancel when Redis is back, whose jobs this runner never knew. */
  const pendingIdCancels = new Set<string>();
  let connected = false;
  let available = true;
  let lastError = 'not connected yet';
  let graceTimer: NodeJS.Timeout | undefined;
  let stopped = false;
  queueAvailable.set({ queue: name }, 1);

  const notify = (id: string) => {
    for (const l of listeners) l(id);
  };
  const live = (e: Entry<I, R, P>) => entries.get(e.state.id) === e;
  const unavailableMessage = () =>
    `the job queue at ${where} is unreachable (${lastError}); the job goes on when it is back`;

  const setAvailable = (value: boolean) => {
    if (value === available) return;
    available = value;
    queueAvailable.set({ queue: name }, value ? 1 : 0);
    if (value) log.info({ redis: where }, 'job queue available again');
    else log.warn({ redis: where, error: lastError }, 'job queue unavailable');
    for (const e of entries.values()) {
      if (e.state.done) continue;
      e.state.queueUnavailable = value ? undefined : unavailableMessage();
      notify(e.state.id);
    }
  };
  const lost = () => {
    connected = false;
    if (!graceTimer && available && !stopped) {
      graceTimer = setTimeout(() => {
        graceTimer = undefined;
        if (!connected && !stopped) setAvailable(false);
      }, graceMs);
      graceTimer.unref();
    }
  };

  const finish = (e: Entry<I, R, P>, patch: Partial<JobState<R, P>>) => {
    if (e.state.done) return;
    Object.assign(e.state, { stage: 'finished', done: true, queueUnavailable: undefined }, patch);
    notify(e.state.id);
  };

  /** Applies a progress report; true if the state changed. */
  const applyProgress = (s: JobState<R, P>, p: unknown): boolean => {
    if (!isProgress(p) || s.done) return false;
    const before = `${s.stage} ${s.progress} ${s.runId}`;
    s.stage = p.stage;
    s.progress = p.progress;
    if (p.runId !== undefined) s.runId = p.runId;
    // The work's own detail (a chaos run's live figures), as the worker's JobContext received it.
    if (p.detail !== undefined) s.detail = p.detail as P;
    return p.detail !== undefined || before !== `${s.stage} ${s.progress} ${s.runId}`;
  };

  const applyJob = (e: Entry<I, R, P>, job: Job<QueueJobData<I>, R>, state: string) => {
    const s = e.state;
    if (state === 'completed') return finish(e, { result: job.returnvalue, progress: 1 });
    if (state === 'failed') {
      return finish(
        e,
        job.failedReason === CANCELLED
          ? { cancelled: true }
          : { error: job.failedReason || 'the job failed' },
      );
    }
    const before = JSON.stringify(s);
    if (state === 'active') {
      if (job.processedOn) s.startedAt = iso(job.processedOn);
      applyProgress(s, job.progress);
      if (s.stage === 'queued') s.stage = 'validating';
    } else {
      // waiting, delayed (a retry's backoff), prioritized: not running
      s.stage = 'queued';
      s.progress = 0;
    }
    if (JSON.stringify(s) !== before) notify(s.id);
  };

  /** Reads the job from Redis; re-adds it if Redis lost it. Runs one at a time per entry. */
  const refresh = (e: Entry<I, R, P>): Promise<void> => {
    if (e.refreshing) {
      e.refreshAgain = true;
      return e.refreshing;
    }
    e.refreshing = (async () => {
      do {
        e.refreshAgain = false;
        if (!connected || e.cancelling || e.state.done || !live(e)) return;
        let job: Job<QueueJobData<I>, R> | undefined;
        let state: string;
        try {
          // The state first: a job read before it completed would have no result yet.
          state = await queue.getJobState(e.jobId);
          job = state === 'unknown' ? undefined : await Job.fromId<QueueJobData<I>, R>(queue, e.jobId);
        } catch {
          return; // Redis went away: resynced when it is back
        }
        if (e.cancelling || e.state.done || !live(e)) return;
        if (!job || state === 'unknown') {
          e.added = false;
          void add(e);
          return;
        }
        applyJob(e, job, state);
      } while (e.refreshAgain);
    })().finally(() => {
      e.refreshing = undefined;
    });
    return e.refreshing;
  };

  const add = (e: Entry<I, R, P>): Promise<void> => {
    if (e.adding) return e.adding;
    e.adding = (async () => {
      if (!connected || e.added || e.cancelling || !live(e)) return;
      try {
        if (e.sweep) {
          for (const jobId of await othersOf(e.state.id, e.jobId)) await stopJob(jobId);
          e.sweep = false;
        }
        // An object deleted and created again with the same spec has the same job id.
        await client.del(cancelKey(opts.connection, name, e.jobId));
        await queue.add(name, e.data, { ...jobOptions, jobId: e.jobId });
        // The same id cancelled earlier by a controller that could not remove it (it stopped, or the
        // job outlived the cancel timeout): that one is over, so this submission starts afresh.
        if ((await queue.getJobState(e.jobId)) === 'failed') {
          const old = await Job.fromId(queue, e.jobId);
          if (old?.failedReason === CANCELLED && (await queue.remove(e.jobId)) === 1)
            await queue.add(name, e.data, { ...jobOptions, jobId: e.jobId });
        }
      } catch (err) {
        log.debug(
          { jobId: e.jobId, error: (err as Error).message },
          'job not added; retried when Redis is back',
        );
        return;
      }
      e.added = true;
      jobsSubmitted.inc({ queue: name });
    })().finally(() => {
      e.adding = undefined;
    });
    return e.adding.then(() => (e.added ? refresh(e) : undefined));
  };

  /** Stops a job wherever it is: queued (removed), running (its worker aborts it), or later picked up.
   * Resolves with the last progress its worker reported once it stopped (a stopped chaos run's
   * final figures), if it was running. */
  const stopJob = async (jobId: string): Promise<unknown> => {
    await client.set(cancelKey(opts.connection, name, jobId), '1', 'EX', CANCEL_TTL_SECONDS);
    await client.publish(cancelChannel(opts.connection, name), jobId);
    if ((await queue.remove(jobId)) === 1) return undefined;
    const end = Date.now() + cancelTimeoutMs;
    while (Date.now() < end && !stopped) {
      const state = await queue.getJobState(jobId);
      if (state !== 'active') {
        const last = state === 'unknown' ? undefined : (await Job.fromId(queue, jobId))?.progress;
        await queue.remove(jobId);
        return last;
      }
      await sleep(50);
    }
    log.warn(
      { jobId },
      'the cancelled job has not stopped yet; a worker stops it when it sees the cancel key',
    );
    return undefined;
  };

  /** `id`'s unfinished jobs in the queue but `except`. */
  const othersOf = async (id: string, except?: string): Promise<string[]> => {
    const jobIds = new Set(await queue.getRanges([...UNFINISHED], 0, -1));
    return [...jobIds].filter((jobId) => jobId !== except && isJobOf(id, jobId));
  };

  /** Cancels the jobs of an id this runner has no job for; the one that ran (or any) becomes a
   * cancelled entry, with what its worker reported as it stopped. */
  const cancelUnknown = async (id: string): Promise<void> => {
    if (!connected) {
      pendingIdCancels.add(id);
      return;
    }
    try {
      let found: Entry<I, R, P> | undefined;
      for (const jobId of await othersOf(id)) {
        const job = await Job.fromId<QueueJobData<I>, R>(queue, jobId);
        const last = await stopJob(jobId);
        log.info({ jobId }, 'cancelled a job an earlier controller submitted');
        if (!job || (found && last === undefined)) continue;
        const state: JobState<R, P> = {
          id,
          generation: job.data.generation,
          stage: 'queued',
          progress: 0,
          done: false,
          cancelled: false,
          ...(job.processedOn ? { startedAt: iso(job.processedOn) } : {}),
        };
        applyProgress(state, last ?? job.progress);
        Object.assign(state, { stage: 'finished', done: true, cancelled: true });
        found = { state, jobId, data: job.data, added: true, refreshAgain: false, sweep: false };
      }
      if (found && !entries.has(id)) {
        entries.set(id, found);
        byJobId.set(found.jobId, found);
      }
    } catch {
      pendingIdCancels.add(id);
    }
  };

  const cancelEntry = (e: Entry<I, R, P> | undefined): Promise<void> => {
    if (!e || e.state.done) return Promise.resolve();
    if (e.cancelling) return e.cancelling;
    e.cancelling = (async () => {
      await e.adding;
      // Also when this runner never added it: an earlier controller may have.
      if (connected) {
        try {
          applyProgress(e.state, await stopJob(e.jobId));
        } catch {
          pendingCancels.add(e.jobId);
        }
      } else pendingCancels.add(e.jobId);
      finish(e, { cancelled: true });
    })();
    return e.cancelling;
  };

  const resync = () => {
    if (!connected) return;
    for (const jobId of pendingCancels) {
      pendingCancels.delete(jobId);
      stopJob(jobId).catch(() => pendingCancels.add(jobId));
    }
    for (const id of pendingIdCancels) {
      pendingIdCancels.delete(id);
      // A submission since then cancels the others itself.
      if (!entries.has(id)) void cancelUnknown(id);
    }
    for (const e of entries.values()) {
      if (e.state.done || e.cancelling) continue;
      if (e.added) void refresh(e);
      else void add(e);
    }
  };

  client.on('ready', () => {
    connected = true;
    if (graceTimer) clearTimeout(graceTimer);
    graceTimer = undefined;
    setAvailable(true);
    resync();
  });
  client.on('close', lost);
  client.on('error', (err: Error) => {
    lastError = err.message || err.name;
  });
  lost(); // not connected yet: report it if that lasts
  queue.on('error', (err) => log.debug({ error: err.message }, 'queue error'));
  events.on('error', (err) => log.debug({ error: err.message }, 'queue events error'));
  const byEvent = ({ jobId }: { jobId: string }) => {
    const e = byJobId.get(jobId);
    if (e) void refresh(e);
  };
  for (const event of ['active', 'completed', 'failed', 'waiting', 'delayed', 'stalled', 'removed'] as const)
    events.on(event, byEvent);
  events.on('progress', ({ jobId, data }) => {
    const e = byJobId.get(jobId);
    if (e && !e.cancelling && live(e) && applyProgress(e.state, data)) notify(e.state.id);
  });
  const resyncTimer = setInterval(resync, opts.resyncIntervalMs ?? 5000);
  resyncTimer.unref();

  return {
    submit(id, generation, input) {
      const jobId = queueJobId(id, generation, input);
      const previous = entries.get(id);
      if (previous && !previous.state.done && !previous.cancelling && previous.jobId === jobId) return;
      if (previous && !previous.state.done) void cancelEntry(previous);
      const e: Entry<I, R, P> = {
        state: { id, generation, stage: 'queued', progress: 0, done: false, cancelled: false },
        jobId,
        data: { id, generation, input: opts.prepare ? opts.prepare(input) : input },
        added: false,
        refreshAgain: false,
        sweep: !previous,
      };
      if (!available) e.state.queueUnavailable = unavailableMessage();
      entries.set(id, e);
      byJobId.set(jobId, e);
      void add(e);
    },
    get: (id) => entries.get(id)?.state,
    cancel(id) {
      const e = entries.get(id);
      return e ? cancelEntry(e) : cancelUnknown(id);
    },
    forget(id) {
      const e = entries.get(id);
      if (!e?.state.done) return;
      entries.delete(id);
      if (byJobId.get(e.jobId) === e) byJobId.delete(e.jobId);
      // A finished job has been read: drop it, so that a new reconcile request runs it again.
      if (connected && !e.state.cancelled) queue.remove(e.jobId).catch(() => {});
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      stopped = true;
      clearInterval(resyncTimer);
      if (graceTimer) clearTimeout(graceTimer);
      await Promise.all([...entries.values()].map((e) => e.cancelling).filter(Boolean));
      await bounded(events.close(), 2000);
      await bounded(queue.close(), 2000);
      await bounded(client.quit(), 1000);
      client.disconnect();
    },
  };
};
