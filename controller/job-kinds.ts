// The long work SimOps can hand to `simops worker` processes, one queue per kind: what the controller
// submits (through the BullMQ runner when REDIS_URL is set) and what a worker runs for it, the same
// work function the in-process runner runs.

import {
  type ChaosJobDetail,
  type ChaosJobInput,
  type ChaosJobResult,
  chaosJob,
  hookSecretFrom,
} from '../reconcilers/chaos-scenario/job.ts';
import { type FlowJobDetail, type FlowJobInput, flowJob } from '../reconcilers/sandbox/flow-job.ts';
import { chromiumFlowRunner, type FlowOutcome } from '../reconcilers/sandbox/flow-runner.ts';
import { type Snapshot, type SnapshotJobInput, snapshotJob } from '../reconcilers/sandbox/snapshot-job.ts';
import { randomRunId } from '../reconcilers/simulation-run/artifacts/run-id.ts';
import {
  type SimulationJobInput,
  type SimulationJobResult,
  simulationJob,
} from '../reconcilers/simulation-run/job.ts';
import type { JobRunner, JobWork } from '../reconcilers/simulation-run/jobs.ts';
import type { bullmqJobs } from './jobs/bullmq-runner.ts';
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

/** `P`: the progress detail the work reports (a chaos run's live figures). */
export interface JobKind<I, R, P = unknown> {
  queue: string;
  work(deps: WorkerDeps): JobWork<I, R, P>;
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

// The run id is part of the input (the reconciler derives it from the object), so a retry writes the
// same run directory; the hook secret is read by the worker with its own client, never queued.
export const CHAOS_SCENARIO_JOBS: JobKind<ChaosJobInput, ChaosJobResult, ChaosJobDetail> = {
  queue: 'chaos-scenario',
  work: (deps) => chaosJob({ artifactDir: deps.artifactDir, hookSecret: hookSecretFrom(deps.client) }),
};

// A Sandbox's flow run in the worker's Chromium against the sandbox's URL; the screenshots go to the
// worker's artifact directory (the controller's volume), under the path the input names.
export const SANDBOX_FLOW_JOBS: JobKind<FlowJobInput, FlowOutcome, FlowJobDetail> = {
  queue: 'sandbox-flow',
  work: (deps) => flowJob({ artifactDir: deps.artifactDir, browser: chromiumFlowRunner() }),
};

// A snapshot's archive of a quiesced sandbox's working directory, into the snapshot store: both on
// the artifact volume the worker shares with the controller.
export const SANDBOX_SNAPSHOT_JOBS: JobKind<SnapshotJobInput, Snapshot> = {
  queue: 'sandbox-snapshot',
  work: (deps) => snapshotJob({ artifactDir: deps.artifactDir }),
};

/** Every queue a worker serves. */
export const WORKER_JOBS: { queue: string; work(deps: WorkerDeps): JobWork<never, unknown, never> }[] = [
  SIMULATION_RUN_JOBS,
  CHAOS_SCENARIO_JOBS,
  SANDBOX_FLOW_JOBS,
  SANDBOX_SNAPSHOT_JOBS,
];

/** The controller's side of the queues. */
export interface JobQueues {
  connection: QueueConnection;
  log: Log;
  /** The BullMQ runner, loaded only when there are queues (bullmq and ioredis are ~20 MB). */
  runner: typeof bullmqJobs;
}

/** The controller's side of the queues on this Redis. */
export const loadJobQueues = async (connection: QueueConnection, log: Log): Promise<JobQueues> => ({
  connection,
  log,
  runner: (await import('./jobs/bullmq-runner.ts')).bullmqJobs,
});

export const queuedJobs = <I, R, P = unknown>(
  queues: JobQueues,
  kind: JobKind<I, R, P>,
): JobRunner<I, R, P> =>
  queues.runner<I, R, P>({
    connection: queues.connection,
    log: queues.log,
    queue: kind.queue,
    prepare: kind.prepare?.bind(kind),
  });
