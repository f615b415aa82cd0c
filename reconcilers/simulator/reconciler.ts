// Simulator: resolve the config in its repository → the lifecycle phase from the artifacts and the
// reviews committed to git → tags → one status patch, with Events for what changed. Artifacts are
// recorded by the Sandbox reconciler; a change of them, of the spec, or of the applying GitSource's
// revision brings the Simulator back here.
import type { KubeObject } from '../../apiserver/types.ts';
import type { Outcome } from '../../controller/runtime/conditions.ts';
import { startInformer } from '../../controller/runtime/informer.ts';
import type { Reconciler } from '../../controller/runtime/reconciler.ts';
import { nextStatus, patchStatus } from '../../controller/runtime/status.ts';
import type { Condition } from '../../crds/common.ts';
import type { SimulatorSpec, SimulatorStatus } from '../../crds/simulator.ts';
import { GITSOURCE } from '../git-source/reconciler.ts';
import { SIMULATOR } from './artifacts.ts';
import { type ArtifactT, decideLifecycle, lifecycleEvents } from './lifecycle.ts';
import { loadConfig, SourceUnavailableError } from './load-config.ts';
import { sourceOf } from './repository.ts';

export { SIMULATOR };

export interface SimulatorOptions {
  /** Where the GitSource repositories are checked out. */
  cacheDir: string;
}

const RETRY_MS = 30_000;

const readyMessage = (o: KubeObject) =>
  ((o.status as SimulatorStatus | undefined)?.conditions as Condition[] | undefined)?.find(
    (c) => c.type === 'Ready',
  )?.message;

export const simulatorReconciler = (opts: SimulatorOptions): Reconciler => ({
  kind: SIMULATOR,
  concurrency: 2,
  // Sandboxes write status.artifacts; the phase follows them.
  watchStatus: true,
  start(enqueue, ctx) {
    // A new revision of a GitSource can change a flows or compose file without changing the
    // Simulator object: look again at the simulators it applied.
    const revisions = new Map<string, string | undefined>();
    const informer = startInformer(
      ctx.client.kubeConfig,
      GITSOURCE,
      (_type, gs) => {
        const key = `${gs.metadata.namespace}/${gs.metadata.name}`;
        const revision = (gs.status as { lastAppliedRevision?: string } | undefined)?.lastAppliedRevision;
        if (revisions.get(key) === revision) return;
        revisions.set(key, revision);
        for (const sim of ctx.cache.list()) {
          const s = sourceOf(sim);
          if (s && s.namespace === gs.metadata.namespace && s.name === gs.metadata.name)
            enqueue({ namespace: sim.metadata.namespace ?? '', name: sim.metadata.name ?? '' });
        }
      },
      ctx.log,
    );
    void informer.start().catch((err: unknown) => ctx.log.warn({ err: String(err) }, 'GitSource informer'));
    return () => informer.stop();
  },
  async reconcile(req, ctx) {
    const o = await ctx.client.get(SIMULATOR, req.namespace, req.name);
    if (!o || o.metadata.deletionTimestamp) return undefined;
    const spec = o.spec as SimulatorSpec;
    const old = (o.status ?? {}) as SimulatorStatus;
    const finish = async (fields: Partial<SimulatorStatus>, outcome: Outcome) => {
      await patchStatus(ctx.client, SIMULATOR, o, nextStatus(o, fields, outcome));
    };

    // 1. The config and the files it names.
    let loaded: Awaited<ReturnType<typeof loadConfig>>;
    try {
      loaded = await loadConfig(ctx.client, o, opts.cacheDir, ctx.signal);
    } catch (err) {
      if (!(err instanceof SourceUnavailableError)) throw err;
      if (readyMessage(o) !== err.message) ctx.events.record(o, 'Warning', err.reason, err.message);
      await finish({}, { kind: 'failed', reason: err.reason, message: err.message });
      return { requeueAfterMs: RETRY_MS };
    }
    if (!loaded.ok) {
      const message = loaded.errors.join('; ');
      if (readyMessage(o) !== message) ctx.events.record(o, 'Warning', 'InvalidConfig', message);
      await finish(
        { phase: 'Setup', configHash: undefined },
        { kind: 'stalled', reason: 'InvalidConfig', message },
      );
      return undefined;
    }
    const config = loaded.config;

    // 2. The lifecycle: what the artifacts and the reviews say.
    const artifacts = (old.artifacts ?? []) as ArtifactT[];
    const life = decideLifecycle({ reviews: spec.reviews, artifacts, tags: old.tags ?? {} });
    const flows = [...new Set(Object.values(config.datasets).flatMap((d) => d.flows.map((f) => f.name)))];
    const fields: Partial<SimulatorStatus> & Record<string, unknown> = {
      phase: life.phase,
      configHash: config.configHash,
      tags: Object.keys(life.tags).length ? life.tags : undefined,
      reviewComment: life.reviewComment,
      flows,
      revision: loaded.revision,
    };

    // 3. Events for what changed, then one status patch.
    const changed = readyMessage(o) !== life.outcome.message;
    for (const e of [...(changed ? life.events : []), ...lifecycleEvents(old, life)])
      ctx.events.record(o, e.type, e.reason, e.message);
    if (old.configHash !== undefined && old.configHash !== config.configHash)
      ctx.events.record(o, 'Normal', 'ConfigChanged', `config ${old.configHash} → ${config.configHash}`);
    await finish(fields, life.outcome);
    ctx.log.debug({ phase: life.phase, reason: life.outcome.reason }, 'reconciled');
    return undefined;
  },
});
