// A run whose job queue (Redis) is unreachable: Ready=False, reason QueueUnavailable, with the
// fields of the job's stage (so that a stale Succeeded phase never makes the generation look settled).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimulationJobResult } from './job.ts';
import type { JobState } from './jobs.ts';
import { progressStatus } from './status.ts';

const job = (patch: Partial<JobState<SimulationJobResult>>): JobState<SimulationJobResult> => ({
  id: 'default/r',
  generation: 3,
  stage: 'queued',
  progress: 0,
  done: false,
  cancelled: false,
  ...patch,
});

describe('SimulationRun status when the job queue is unavailable', () => {
  it('is not Ready, not stalled, and keeps the stage fields', () => {
    const why = 'the job queue at redis://redis:6379 is unreachable (connect ECONNREFUSED); the job goes on';
    const queued = progressStatus(job({ queueUnavailable: why }));
    assert.deepEqual(queued.outcome, { kind: 'failed', reason: 'QueueUnavailable', message: `run: ${why}` });
    assert.equal(queued.fields.phase, 'Pending');
    assert.equal(queued.requeueAfterMs, undefined, 'the runner reports when the queue is back');

    const running = progressStatus(
      job({ stage: 'evaluating', progress: 0.4, runId: 'run_t_1', queueUnavailable: why }),
    );
    assert.equal(running.outcome.reason, 'QueueUnavailable');
    assert.equal(running.outcome.message, `run_t_1: ${why}`);
    assert.deepEqual(
      [running.fields.phase, running.fields.progress, running.fields.runId],
      ['Running', 40, 'run_t_1'],
    );

    assert.equal(
      progressStatus(job({ stage: 'evaluating', runId: 'run_t_1' })).outcome.reason,
      'Progressing',
    );
  });
});
