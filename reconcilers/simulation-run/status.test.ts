import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../apiserver/types.ts';
import type { SimulationJobResult } from './job.ts';
import type { JobState } from './jobs.ts';
import type { RunReport } from './orchestrate.ts';
import { finishedStatus, isSettled, progressStatus } from './status.ts';

const job = (patch: Partial<JobState<SimulationJobResult>>): JobState<SimulationJobResult> => ({
  id: 'default/r',
  generation: 2,
  stage: 'finished',
  progress: 1,
  done: true,
  cancelled: false,
  startedAt: '2026-01-01T00:00:00Z',
  ...patch,
});
const report = (patch: Partial<RunReport>): SimulationJobResult => ({
  kind: 'report',
  origin: 'templates/t.yaml',
  report: {
    outcome: 'succeeded',
    mode: 'simulation',
    errors: [],
    warnings: [],
    canReplay: true,
    durationMs: 12,
    ...patch,
  },
});
const object = (status: Record<string, unknown>, annotations?: Record<string, string>): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'SimulationRun',
  metadata: { name: 'r', namespace: 'default', generation: 2, ...(annotations ? { annotations } : {}) },
  status,
});
const stalled = [
  { type: 'Stalled', status: 'True', reason: 'ValidationFailed', message: '', lastTransitionTime: '' },
];

describe('SimulationRun status', () => {
  it('is settled once this generation succeeded or stalled, until a reconcile is requested', () => {
    assert.equal(isSettled(object({ observedGeneration: 2, phase: 'Succeeded' })), true);
    assert.equal(isSettled(object({ observedGeneration: 1, phase: 'Succeeded' })), false);
    assert.equal(isSettled(object({ observedGeneration: 2, phase: 'Running' })), false);
    assert.equal(isSettled(object({ observedGeneration: 2, phase: 'Failed' })), false, 'a retryable failure');
    assert.equal(isSettled(object({ observedGeneration: 2, phase: 'Failed', conditions: stalled })), true);
    const asked = { 'simops.dev/requestedAt': 'now' };
    assert.equal(isSettled(object({ observedGeneration: 2, phase: 'Succeeded' }, asked)), false);
    assert.equal(
      isSettled(object({ observedGeneration: 2, phase: 'Succeeded', lastHandledReconcileAt: 'now' }, asked)),
      true,
    );
  });

  it('shows the stage of a running job as the phase, with progress', () => {
    const d = progressStatus(job({ stage: 'evaluating', progress: 0.426, done: false, runId: 'run_x' }));
    assert.equal(d.fields.phase, 'Running');
    assert.equal(d.fields.progress, 42);
    assert.equal(d.fields.runId, 'run_x');
    assert.deepEqual(d.outcome, {
      kind: 'progressing',
      reason: 'Progressing',
      message: 'run_x: evaluating: 42% of the bins',
    });
    assert.equal(progressStatus(job({ stage: 'queued', done: false })).fields.phase, 'Pending');
    assert.equal(progressStatus(job({ stage: 'validating', done: false })).fields.phase, 'Validating');
  });

  it('stalls a validation failure with every field in the message', () => {
    const d = finishedStatus(
      job({
        result: report({
          outcome: 'invalid',
          errors: [
            { field: 'window', message: 'Required value: {start, timezone}' },
            { field: 'spec.parameters.rate', message: 'must be a number' },
          ],
        }),
      }),
      '2026-01-01T00:00:01Z',
    );
    assert.equal(d.fields.phase, 'Failed');
    assert.deepEqual(d.outcome, {
      kind: 'stalled',
      reason: 'ValidationFailed',
      message:
        'templates/t.yaml: window: Required value: {start, timezone}; spec.parameters.rate: must be a number',
    });
    assert.equal(d.event?.type, 'Warning');
    assert.equal(d.requeueAfterMs, undefined);
  });

  it('retries a missing template and an unexpected failure, and stalls a template source that cannot work', () => {
    const missing = finishedStatus(
      job({
        result: {
          kind: 'sourceError',
          reason: 'TemplateNotFound',
          message: 'ConfigMap default/t not found',
          terminal: false,
        },
      }),
      'now',
    );
    assert.equal(missing.outcome.kind, 'failed');
    assert.equal(missing.requeueAfterMs, 30_000);
    const unusable = finishedStatus(
      job({
        result: {
          kind: 'sourceError',
          reason: 'TemplateSourceUnavailable',
          message: 'no GitSource',
          terminal: true,
        },
      }),
      'now',
    );
    assert.equal(unusable.outcome.kind, 'stalled');
    const crashed = finishedStatus(job({ error: 'EACCES' }), 'now');
    assert.deepEqual(
      [crashed.outcome.kind, crashed.outcome.reason, crashed.requeueAfterMs],
      ['failed', 'RunFailed', 30_000],
    );
  });

  it('reports a run, a reused run and a dry run as Succeeded with their figures', () => {
    const artifacts = {
      location: '/a/runs/run_x',
      runJson: true,
      manifestJson: true,
      seriesIndex: true,
      seriesCount: 3,
    };
    const warnings = Array.from({ length: 25 }, (_, i) => ({ code: 'w', message: `${i}` }));
    const done = finishedStatus(
      job({
        result: report({
          runId: 'run_x',
          artifacts,
          warnings,
          grid: { bins: 4, binSize: 1, binUnit: 'hours' },
          evaluationMs: 3,
        }),
      }),
      '2026-01-01T00:00:01Z',
    );
    assert.deepEqual(done.fields, {
      artifacts,
      canReplay: true,
      durationMs: 12,
      evaluationMs: 3,
      completedAt: '2026-01-01T00:00:01Z',
      startedAt: '2026-01-01T00:00:00Z',
      warnings: warnings.slice(0, 20),
      warningCount: 25,
      plan: undefined,
      phase: 'Succeeded',
      runId: 'run_x',
      grid: { bins: 4, binSize: 1, binUnit: 'hours' },
      progress: 100,
    });
    assert.equal(done.outcome.reason, 'RunSucceeded');
    const reused = finishedStatus(
      job({ result: report({ outcome: 'reused', runId: 'run_x', artifacts }) }),
      'now',
    );
    assert.equal(reused.outcome.reason, 'RunReused');
    const planned = finishedStatus(
      job({
        result: report({
          outcome: 'planned',
          runId: 'run_y',
          plan: { nodes: 2, series: 5, bins: 9, reuse: false },
        }),
      }),
      'now',
    );
    assert.equal(planned.outcome.reason, 'DryRun');
    assert.match(planned.outcome.message, /would write run run_y \(2 nodes, 5 series, 9 bins\)/);
    assert.deepEqual(planned.fields.plan, { nodes: 2, series: 5, bins: 9, reuse: false });
  });
});
