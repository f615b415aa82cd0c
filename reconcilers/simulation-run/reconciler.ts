// SimulationRun: fetch → deletion (cancel the job, release the finalizer) → finalizer → reflect the
// job of this generation in status, submitting one when there is none and the generation is not
// settled. Evaluation runs in a job (jobs.ts), never in the reconcile; the job's updates enqueue
// the object, and each reconcile writes one status patch.
import type { KubeObject } from '../../apiserver/types.ts';
import { simopsKind } from '../../controller/runtime/kinds.ts';
import {
  type ReconcileContext,
  type Reconciler,
  type Request,
  requestOf,
} from '../../controller/runtime/reconciler.ts';
import { finalizerGate, nextStatus, patchStatus, timestamp } from '../../controller/runtime/status.ts';
import type { SimulationRunSpec } from '../../crds/simulation-run.ts';
import { SOURCE_NAME_LABEL, SOURCE_NAMESPACE_LABEL } from '../git-source/desired.ts';
import { type SimulationJobInput, type SimulationJobResult, simulationJob } from './job.ts';
import { inProcessJobs, type JobRunner } from './jobs.ts';
import { type Decision, finishedStatus, isSettled, progressStatus } from './status.ts';

export const SIMULATIONRUN = simopsKind('SimulationRun');
export const FINALIZER = 'simops.dev/simulationrun';

export interface SimulationRunOptions {
  /** Where the GitSource repositories of path templates are checked out. */
  cacheDir: string;
  /** Runs are written under `<artifactDir>/runs/<runId>/`. */
  artifactDir: string;
  /** Parallel evaluations (default 2). */
  concurrency?: number;
  /** Another runner (tests, workers); by default jobs run in this process. */
  jobs?: (work: ReturnType<typeof simulationJob>) => JobRunner<SimulationJobInput, SimulationJobResult>;
}

const keyOf = (r: Request) => `${r.namespace}/${r.name}`;

const jobInput = (o: KubeObject): SimulationJobInput => {
  const labels = o.metadata.labels ?? {};
  const source = labels[SOURCE_NAME_LABEL];
  return {
    namespace: o.metadata.namespace ?? 'default',
    name: o.metadata.name!,
    spec: o.spec as SimulationRunSpec,
    ...(source
      ? { source: { name: source, namespace: labels[SOURCE_NAMESPACE_LABEL] ?? o.metadata.namespace! } }
      : {}),
  };
};

export const simulationRunReconciler = (opts: SimulationRunOptions): Reconciler => {
  let runner: JobRunner<SimulationJobInput, SimulationJobResult> | undefined;
  const jobs = () => {
    if (!runner) throw new Error('the SimulationRun reconciler was not started');
    return runner;
  };

  const apply = async (ctx: ReconcileContext, o: KubeObject, d: Decision) => {
    await patchStatus(ctx.client, SIMULATIONRUN, o, nextStatus(o, d.fields, d.outcome));
    if (d.event) ctx.events.record(o, d.event.type, d.event.reason, d.event.message);
    return d.requeueAfterMs === undefined ? undefined : { requeueAfterMs: d.requeueAfterMs };
  };

  const cancel = async (ctx: ReconcileContext, o: KubeObject | undefined, key: string, why: string) => {
    const job = jobs().get(key);
    if (!job?.done) {
      // Without a job here, one an earlier controller queued (restart, new leader) may still run:
      // the queued runner finds it by the key.
      await jobs().cancel(key);
      if (job) {
        ctx.log.info({ runId: job.runId, reason: why }, 'run cancelled');
        if (o)
          ctx.events.record(o, 'Normal', 'RunCancelled', `${job.runId ?? 'the run'} was cancelled: ${why}`);
      }
    }
    jobs().forget(key);
  };

  return {
    kind: SIMULATIONRUN,
    concurrency: 2,
    start(enqueue, ctx) {
      const work = simulationJob({
        client: ctx.client,
        cacheDir: opts.cacheDir,
        artifactDir: opts.artifactDir,
        log: ctx.log,
      });
      runner = opts.jobs ? opts.jobs(work) : inProcessJobs(work, { concurrency: opts.concurrency ?? 2 });
      const off = runner.onUpdate((id) => enqueue(requestOf(id)));
      return async () => {
        off();
        await runner?.stop();
      };
    },
    async reconcile(req, ctx) {
      const key = keyOf(req);
      const o = await ctx.client.get(SIMULATIONRUN, req.namespace, req.name);
      if (!o) {
        await cancel(ctx, undefined, key, 'the object was deleted');
        return undefined;
      }
      const live = await finalizerGate(ctx.client, SIMULATIONRUN, o, FINALIZER, () =>
        cancel(ctx, o, key, 'the object is being deleted'),
      );
      if (!live) return undefined;
      const generation = o.metadata.generation ?? 0;
      let job = jobs().get(key);
      if (job && job.generation !== generation) {
        await cancel(ctx, o, key, `the spec changed (generation ${generation})`);
        job = undefined;
      }
      if (job?.done && job.cancelled) {
        jobs().forget(key); // stopped by a controller shutdown or a newer submit: run it again
        job = undefined;
      }
      if (!job) {
        if (isSettled(o)) return undefined;
        jobs().submit(key, generation, jobInput(o));
        ctx.log.info({ generation, templateId: (o.spec as SimulationRunSpec).templateId }, 'run submitted');
        return apply(ctx, o, progressStatus(jobs().get(key)!));
      }
      if (!job.done) return apply(ctx, o, progressStatus(job));
      const result = await apply(ctx, o, finishedStatus(job, timestamp()));
      jobs().forget(key);
      return result;
    },
  };
};
