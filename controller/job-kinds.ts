// The long work SimOps can hand to `simops worker` processes, one queue per kind: what the controller
// submits (through the BullMQ runner when REDIS_URL is set) and what a worker runs for it, the same
// work function the in-process runner runs.

import { randomRunId } from '../reconcilers/simulation-run/artifacts/run-id.ts';
import {
  type SimulationJobInput,
  type SimulationJobResult,
  simulationJob,
} from '../reconcilers/simulation-run/job.ts';
import type { JobRunner, JobWork } from '../reconcilers/simulation-run/jobs.ts';
import { bullmqJobs } from './jobs/bullmq-runner.ts';
import type { QueueConnection } from './jobs/redis.ts';
import type { KubeClient } from './runtime/kube-client.ts';
import type { Log } from './runtime/logger.ts';

/** What a worker gives the work: its own API client and directories. */
export interface WorkerDeps {
  client: KubeClient;
  cacheDir: string;
  artifactDir: string;
  log: Log;
}

export interface JobKind<I, R> {
  queue: string;
  work(deps: WorkerDeps): JobWork<I, R>;
  /** Applied once, when the controller queues the job. */
  prepare?(input: I): I;
}

export const SIMULATION_RUN_JOBS: JobKind<SimulationJobInput, SimulationJobResult> = {
  queue: 'simulation-run',
  work: (deps) => simulationJob(deps),
  // A run named at random (deterministicRunId: false) is named when queued, so that a retry of the
  // job finds and reuses the run an earlier attempt wrote rather than writing a second one.
  prepare: (input) =>
    input.spec.deterministicRunId === false && !input.spec.runId
      ? { ...input, spec: { ...input.spec, runId: randomRunId() } }
      : input,
};

/** Every queue a worker serves. */
export const WORKER_JOBS: { queue: string; work(deps: WorkerDeps): JobWork<never, unknown> }[] = [
  SIMULATION_RUN_JOBS,
];

/** The controller's side of the queues. */
export interface JobQueues {
  connection: QueueConnection;
  log: Log;
}

export const queuedJobs = <I, R>(queues: JobQueues, kind: JobKind<I, R>): JobRunner<I, R> =>
  bullmqJobs<I, R>({
    connection: queues.connection,
    log: queues.log,
    queue: kind.queue,
    prepare: kind.prepare?.bind(kind),
  });
