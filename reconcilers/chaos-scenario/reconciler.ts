// ChaosScenario: fetch → deletion (stop the run, release the finalizer) → finalizer → the kill
// switch → reflect this generation's run in status, starting one when there is none and the
// generation (and reconcile request) has no verdict yet. Before a run starts: the spec is merged
// with its preset and checked (Stalled InvalidSpec), the target resolved — a Sandbox's
// status.endpoint (Ready=False TargetNotReady until it has one) or the URL — and held to loopback or
// the cluster unless allowExternal, and the schedule digest computed. The run itself is a job
// (job.ts) on the job runner SimulationRun uses; its updates enqueue the object, each reconcile
// writes one status patch and records the run's new notices as Events.
import type { KubeObject } from '../../apiserver/types.ts';
import { simopsKind } from '../../controller/runtime/kinds.ts';
import {
  type ReconcileContext,
  type Reconciler,
  type Request,
  requestOf,
} from '../../controller/runtime/reconciler.ts';
import {
  finalizerGate,
  nextStatus,
  patchStatus,
  requestedAt,
  timestamp,
} from '../../controller/runtime/status.ts';
import type { ChaosScenarioSpec, ChaosScenarioStatus } from '../../crds/chaos-scenario.ts';
import type { SandboxStatus } from '../../crds/sandbox.ts';
import { inProcessJobs, type JobRunner } from '../simulation-run/jobs.ts';
import {
  type ChaosJobDetail,
  type ChaosJobInput,
  type ChaosJobResult,
  chaosJob,
  hookSecretFrom,
} from './job.ts';
import { resolveScenario } from './resolve.ts';
import { scheduleDigest } from './schedule.ts';
import {
  type Decision,
  finishedStatus,
  invalidSpec,
  isSettled,
  progressStatus,
  type RunIdentity,
  runIdOf,
  runInStatus,
  stoppedIdle,
  stoppedStatus,
  targetNotAllowed,
  targetNotReady,
} from './status.ts';
import { checkTargetUrl, DEFAULT_HOOK_PATH, DEFAULT_METRICS_PATH, resolveEndpoint } from './target.ts';

export const CHAOSSCENARIO = simopsKind('ChaosScenario');
export const SANDBOX = simopsKind('Sandbox');
export const FINALIZER = 'simops.dev/chaosscenario';

type Runner = JobRunner<ChaosJobInput, ChaosJobResult, ChaosJobDetail>;

export interface ChaosScenarioOptions {
  /** Runs are written under `<artifactDir>/chaos/<namespace>/<name>/<runId>/`. */
  artifactDir: string;
  /** Runs at once (default 4); more wait as Pending. */
  concurrency?: number;
  /** Another runner (tests, workers); by default runs go in this process. */
  jobs?: (work: ReturnType<typeof chaosJob>) => Runner;
}

/** What a run was submitted for: a new generation or reconcile request replaces it. */
interface Submitted extends RunIdentity {
  generation: number;
  requestedAt: string | undefined;
  noticesRecorded: number;
}

const keyOf = (r: Request) => `${r.namespace}/${r.name}`;

type TargetResolution = { ok: true; target: ChaosJobInput['target'] } | { ok: false; decision: Decision };

const resolveTarget = async (
  ctx: ReconcileContext,
  o: KubeObject,
  spec: ChaosScenarioSpec,
): Promise<TargetResolution> => {
  const t = spec.target;
  const allowExternal = t.allowExternal ?? false;
  let base = t.url;
  if (t.sandboxRef) {
    const sbx = await ctx.client.get(SANDBOX, o.metadata.namespace ?? 'default', t.sandboxRef.name);
    const endpoint = (sbx?.status as SandboxStatus | undefined)?.endpoint;
    if (!endpoint)
      return {
        ok: false,
        decision: targetNotReady(
          sbx
            ? `Sandbox ${t.sandboxRef.name} has no endpoint yet (phase ${(sbx.status as SandboxStatus | undefined)?.phase ?? 'unknown'})`
            : `Sandbox ${t.sandboxRef.name} not found`,
        ),
      };
    base = endpoint;
  }
  const checked = checkTargetUrl(base ?? '', allowExternal);
  if (!checked.ok) return { ok: false, decision: targetNotAllowed(`target: ${checked.reason}`) };
  const hook = resolveEndpoint(t.chaosHookUrl, DEFAULT_HOOK_PATH, checked.url, allowExternal);
  if (!hook.ok) return { ok: false, decision: targetNotAllowed(`target.chaosHookUrl: ${hook.reason}`) };
  const metrics = resolveEndpoint(t.metricsUrl, DEFAULT_METRICS_PATH, checked.url, allowExternal);
  if (!metrics.ok) return { ok: false, decision: targetNotAllowed(`target.metricsUrl: ${metrics.reason}`) };
  return { ok: true, target: { url: checked.url, hookUrl: hook.url, metricsUrl: metrics.url } };
};

export const chaosScenarioReconciler = (opts: ChaosScenarioOptions): Reconciler => {
  let runner: Runner | undefined;
  const submitted = new Map<string, Submitted>();
  const jobs = () => {
    if (!runner) throw new Error('the ChaosScenario reconciler was not started');
    return runner;
  };

  const apply = async (ctx: ReconcileContext, o: KubeObject, d: Decision) => {
    await patchStatus(ctx.client, CHAOSSCENARIO, o, nextStatus(o, d.fields, d.outcome));
    if (d.event) ctx.events.record(o, d.event.type, d.event.reason, d.event.message);
    return d.requeueAfterMs === undefined ? undefined : { requeueAfterMs: d.requeueAfterMs };
  };

  /** Records the run's notices not recorded yet as Events. */
  const recordNotices = (ctx: ReconcileContext, o: KubeObject, key: string) => {
    const s = submitted.get(key);
    const notices = jobs().get(key)?.detail?.notices ?? [];
    if (!s) return;
    for (const n of notices.slice(s.noticesRecorded)) ctx.events.record(o, n.type, n.reason, n.message);
    s.noticesRecorded = Math.max(s.noticesRecorded, notices.length);
  };

  /** Stops the run (the kill switch): resolves once it has stopped. A run this controller did not
   * submit (an earlier one did, before a restart or a change of leader) is stopped too: the runner
   * finds its job, and status names the run. */
  const stop = async (ctx: ReconcileContext, o: KubeObject | undefined, key: string, why: string) => {
    const before = jobs().get(key);
    const run = submitted.get(key) ?? (o && runInStatus((o.status ?? {}) as ChaosScenarioStatus));
    let d: Decision | undefined;
    if (!before?.done) {
      await jobs().cancel(key);
      const job = jobs().get(key);
      if (job?.cancelled) {
        ctx.log.info({ runId: run?.runId, reason: why }, 'chaos run stopped');
        if (o && run) {
          recordNotices(ctx, o, key);
          d = stoppedStatus(job, run, why, timestamp());
        }
      }
    }
    jobs().forget(key);
    submitted.delete(key);
    return d;
  };

  const submit = async (ctx: ReconcileContext, o: KubeObject, key: string): Promise<Decision> => {
    const spec = o.spec as ChaosScenarioSpec;
    const resolved = resolveScenario(spec);
    if (!resolved.ok) return invalidSpec(resolved.errors);
    const target = await resolveTarget(ctx, o, spec);
    if (!target.ok) return target.decision;
    const digest = scheduleDigest(resolved.scenario);
    const name = o.metadata.name!;
    const runId = runIdOf(o, digest.digest);
    const run: Submitted = {
      runId,
      seed: resolved.scenario.seed,
      scheduleDigest: digest.digest,
      target: target.target.url,
      generation: o.metadata.generation ?? 0,
      requestedAt: requestedAt(o),
      noticesRecorded: 0,
    };
    submitted.set(key, run);
    jobs().submit(key, run.generation, {
      namespace: o.metadata.namespace ?? 'default',
      name,
      spec,
      runId,
      scheduleDigest: digest.digest,
      target: target.target,
    });
    ctx.log.info(
      { runId, seed: run.seed, digest: digest.digest, arrivals: digest.arrivals, target: run.target },
      'chaos run submitted',
    );
    ctx.events.record(
      o,
      'Normal',
      'Submitted',
      `run ${runId}: seed ${run.seed}, ${digest.arrivals} scheduled arrivals (schedule ${digest.digest.slice(0, 19)}…) against ${run.target}`,
    );
    return progressStatus(jobs().get(key)!, run);
  };

  return {
    kind: CHAOSSCENARIO,
    concurrency: 4,
    start(enqueue, ctx) {
      const work = chaosJob({ artifactDir: opts.artifactDir, hookSecret: hookSecretFrom(ctx.client) });
      runner = opts.jobs
        ? opts.jobs(work)
        : inProcessJobs(work, { concurrency: opts.concurrency ?? 4, progressIntervalMs: 400 });
      const off = runner.onUpdate((id) => enqueue(requestOf(id)));
      return async () => {
        off();
        await runner?.stop();
      };
    },
    async reconcile(req, ctx) {
      const key = keyOf(req);
      const o = await ctx.client.get(CHAOSSCENARIO, req.namespace, req.name);
      if (!o) {
        await stop(ctx, undefined, key, 'the object was deleted');
        return undefined;
      }
      const live = await finalizerGate(ctx.client, CHAOSSCENARIO, o, FINALIZER, async () => {
        await stop(ctx, o, key, 'the object is being deleted');
      });
      if (!live) return undefined;
      const spec = o.spec as ChaosScenarioSpec;
      const generation = o.metadata.generation ?? 0;
      let job = jobs().get(key);
      let run = submitted.get(key);

      // The kill switch, a new generation or a new reconcile request stop the run in progress.
      if (job && !job.done && run) {
        const killed = spec.state === 'Stopped';
        const changed = run.generation !== generation || run.requestedAt !== requestedAt(o);
        if (killed || changed) {
          const why = killed ? 'spec.state is Stopped' : `the spec changed (generation ${generation})`;
          const d = await stop(ctx, o, key, why);
          if (killed && d) return apply(ctx, o, d);
          if (d) ctx.events.record(o, 'Normal', 'Stopped', d.outcome.message);
          job = undefined;
          run = undefined;
        }
      }
      if (job?.done && job.cancelled) {
        // Stopped by a controller shutdown or a newer submit: start again.
        jobs().forget(key);
        submitted.delete(key);
        job = undefined;
        run = undefined;
      }
      if (spec.state === 'Stopped') {
        if (job?.done) {
          jobs().forget(key);
          submitted.delete(key);
        }
        const status = (o.status ?? {}) as ChaosScenarioStatus & { observedGeneration?: number };
        if (status.phase === 'Stopped' && status.observedGeneration === generation) return undefined;
        if (!job) {
          // A run an earlier controller started may still go.
          const d = await stop(ctx, o, key, 'spec.state is Stopped');
          if (d) return apply(ctx, o, d);
        }
        return apply(ctx, o, stoppedIdle());
      }
      if (!job || !run) {
        if (isSettled(o)) return undefined;
        return apply(ctx, o, await submit(ctx, o, key));
      }
      recordNotices(ctx, o, key);
      if (!job.done) return apply(ctx, o, progressStatus(job, run));
      const result = await apply(ctx, o, finishedStatus(job, run, timestamp()));
      jobs().forget(key);
      submitted.delete(key);
      return result;
    },
  };
};
