// Sandbox metrics, in SimOps' registry: how long starts take, and flow runs by result.
import { defineCounter, defineHistogram } from '../../controller/runtime/metrics.ts';

/** Labels: runtime (process, kubernetes). From the start of provisioning to every listener answering. */
export const sandboxStartSeconds = defineHistogram(
  'sandbox_start_seconds',
  'Time from provisioning a sandbox to every listener answering, by runtime.',
  ['runtime'],
  [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 300],
);

/** Labels: result (Passed, Failed). */
export const flowRunsTotal = defineCounter('flow_runs_total', 'Flow runs finished, by result.', ['result']);

export const flowDurationSeconds = defineHistogram(
  'flow_duration_seconds',
  'Time of one flow run in the browser, launch to close.',
  [],
  [0.5, 1, 2, 5, 10, 30, 60],
);
