// ChaosScenario metrics in the SimOps registry. The runner reports once per tick (never per
// request), so the load loop pays nothing for them.
import { defineCounter, defineGauge, defineHistogram } from '../../controller/runtime/metrics.ts';
import type { RunMetricsSink, Verdict } from './runner.ts';

const DRIFT_BUCKETS_MS = [0.5, 1, 2, 5, 10, 25, 50, 100, 250, 1000];

export const chaosRequests = defineCounter(
  'chaos_requests_total',
  'Requests chaos agents got an answer or a failure for, by scenario (namespace/name).',
  ['scenario'],
);
export const chaosErrors = defineCounter(
  'chaos_request_errors_total',
  'Failed chaos requests (unexpected status, reset, timeout), by scenario.',
  ['scenario'],
);
export const chaosAgentsSpawned = defineCounter(
  'chaos_agents_spawned_total',
  'Agents spawned, by scenario.',
  ['scenario'],
);
export const chaosActiveAgents = defineGauge(
  'chaos_active_agents',
  'Agents walking a journey now, by scenario.',
  ['scenario'],
);
export const chaosLatencyP95 = defineGauge(
  'chaos_latency_p95_ms',
  'p95 latency over the evaluation window, in milliseconds, by scenario.',
  ['scenario'],
);
export const chaosErrorRate = defineGauge(
  'chaos_error_rate',
  'Error rate over the evaluation window, by scenario.',
  ['scenario'],
);
export const chaosTickDrift = defineHistogram(
  'chaos_tick_drift_ms',
  'How late each tick of the simulated clock fired, in milliseconds.',
  [],
  DRIFT_BUCKETS_MS,
);
export const chaosViolations = defineCounter(
  'chaos_violations_total',
  'Invariant violations, by scenario, invariant and severity.',
  ['scenario', 'invariant', 'severity'],
);
export const chaosRuns = defineCounter('chaos_runs_total', 'Finished chaos runs, by verdict.', ['verdict']);

export const metricsSink = (scenario: string): RunMetricsSink => {
  let spawnedBefore = 0;
  return {
    tick(t) {
      chaosRequests.inc({ scenario }, t.requests);
      chaosErrors.inc({ scenario }, t.errors);
      chaosAgentsSpawned.inc({ scenario }, t.spawned - spawnedBefore);
      spawnedBefore = t.spawned;
      chaosActiveAgents.set({ scenario }, t.agents);
      chaosLatencyP95.set({ scenario }, t.p95Ms);
      chaosErrorRate.set({ scenario }, t.errorRate);
      chaosTickDrift.observe(t.driftMs);
    },
    violation(v) {
      chaosViolations.inc({ scenario, invariant: v.invariant, severity: v.severity });
    },
  };
};

export const runFinished = (scenario: string, verdict: Verdict) => {
  chaosRuns.inc({ verdict });
  chaosActiveAgents.set({ scenario }, 0);
};
