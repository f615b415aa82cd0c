// The seed's metrics (FR3), in the SimOps registry: runs created and evaluation time, by mode.
import { defineCounter, defineHistogram } from '../../controller/runtime/metrics.ts';
import type { Mode } from './engine/context.ts';

/** Evaluations take from a millisecond (a small template) to minutes (millions of bins). */
const EVALUATION_BUCKETS_MS = [
  1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10_000, 30_000, 60_000, 300_000,
];

export const runCreated = defineCounter(
  'run_created_total',
  'Simulation runs whose artifacts were written (reused and dry runs excluded), by mode.',
  ['mode'],
);

export const evaluationDuration = defineHistogram(
  'simulation_evaluation_duration_ms',
  'Time spent evaluating a simulation run (artifact writing excluded), in milliseconds, by mode.',
  ['mode'],
  EVALUATION_BUCKETS_MS,
);

export const runMetrics = {
  runCreated: (mode: Mode) => runCreated.inc({ mode }),
  evaluated: (mode: Mode, ms: number) => evaluationDuration.observe({ mode }, ms),
};
