// GitSource: fetch → build (validated, atomic) → apply what changed → prune → one status patch.
import type { KubeObject } from '../../apiserver/types.ts';
import { buildManifests } from '../../controller/gitops/build.ts';
import { FetchError, fetchSource } from '../../controller/gitops/fetch.ts';
import { watchWorktree } from '../../controller/gitops/worktree-watch.ts';
import { WriteBackError } from '../../controller/gitops/write-back.ts';
import type { Outcome } from '../../controller/runtime/conditions.ts';
import { parseDuration, withJitter } from '../../controller/runtime/duration.ts';
import { kindOf, simopsKind } from '../../controller/runtime/kinds.ts';
import type { Reconciler, Request } from '../../controller/runtime/reconciler.ts';
import {
  hasFinalizer,
  nextStatus,
  patchStatus,
  setFinalizer,
  timestamp,
} from '../../controller/runtime/status.ts';
import type { GitSourceSpec, GitSourceStatus } from '../../crds/git-source.ts';
import { type GitCredentials, gitCredentials, MissingSecretError } from './credentials.ts';
import { labelled, ownedBy, pruneDisabled, shardOf } from './desired.ts';
import { type InventoryEntry, parseInventoryId } from './inventory.ts';
import { buildFailure, changedAnything, notableResults, summary, syncOutcome } from './report.ts';
import { reportBack } from './report-back.ts';
import { sync } from './sync.ts';

export const GITSOURCE = simopsKind('GitSource');
export const FINALIZER = 'simops.dev/gitsource';

export interface GitSourceOptions {
  /** Where clones are kept. */
  cacheDir: string;
  /** Watch local working trees for edits (default true). */
  watchWorktrees?: boolean;
  /** Observed by the git fetch duration metric. */
  onFetch?: (seconds: number, result: 'success' | 'error') => void;
  fetchTimeoutMs?: number;
}

/** A local path (not a URL): a working tree, watched for edits. */
const isWorktree = (url: string) => !/^[a-z][a-z0-9+.-]*:\/\//i.test(url) && !/^[^/]+@[^/]+:/.test(url);

export const gitSourceReconciler = (opts: GitSourceOptions): Reconciler => {
  const watchers = new Map<string, { dir: string; close: () => Promise<void> }>();
  let enqueue: ((r: Request) => void) | undefined;

  const stopWatching = async (key: string) => {
    const w = watchers.get(key);
    watchers.delete(key);
    await w?.close();
  };
  const ensureWatching = (req: Request, dir: string) => {
    const key = `${req.namespace}/${req.name}`;
    if (opts.watchWorktrees === false || !enqueue || watchers.get(key)?.dir === dir) return;
    void stopWatching(key);
    const notify = enqueue;
    const w = watchWorktree(dir, () => notify(req));
    watchers.set(key, { dir, close: () => w.close() });
  };

  return {
    kind: GITSOURCE,
    concurrency: 2,
    start(queue) {
      enqueue = queue;
      return async () => {
        await Promise.all([...watchers.keys()].map(stopWatching));
      };
    },
    async reconcile(req, ctx) {
      const o = await ctx.client.get(GITSOURCE, req.namespace, req.name);
      const key = `${req.namespace}/${req.name}`;
      if (!o) {
        await stopWatching(key);
        return undefined;
      }
      const spec = o.spec as GitSourceSpec;
      const status = (o.status ?? {}) as GitSourceStatus;
      const source = { namespace: req.namespace, name: req.name };

      if (o.metadata.deletionTimestamp) {
        await stopWatching(key);
        if (hasFinalizer(o, FINALIZER)) {
          if (spec.prune) await pruneAll(ctx.client, source, status.inventory ?? []);
          await setFinalizer(ctx.client, GITSOURCE, o, FINALIZER, false);
        }
        return undefined;
      }
      if (spec.prune !== false && !hasFinalizer(o, FINALIZER)) {
        await setFinalizer(ctx.client, GITSOURCE, o, FINALIZER, true);
        return undefined; // the finalizer change triggers the next reconcile
      }
      if (spec.suspend) {
        ctx.log.debug({}, 'suspended');
        return undefined;
      }
      const interval = parseDuration(spec.interval ?? '1m');
      const finish = async (fields: Partial<GitSourceStatus>, outcome: Outcome) => {
        await patchStatus(ctx.client, GITSOURCE, o, nextStatus(o, fields, outcome));
        return { requeueAfterMs: withJitter(interval) };
      };

      // 1. Fetch.
      let fetched: { revision: string; dir: string };
      let credentials: GitCredentials | undefined;
      const started = performance.now();
      try {
        credentials = spec.secretRef
          ? await gitCredentials(ctx.client, req.namespace, spec.secretRef.name)
          : undefined;
        fetched = await fetchSource({
          url: spec.url,
          ref: spec.ref,
          timeoutMs: opts.fetchTimeoutMs ?? parseDuration(spec.timeout ?? '60s'),
          credentials,
          cacheDir: opts.cacheDir,
          signal: ctx.signal,
        });
        opts.onFetch?.((performance.now() - started) / 1000, 'success');
      } catch (err) {
        opts.onFetch?.((performance.now() - started) / 1000, 'error');
        if (!(err instanceof FetchError) && !(err instanceof MissingSecretError)) throw err;
        const reason = err instanceof FetchError ? err.reason : 'SecretNotFound';
        ctx.events.record(o, 'Warning', reason, err.message);
        return finish({}, { kind: 'failed', reason, message: err.message });
      }
      if (isWorktree(spec.url)) ensureWatching(req, fetched.dir);
      const revision = fetched.revision;
      const artifact =
        status.artifact?.revision === revision ? status.artifact : { revision, lastUpdateTime: timestamp() };

      // 2. Build: every document valid, or nothing is applied.
      const built = buildManifests({
        dir: fetched.dir,
        path: spec.path ?? './',
        environment: spec.environment ?? 'simulation',
        ignore: spec.ignore,
        defaultNamespace: req.namespace,
      });
      if (built.errors.length) {
        const outcome = buildFailure(revision, built.errors);
        if (status.lastAttemptedRevision !== revision)
          ctx.events.record(o, 'Warning', outcome.reason, outcome.message);
        return finish({ artifact, lastAttemptedRevision: revision }, outcome);
      }

      // 3. Apply and prune.
      const desired = built.objects.map((b) => labelled(b.object, { ...source, shard: shardOf(o) }));
      const result = await sync(ctx.client, source, desired, status.inventory ?? [], {
        prune: spec.prune !== false,
        caches: ctx.caches,
      });
      const outcome = syncOutcome(revision, result);
      if (changedAnything(result.results) || status.lastAttemptedRevision !== revision) {
        ctx.events.record(
          o,
          result.ok ? 'Normal' : 'Warning',
          result.ok ? 'ReconciliationSucceeded' : 'ApplyFailed',
          `${revision}: ${summary(result.results)}`,
        );
      }
      ctx.log.info(
        { revision, generation: o.metadata.generation, result: summary(result.results) },
        'synced',
      );
      if (result.ok && spec.writeBack) {
        try {
          const wrote = await reportBack({
            client: ctx.client,
            spec,
            source,
            revision,
            inventory: result.inventory,
            credentials,
            cacheDir: opts.cacheDir,
            timeoutMs: parseDuration(spec.timeout ?? '60s'),
            signal: ctx.signal,
          });
          if (wrote.committed) {
            ctx.events.record(
              o,
              'Normal',
              'WroteBack',
              `status report ${wrote.commit} on ${spec.writeBack.branch}`,
            );
          }
        } catch (err) {
          if (!(err instanceof WriteBackError)) throw err;
          ctx.events.record(o, 'Warning', 'WriteBackFailed', err.message);
        }
      }
      return finish(
        {
          artifact,
          lastAttemptedRevision: revision,
          ...(result.ok ? { lastAppliedRevision: revision } : {}),
          inventory: result.inventory,
          results: notableResults(result.results),
        },
        outcome,
      );
    },
  };
};

/** Deleting a GitSource with prune deletes what it applied (only objects still labelled as ours). */
const pruneAll = async (
  client: Parameters<typeof sync>[0],
  source: { namespace: string; name: string },
  inventory: InventoryEntry[],
) => {
  for (const e of inventory) {
    const { namespace, name, group, kind } = parseInventoryId(e.id);
    const k = kindOf(group ? `${group}/${e.v}` : e.v, kind);
    if (!k) continue;
    const live: KubeObject | undefined = await client.get(k, namespace, name);
    if (live && ownedBy(live, source) && !pruneDisabled(live)) await client.delete(k, namespace, name);
  }
};
