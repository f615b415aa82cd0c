// What a SimulationRun's status says about its job: pure functions from the job's state to the
// status fields, the kstatus outcome, the Event to record and when to look again.
import type { KubeObject } from '../../apiserver/types.ts';
import { isTrue, type Outcome, STALLED } from '../../controller/runtime/conditions.ts';
import type { EventType } from '../../controller/runtime/events.ts';
import { requestedAt, type StatusBase } from '../../controller/runtime/status.ts';
import type { Condition } from '../../crds/common.ts';
import type { SimulationRunStatus } from '../../crds/simulation-run.ts';
import { formatFieldError } from './engine/issues.ts';
import type { SimulationJobResult } from './job.ts';
import { type JobState, QUEUE_UNAVAILABLE } from './jobs.ts';

type Fields = { [K in keyof SimulationRunStatus]?: SimulationRunStatus[K] | undefined };

export interface Decision {
  fields: Fields;
  outcome: Outcome;
  event?: { type: EventType; reason: string; message: string };
  requeueAfterMs?: number;
}

/** Status lists at most this many warnings (`warningCount` has them all; run.json lists them all). */
export const MAX_STATUS_WARNINGS = 20;
const RETRY_MS = 30_000;

/** Fields of a finished run, cleared while a new one is in progress. */
const CLEARED: Fields = {
  artifacts: undefined,
  canReplay: undefined,
  durationMs: undefined,
  evaluationMs: undefined,
  completedAt: undefined,
  warnings: undefined,
  warningCount: undefined,
  plan: undefined,
};

/** Nothing to do: this generation ended in success or in a terminal failure, and no new reconcile was asked. */
export const isSettled = (o: KubeObject): boolean => {
  const s = (o.status ?? {}) as StatusBase & SimulationRunStatus;
  if (s.observedGeneration !== o.metadata.generation) return false;
  if (requestedAt(o) !== undefined && requestedAt(o) !== s.lastHandledReconcileAt) return false;
  return s.phase === 'Succeeded' || isTrue(s.conditions as Condition[] | undefined, STALLED);
};

const PHASE = {
  queued: 'Pending',
  validating: 'Validating',
  evaluating: 'Running',
  writing: 'Running',
} as const;

export const progressStatus = (job: JobState<SimulationJobResult>): Decision => {
  if (job.queueUnavailable) return queueUnavailableStatus(job);
  const stage = job.stage === 'finished' ? 'writing' : job.stage;
  const percent = Math.floor(job.progress * 100);
  const what =
    stage === 'queued'
      ? 'waiting for an evaluation slot'
      : stage === 'validating'
        ? 'validating the template'
        : stage === 'evaluating'
          ? `evaluating: ${percent}% of the bins`
          : 'writing the artifacts';
  return {
    fields: {
      ...CLEARED,
      phase: PHASE[stage],
      progress: percent,
      ...(job.runId ? { runId: job.runId } : {}),
      ...(job.startedAt ? { startedAt: job.startedAt } : {}),
    },
    outcome: { kind: 'progressing', reason: 'Progressing', message: `${job.runId ?? 'run'}: ${what}` },
  };
};

/** The job queue (Redis) is unreachable: the job's fields, not Ready and not stalled either, since
 * the job goes on when the queue is back (the runner reports that). */
const queueUnavailableStatus = (job: JobState<SimulationJobResult>): Decision => ({
  ...progressStatus({ ...job, queueUnavailable: undefined }),
  outcome: {
    kind: 'failed',
    reason: QUEUE_UNAVAILABLE,
    message: `${job.runId ?? 'run'}: ${job.queueUnavailable}`,
  },
});

export const finishedStatus = (job: JobState<SimulationJobResult>, now: string): Decision => {
  const ended = { ...(job.startedAt ? { startedAt: job.startedAt } : {}), completedAt: now };
  if (job.error !== undefined || !job.result) {
    const message = `the run failed: ${job.error ?? 'no result'}`;
    return {
      fields: { ...CLEARED, ...ended, phase: 'Failed' },
      outcome: { kind: 'failed', reason: 'RunFailed', message },
      event: { type: 'Warning', reason: 'RunFailed', message },
      requeueAfterMs: RETRY_MS,
    };
  }
  const result = job.result;
  if (result.kind === 'sourceError') {
    return {
      fields: { ...CLEARED, ...ended, phase: 'Failed', runId: undefined },
      outcome: {
        kind: result.terminal ? 'stalled' : 'failed',
        reason: result.reason,
        message: result.message,
      },
      event: { type: 'Warning', reason: result.reason, message: result.message },
      ...(result.terminal ? {} : { requeueAfterMs: RETRY_MS }),
    };
  }
  const r = result.report;
  const warnings = {
    warnings: r.warnings.length ? r.warnings.slice(0, MAX_STATUS_WARNINGS) : undefined,
    warningCount: r.warnings.length,
  };
  if (r.outcome === 'invalid') {
    const message = `${result.origin}: ${r.errors.map(formatFieldError).join('; ')}`;
    return {
      fields: { ...CLEARED, ...ended, ...warnings, phase: 'Failed', runId: undefined, progress: undefined },
      outcome: { kind: 'stalled', reason: 'ValidationFailed', message },
      event: { type: 'Warning', reason: 'ValidationFailed', message },
    };
  }
  const common: Fields = {
    ...CLEARED,
    ...ended,
    ...warnings,
    phase: 'Succeeded',
    runId: r.runId,
    grid: r.grid,
    progress: 100,
    durationMs: r.durationMs,
    ...(r.evaluationMs !== undefined ? { evaluationMs: r.evaluationMs } : {}),
  };
  if (r.outcome === 'planned') {
    const p = r.plan!;
    const message = `dry run: the template is valid; it would ${p.reuse ? 'reuse' : 'write'} run ${r.runId} (${p.nodes} nodes, ${p.series} series, ${p.bins} bins)`;
    return {
      fields: { ...common, progress: undefined, plan: p },
      outcome: { kind: 'ready', reason: 'DryRun', message },
      event: { type: 'Normal', reason: 'DryRun', message },
    };
  }
  const a = r.artifacts!;
  const reused = r.outcome === 'reused';
  const message = reused
    ? `reused run ${r.runId} (${a.seriesCount} series in ${a.location})`
    : `run ${r.runId}: ${a.seriesCount} series written to ${a.location} in ${Math.round(r.durationMs)} ms`;
  return {
    fields: { ...common, artifacts: a, canReplay: r.canReplay },
    outcome: { kind: 'ready', reason: reused ? 'RunReused' : 'RunSucceeded', message },
    event: { type: 'Normal', reason: reused ? 'RunReused' : 'RunSucceeded', message },
  };
};
