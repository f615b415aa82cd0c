// What a ChaosScenario's status says: pure functions from the run's state to the status fields,
// the kstatus outcome, the Event to record and when to look again.
import { createHash } from 'node:crypto';
import type { KubeObject } from '../../apiserver/types.ts';
import { isTrue, type Outcome, STALLED } from '../../controller/runtime/conditions.ts';
import type { EventType } from '../../controller/runtime/events.ts';
import { requestedAt, type StatusBase } from '../../controller/runtime/status.ts';
import type { ChaosScenarioStatus } from '../../crds/chaos-scenario.ts';
import type { Condition } from '../../crds/common.ts';
import { type JobState, QUEUE_UNAVAILABLE } from '../simulation-run/jobs.ts';
import type { ChaosJobDetail, ChaosJobResult, FinalReport } from './job.ts';
import { formatSimTime } from './model.ts';
import { type FieldError, formatFieldError } from './resolve.ts';
import { headline } from './summary.ts';

type Fields = { [K in keyof ChaosScenarioStatus]?: ChaosScenarioStatus[K] | undefined };

export interface Decision {
  fields: Fields;
  outcome: Outcome;
  event?: { type: EventType; reason: string; message: string };
  requeueAfterMs?: number;
}

/** Status lists at most this many violations; summary.json has them all. */
export const MAX_STATUS_VIOLATIONS = 50;
export const TARGET_RETRY_MS = 2000;
const TERMINAL = new Set(['Passed', 'Failed', 'Stopped', 'Error']);

/** The facts of a run that status repeats while it goes. */
export interface RunIdentity {
  runId: string;
  seed: number;
  scheduleDigest: string;
  target: string;
}

/** A run's id: the object's name, its schedule, and what asked for the run (the object's uid,
 * generation and reconcile request). The same run submitted again (a restarted controller, a new
 * leader) has the same id, so its queued job collapses into the one already there and a retried job
 * writes the same run directory; a new generation or reconcile request is a new run. */
export const runIdOf = (o: KubeObject, scheduleDigest: string): string => {
  const cause = `${o.metadata.uid ?? ''}/${o.metadata.generation ?? 0}/${requestedAt(o) ?? ''}`;
  const suffix = createHash('sha256').update(cause).digest('hex').slice(0, 8);
  return `${(o.metadata.name ?? '').slice(0, 40)}-${scheduleDigest.slice(7, 15)}-${suffix}`;
};

/** The run status names as going (Pending or Running): one an earlier controller started, before a
 * restart or a change of leader, that this one may stop. */
export const runInStatus = (s: ChaosScenarioStatus): RunIdentity | undefined =>
  (s.phase === 'Pending' || s.phase === 'Running') &&
  s.runId !== undefined &&
  s.seed !== undefined &&
  s.scheduleDigest !== undefined &&
  s.target !== undefined
    ? { runId: s.runId, seed: s.seed, scheduleDigest: s.scheduleDigest, target: s.target }
    : undefined;

/** Fields of a finished run, cleared when a new one starts. */
const CLEARED: Fields = {
  summary: undefined,
  violations: undefined,
  artifacts: undefined,
  completedAt: undefined,
};

/** Nothing to do: this generation and reconcile request have a verdict (or a terminal failure). */
export const isSettled = (o: KubeObject): boolean => {
  const s = (o.status ?? {}) as StatusBase & ChaosScenarioStatus;
  if (s.observedGeneration !== o.metadata.generation) return false;
  if (requestedAt(o) !== undefined && requestedAt(o) !== s.lastHandledReconcileAt) return false;
  return TERMINAL.has(s.phase ?? '') || isTrue(s.conditions as Condition[] | undefined, STALLED);
};

const pct = (x: number) => `${Math.round(x * 10000) / 100}%`;

const progressFields = (d: ChaosJobDetail): NonNullable<ChaosScenarioStatus['progress']> => ({
  simMinutes: d.simMinutes,
  simTime: `${formatSimTime(d.simMinutes)}/${formatSimTime(d.totalSimMinutes)}`,
  percent: d.percent,
  realSeconds: d.realSeconds,
  agents: d.agents,
  agentsSpawned: d.agentsSpawned,
  requests: d.requests,
  ...(d.p95Ms !== undefined ? { p95Ms: d.p95Ms } : {}),
  errorRate: d.errorRate,
  errors: `${d.errors} (${pct(d.errorRate)})`,
  violations: d.violations,
});

export const invalidSpec = (errors: FieldError[]): Decision => {
  const message = errors.map(formatFieldError).join('; ');
  return {
    fields: { ...CLEARED, phase: 'Error', progress: undefined },
    outcome: { kind: 'stalled', reason: 'InvalidSpec', message },
    event: { type: 'Warning', reason: 'InvalidSpec', message },
  };
};

export const targetNotAllowed = (reason: string): Decision => ({
  fields: { ...CLEARED, phase: 'Error', progress: undefined },
  outcome: { kind: 'stalled', reason: 'TargetNotAllowed', message: reason },
  event: { type: 'Warning', reason: 'TargetNotAllowed', message: reason },
});

export const targetNotReady = (message: string): Decision => ({
  fields: { ...CLEARED, phase: 'Pending', progress: undefined },
  outcome: { kind: 'failed', reason: 'TargetNotReady', message },
  requeueAfterMs: TARGET_RETRY_MS,
});

/** spec.state is Stopped and no run was going. */
export const stoppedIdle = (): Decision => ({
  fields: { phase: 'Stopped' },
  outcome: { kind: 'failed', reason: 'Stopped', message: 'spec.state is Stopped: no run' },
});

export const progressStatus = (job: JobState<ChaosJobResult, ChaosJobDetail>, run: RunIdentity): Decision => {
  const d = job.detail;
  const queued = job.stage === 'queued';
  const message = queued
    ? `${run.runId}: waiting for a run slot`
    : d
      ? `${run.runId}: sim ${formatSimTime(d.simMinutes)} of ${formatSimTime(d.totalSimMinutes)}, ${d.agents} agents, ${d.requests} requests, p95 ${d.p95Ms ?? '-'} ms, errors ${pct(d.errorRate)}, ${d.violations} violations`
      : `${run.runId}: starting against ${run.target}`;
  return {
    fields: {
      ...CLEARED,
      phase: queued ? 'Pending' : 'Running',
      runId: run.runId,
      seed: run.seed,
      scheduleDigest: run.scheduleDigest,
      target: run.target,
      ...(d ? { progress: progressFields(d) } : { progress: undefined }),
      ...(job.startedAt && !queued ? { startedAt: job.startedAt } : {}),
    },
    // The job queue (Redis) unreachable: not Ready, nor stalled, since the run goes on when it is back.
    outcome: job.queueUnavailable
      ? { kind: 'failed', reason: QUEUE_UNAVAILABLE, message: `${run.runId}: ${job.queueUnavailable}` }
      : { kind: 'progressing', reason: queued ? 'Queued' : 'Running', message },
  };
};

const summaryFields = (r: FinalReport): NonNullable<ChaosScenarioStatus['summary']> => ({
  verdict: r.verdict,
  message: headline(r),
  requests: r.totals.requests,
  errors: r.totals.errors,
  errorRate: Math.round(r.totals.errorRate * 1e6) / 1e6,
  resets: r.totals.resets,
  timeouts: r.totals.timeouts,
  p50Ms: r.totals.p50Ms,
  p95Ms: r.totals.p95Ms,
  p99Ms: r.totals.p99Ms,
  throughputRps: r.throughputRps,
  tickDriftP99Ms: r.tickDriftP99Ms,
  agentsSpawned: r.agentsSpawned,
  agentsThrottled: r.agentsThrottled,
  simMinutes: r.simMinutes,
  realSeconds: r.realSeconds,
  ...(r.aborted ? { aborted: r.aborted } : {}),
  violations: r.violations.length,
  invariants: r.invariants.map((i) => ({
    ...i,
    ...(i.value !== undefined ? { value: Math.round(i.value * 1e6) / 1e6 } : {}),
  })),
});

const reportFields = (r: FinalReport, run: RunIdentity): Fields => ({
  runId: run.runId,
  seed: run.seed,
  scheduleDigest: run.scheduleDigest,
  target: run.target,
  progress: {
    simMinutes: r.simMinutes,
    simTime: `${formatSimTime(r.simMinutes)}/${formatSimTime(r.totalSimMinutes)}`,
    percent: r.verdict === 'Stopped' ? Math.floor((r.simMinutes / r.totalSimMinutes) * 100) : 100,
    realSeconds: r.realSeconds,
    agents: 0,
    agentsSpawned: r.agentsSpawned,
    requests: r.totals.requests,
    p95Ms: r.totals.p95Ms,
    errorRate: Math.round(r.totals.errorRate * 1e6) / 1e6,
    errors: `${r.totals.errors} (${pct(r.totals.errorRate)})`,
    violations: r.violations.length,
  },
  summary: summaryFields(r),
  violations: r.violations.slice(0, MAX_STATUS_VIOLATIONS),
  ...(r.artifacts ? { artifacts: r.artifacts } : {}),
  startedAt: r.startedAt.replace(/\.\d+Z$/, 'Z'),
  completedAt: r.completedAt.replace(/\.\d+Z$/, 'Z'),
});

export const finishedStatus = (
  job: JobState<ChaosJobResult, ChaosJobDetail>,
  run: RunIdentity,
  now: string,
): Decision => {
  const r = job.result;
  if (job.error !== undefined || !r) {
    const message = `${run.runId}: the run failed: ${job.error ?? 'no result'}`;
    return {
      fields: {
        ...CLEARED,
        phase: 'Error',
        runId: run.runId,
        seed: run.seed,
        scheduleDigest: run.scheduleDigest,
        target: run.target,
        completedAt: now,
      },
      outcome: { kind: 'failed', reason: 'RunError', message },
      event: { type: 'Warning', reason: 'RunError', message },
    };
  }
  const message = `${run.runId}: ${headline(r)}`;
  if (r.verdict === 'Passed')
    return {
      fields: { ...reportFields(r, run), phase: 'Passed' },
      outcome: { kind: 'ready', reason: 'Passed', message },
      event: { type: 'Normal', reason: 'Passed', message },
    };
  const reason = r.aborted ? 'Aborted' : 'InvariantsViolated';
  return {
    fields: { ...reportFields(r, run), phase: 'Failed' },
    outcome: { kind: 'failed', reason, message },
    event: { type: 'Warning', reason: 'Failed', message },
  };
};

/** The kill switch (or a deletion) stopped the run: what it had seen until then. */
export const stoppedStatus = (
  job: JobState<ChaosJobResult, ChaosJobDetail>,
  run: RunIdentity,
  why: string,
  now: string,
): Decision => {
  const d = job.detail;
  const final = d?.final;
  const message = `${run.runId}: stopped (${why})${d ? ` at sim ${formatSimTime(d.simMinutes)} after ${d.requests} requests` : ''}`;
  const fields: Fields = final
    ? { ...reportFields(final, run), phase: 'Stopped' }
    : {
        ...CLEARED,
        phase: 'Stopped',
        runId: run.runId,
        seed: run.seed,
        scheduleDigest: run.scheduleDigest,
        target: run.target,
        ...(d ? { progress: { ...progressFields(d), agents: 0 } } : {}),
        completedAt: now,
      };
  return {
    fields,
    outcome: { kind: 'failed', reason: 'Stopped', message },
    event: { type: 'Normal', reason: 'Stopped', message },
  };
};
