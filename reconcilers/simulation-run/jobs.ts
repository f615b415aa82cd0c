// Long work off the reconcile loop. A JobRunner runs one job per id (a SimulationRun's key) and
// keeps its state for the reconciler to read; submitting for an id that has a job cancels that job.
// This one runs jobs in this process, a few at a time; a runner that hands the same serialisable
// input to `simops worker` processes over BullMQ can replace it behind the same interface.

export type JobStage = 'queued' | 'validating' | 'evaluating' | 'writing' | 'finished';

export interface JobState<R, P = unknown> {
  id: string;
  /** The generation of the object the job was submitted for. */
  generation: number;
  stage: JobStage;
  /** 0..1 of the evaluation. */
  progress: number;
  /** The last progress detail the job reported (a chaos run's live figures). */
  detail?: P;
  runId?: string;
  startedAt?: string;
  done: boolean;
  cancelled: boolean;
  result?: R;
  /** An unexpected failure (the work threw). */
  error?: string;
  /** Set while the job queue (Redis) cannot be reached: why. The job goes on when it is back. */
  queueUnavailable?: string;
}

/** The Ready reason of an object whose job waits for the queue (Redis) to come back. */
export const QUEUE_UNAVAILABLE = 'QueueUnavailable';

export interface JobContext<P = unknown> {
  signal: AbortSignal;
  stage(stage: Exclude<JobStage, 'queued' | 'finished'>, runId?: string): void;
  progress(fraction: number, detail?: P): void;
}

export type JobWork<I, R, P = unknown> = (input: I, ctx: JobContext<P>) => Promise<R>;

export interface JobRunner<I, R, P = unknown> {
  submit(id: string, generation: number, input: I): void;
  get(id: string): JobState<R, P> | undefined;
  /** Stops the job (if running) and resolves when it has stopped. The state stays until forgotten. */
  cancel(id: string): Promise<void>;
  forget(id: string): void;
  /** Called on a new stage, on progress (at most every `progressIntervalMs`) and when a job ends. */
  onUpdate(listener: (id: string) => void): () => void;
  /** Cancels every job. */
  stop(): Promise<void>;
}

interface Entry<I, R, P> {
  state: JobState<R, P>;
  input: I;
  abort: AbortController;
  finished: Promise<void>;
  resolve: () => void;
}

const now = () => `${new Date().toISOString().slice(0, 19)}Z`;

export const inProcessJobs = <I, R, P = unknown>(
  work: JobWork<I, R, P>,
  opts: { concurrency?: number; progressIntervalMs?: number } = {},
): JobRunner<I, R, P> => {
  const concurrency = opts.concurrency ?? 2;
  const progressIntervalMs = opts.progressIntervalMs ?? 500;
  const jobs = new Map<string, Entry<I, R, P>>();
  const waiting: Entry<I, R, P>[] = [];
  const listeners = new Set<(id: string) => void>();
  let running = 0;

  const notify = (id: string) => {
    for (const l of listeners) l(id);
  };
  const finish = (e: Entry<I, R, P>, patch: Partial<JobState<R, P>>) => {
    Object.assign(e.state, { stage: 'finished', done: true }, patch);
    e.resolve();
    notify(e.state.id);
  };

  const start = (e: Entry<I, R, P>) => {
    running++;
    e.state.startedAt = now();
    let lastProgress = 0;
    const ctx: JobContext<P> = {
      signal: e.abort.signal,
      stage: (stage, runId) => {
        if (e.state.done) return;
        const changed = stage !== e.state.stage || (runId !== undefined && runId !== e.state.runId);
        e.state.stage = stage;
        if (runId !== undefined) e.state.runId = runId;
        if (changed) notify(e.state.id);
      },
      progress: (fraction, detail) => {
        e.state.progress = fraction;
        if (detail !== undefined) e.state.detail = detail;
        if (Date.now() - lastProgress >= progressIntervalMs) {
          lastProgress = Date.now();
          notify(e.state.id);
        }
      },
    };
    void work(e.input, ctx)
      .then(
        (result) =>
          e.abort.signal.aborted ? finish(e, { cancelled: true }) : finish(e, { result, progress: 1 }),
        (err: unknown) =>
          finish(
            e,
            e.abort.signal.aborted
              ? { cancelled: true }
              : { error: err instanceof Error ? err.message : String(err) },
          ),
      )
      .finally(() => {
        running--;
        next();
      });
  };
  const next = () => {
    while (running < concurrency && waiting.length) start(waiting.shift()!);
  };

  const cancel = async (id: string) => {
    const e = jobs.get(id);
    if (!e || e.state.done) return;
    const queued = waiting.indexOf(e);
    e.abort.abort(new DOMException('the run was cancelled', 'AbortError'));
    if (queued >= 0) {
      waiting.splice(queued, 1);
      finish(e, { cancelled: true });
    }
    await e.finished;
  };

  return {
    submit(id, generation, input) {
      const previous = jobs.get(id);
      if (previous && !previous.state.done) void cancel(id);
      let resolve = () => {};
      const finished = new Promise<void>((r) => {
        resolve = r;
      });
      const e: Entry<I, R, P> = {
        state: { id, generation, stage: 'queued', progress: 0, done: false, cancelled: false },
        input,
        abort: new AbortController(),
        finished,
        resolve,
      };
      jobs.set(id, e);
      waiting.push(e);
      next();
    },
    get: (id) => jobs.get(id)?.state,
    cancel,
    forget(id) {
      const e = jobs.get(id);
      if (e?.state.done) jobs.delete(id);
    },
    onUpdate(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async stop() {
      await Promise.all([...jobs.keys()].map(cancel));
    },
  };
};

/** Submits a job and resolves with its final state, for a caller that waits for the work (a
 * sandbox session's flow run or snapshot). `signal` cancels the job; `onState` sees each update
 * before the end (progress, the queue becoming unreachable). The finished job is forgotten. */
export const awaitJob = <I, R, P>(
  jobs: JobRunner<I, R, P>,
  id: string,
  generation: number,
  input: I,
  opts: { signal?: AbortSignal; onState?: (state: JobState<R, P>) => void } = {},
): Promise<JobState<R, P>> =>
  new Promise((resolve) => {
    const update = () => {
      const s = jobs.get(id);
      if (!s) return;
      if (!s.done) {
        opts.onState?.(s);
        return;
      }
      off();
      opts.signal?.removeEventListener('abort', cancel);
      jobs.forget(id);
      resolve(s);
    };
    const off = jobs.onUpdate((changed) => {
      if (changed === id) update();
    });
    const cancel = () => void jobs.cancel(id);
    opts.signal?.addEventListener('abort', cancel, { once: true });
    jobs.submit(id, generation, input);
    if (opts.signal?.aborted) cancel();
    update();
  });
