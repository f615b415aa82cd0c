// A flow run as a job. Its input is plain data (the sandbox's URL, the flow's definition, where its
// artifacts go under the artifact directory), so the job runner can run it in this process or hand
// it to a `simops worker`, whose own Chromium runs it and whose artifact directory (the same volume)
// receives the screenshots. The session keeps seeing a FlowRunner: `jobFlowRunner` submits the job,
// passes its progress (the steps so far, the queue being unreachable) on, cancels it when the
// session's operation is aborted, and resolves with the outcome.
import { rm } from 'node:fs/promises';
import { basename } from 'node:path';
import { awaitJob, type JobContext, type JobRunner, type JobState } from '../simulation-run/jobs.ts';
import type { FlowT } from '../simulator/config.ts';
import { relativeToArtifacts, underArtifacts } from './artifact-path.ts';
import type { FlowOutcome, FlowRunner, StepOutcome } from './flow-runner.ts';

export interface FlowJobInput {
  /** The sandbox's endpoint; relative navigate URLs resolve against it. */
  baseUrl: string;
  flow: FlowT;
  /** Where the run's screenshots and result.json go, relative to the artifact directory. */
  outDir: string;
  stepTimeoutMs?: number;
}

/** The steps run so far. */
export interface FlowJobDetail {
  steps: StepOutcome[];
}

export type FlowJobs = JobRunner<FlowJobInput, FlowOutcome, FlowJobDetail>;

export interface FlowJobDeps {
  artifactDir: string;
  browser: FlowRunner;
}

export const flowJob =
  (deps: FlowJobDeps) =>
  async (input: FlowJobInput, ctx: JobContext<FlowJobDetail>): Promise<FlowOutcome> => {
    const outDir = underArtifacts(deps.artifactDir, input.outDir);
    // A job run again (its worker died) starts from an empty directory: one set of artifacts.
    await rm(outDir, { recursive: true, force: true });
    ctx.stage('evaluating');
    const total = Math.max(1, input.flow.steps.length);
    return deps.browser.run(input.flow, {
      baseUrl: input.baseUrl,
      outDir,
      signal: ctx.signal,
      stepTimeoutMs: input.stepTimeoutMs,
      onProgress: (p) => ctx.progress(p.steps.length / total, { steps: p.steps }),
    });
  };

/** What the session records for a job that ended without an outcome. */
const outcomeOf = (s: JobState<FlowOutcome, FlowJobDetail>, startedMs: number): FlowOutcome =>
  s.result ?? {
    result: 'Failed',
    message: s.cancelled ? 'the run was cancelled' : `the flow job failed: ${s.error ?? 'no result'}`,
    steps: s.detail?.steps ?? [],
    screenshots: [],
    durationMs: Math.round(performance.now() - startedMs),
  };

/** A FlowRunner whose runs are jobs on `jobs`, one per flow run of the sandbox `key`. */
export const jobFlowRunner = (jobs: FlowJobs, opts: { key: string; artifactDir: string }): FlowRunner => ({
  async run(flow, run) {
    // The run's directory is named by its run id: the job's id, unique to this run of this sandbox.
    const id = `${opts.key}/${basename(run.outDir)}`;
    const startedMs = performance.now();
    let last = '';
    const input: FlowJobInput = {
      baseUrl: run.baseUrl,
      flow,
      outDir: relativeToArtifacts(opts.artifactDir, run.outDir),
      ...(run.stepTimeoutMs !== undefined ? { stepTimeoutMs: run.stepTimeoutMs } : {}),
    };
    const end = await awaitJob(jobs, id, 1, input, {
      signal: run.signal,
      onState: (s) => {
        const seen = JSON.stringify([s.detail?.steps.length, s.queueUnavailable]);
        if (seen === last) return;
        last = seen;
        run.onProgress?.({ steps: s.detail?.steps ?? [], queueUnavailable: s.queueUnavailable });
      },
    });
    return outcomeOf(end, startedMs);
  },
});
