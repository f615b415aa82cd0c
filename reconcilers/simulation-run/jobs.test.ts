import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { inProcessJobs, type JobContext } from './jobs.ts';

const gate = () => {
  let open = () => {};
  const opened = new Promise<void>((r) => {
    open = r;
  });
  return { open, opened };
};

/** Work that reports a stage and progress, then waits for its gate or its abort. */
const work = (gates: Map<string, ReturnType<typeof gate>>) => async (input: string, ctx: JobContext) => {
  ctx.stage('evaluating', `run_${input}`);
  ctx.progress(0.5);
  const g = gates.get(input)!;
  await Promise.race([
    g.opened,
    new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
  ]);
  return `done ${input}`;
};

describe('inProcessJobs', () => {
  it('runs a job, reports its stage, progress and result, and notifies', async () => {
    const gates = new Map([['a', gate()]]);
    const jobs = inProcessJobs(work(gates), { progressIntervalMs: 0 });
    const updates: string[] = [];
    jobs.onUpdate((id) => updates.push(`${id}:${jobs.get(id)!.stage}`));
    jobs.submit('ns/a', 3, 'a');
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(
      { ...jobs.get('ns/a'), startedAt: undefined },
      {
        id: 'ns/a',
        generation: 3,
        stage: 'evaluating',
        progress: 0.5,
        runId: 'run_a',
        done: false,
        cancelled: false,
        startedAt: undefined,
      },
    );
    gates.get('a')!.open();
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(jobs.get('ns/a')!.result, 'done a');
    assert.equal(jobs.get('ns/a')!.done, true);
    assert.deepEqual(updates, ['ns/a:evaluating', 'ns/a:evaluating', 'ns/a:finished']);
    jobs.forget('ns/a');
    assert.equal(jobs.get('ns/a'), undefined);
  });

  it('queues beyond its concurrency, cancels running and queued jobs, and replaces a job on resubmit', async () => {
    const gates = new Map([
      ['a', gate()],
      ['b', gate()],
      ['c', gate()],
    ]);
    const jobs = inProcessJobs(work(gates), { concurrency: 1 });
    jobs.submit('a', 1, 'a');
    jobs.submit('b', 1, 'b');
    await new Promise((r) => setImmediate(r));
    assert.equal(jobs.get('a')!.stage, 'evaluating');
    assert.equal(jobs.get('b')!.stage, 'queued');
    await jobs.cancel('b');
    assert.deepEqual([jobs.get('b')!.done, jobs.get('b')!.cancelled], [true, true]);
    jobs.submit('a', 2, 'c'); // a new generation: the running job of generation 1 is cancelled
    await new Promise((r) => setTimeout(r, 10));
    assert.equal(jobs.get('a')!.generation, 2);
    assert.equal(jobs.get('a')!.runId, 'run_c');
    await jobs.cancel('a');
    assert.deepEqual(
      [jobs.get('a')!.done, jobs.get('a')!.cancelled, jobs.get('a')!.error],
      [true, true, undefined],
    );
    await jobs.stop();
  });

  it('keeps the error of work that throws', async () => {
    const jobs = inProcessJobs(async () => {
      throw new Error('disk full');
    });
    jobs.submit('x', 1, 'x');
    await new Promise((r) => setTimeout(r, 5));
    assert.deepEqual(
      [jobs.get('x')!.done, jobs.get('x')!.error, jobs.get('x')!.cancelled],
      [true, 'disk full', false],
    );
  });
});
