// Every reconciler SimOps runs, in one list for `simops up` and `simops controller`, with the HTTP
// handlers some of them serve on the controller's port (webhooks, simulated device endpoints).
import type { IncomingMessage, ServerResponse } from 'node:http';
import { chaosScenarioReconciler } from '../reconcilers/chaos-scenario/reconciler.ts';
import { gitSourceReconciler } from '../reconcilers/git-source/reconciler.ts';
import { machineReconciler } from '../reconcilers/machine/reconciler.ts';
import { sandboxReconciler } from '../reconcilers/sandbox/reconciler.ts';
import { simulationRunReconciler } from '../reconcilers/simulation-run/reconciler.ts';
import { simulatorReconciler } from '../reconcilers/simulator/reconciler.ts';
import {
  CHAOS_SCENARIO_JOBS,
  type JobQueues,
  queuedJobs,
  SANDBOX_FLOW_JOBS,
  SANDBOX_SNAPSHOT_JOBS,
  SIMULATION_RUN_JOBS,
} from './job-kinds.ts';
import type { Reconciler } from './runtime/reconciler.ts';

export type HttpHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface ReconcilerOptions {
  /** Where git clones are cached. */
  cacheDir: string;
  /** Where artifacts are written (run outputs, command traces, snapshots): the data directory in
   * embedded mode, a mounted volume in a cluster. */
  artifactDir: string;
  /** The controller's HTTP base URL (for endpoints reconcilers advertise in status). */
  httpBaseUrl?: () => string;
  onFetch?: (seconds: number, result: 'success' | 'error') => void;
  /** Job queues on Redis: long work is queued for `simops worker` processes rather than run here. */
  queues?: JobQueues;
  /** Sandboxes may run commands from git repositories as local processes (default false: on in
   * embedded mode, off in a cluster unless enabled). */
  processRuntime?: boolean;
}

export interface ReconcilerSet {
  reconcilers: Reconciler[];
  handlers: HttpHandler[];
}

export const allReconcilers = (opts: ReconcilerOptions): ReconcilerSet => {
  const machines = machineReconciler({ artifactDir: opts.artifactDir, httpBaseUrl: opts.httpBaseUrl });
  return {
    reconcilers: [
      gitSourceReconciler({ cacheDir: opts.cacheDir, onFetch: opts.onFetch }),
      machines.reconciler,
      simulationRunReconciler({
        cacheDir: opts.cacheDir,
        artifactDir: opts.artifactDir,
        jobs: opts.queues && (() => queuedJobs(opts.queues!, SIMULATION_RUN_JOBS)),
      }),
      simulatorReconciler({ cacheDir: opts.cacheDir }),
      sandboxReconciler({
        cacheDir: opts.cacheDir,
        artifactDir: opts.artifactDir,
        processRuntime: opts.processRuntime ?? false,
        flowJobs: opts.queues && (() => queuedJobs(opts.queues!, SANDBOX_FLOW_JOBS)),
        snapshotJobs: opts.queues && (() => queuedJobs(opts.queues!, SANDBOX_SNAPSHOT_JOBS)),
      }),
      chaosScenarioReconciler({
        artifactDir: opts.artifactDir,
        jobs: opts.queues && (() => queuedJobs(opts.queues!, CHAOS_SCENARIO_JOBS)),
      }),
    ],
    handlers: [machines.devices.handler],
  };
};
