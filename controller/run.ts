// Runs SimOps' controllers against a kubeconfig: manager, metrics/health server, webhook receiver.
// Shared by `simops up` (embedded) and `simops controller` (any cluster).
import { join } from 'node:path';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../apiserver/types.ts';
import { webhookToken } from '../reconcilers/git-source/credentials.ts';
import { GITSOURCE } from '../reconcilers/git-source/reconciler.ts';
import { createWebhookHandler } from './gitops/webhook.ts';
import { loadJobQueues } from './job-kinds.ts';
import { allReconcilers } from './reconcilers.ts';
import { startHealthServer } from './runtime/health-server.ts';
import type { Log } from './runtime/logger.ts';
import { type Manager, startManager } from './runtime/manager.ts';
import {
  gitFetchDuration,
  leaderGauge,
  reconcileDuration,
  reconcileErrors,
  workqueueDepth,
} from './runtime/metrics.ts';
import { inShard, type Sharding, shardingError, watchSelector } from './runtime/sharding.ts';
import { REQUESTED_AT } from './runtime/status.ts';

export interface RunOptions {
  kubeConfig: KubeConfig;
  log: Log;
  cacheDir: string;
  /** Artifacts (run outputs, traces, snapshots); default: a directory beside the git cache. */
  artifactDir?: string;
  /** The job queues (REDIS_URL): long work goes to `simops worker` processes; without, it runs here. */
  redisUrl?: string;
  /** Let Sandboxes run commands from git as local processes (`simops up`: on; a cluster: off unless enabled). */
  processRuntime?: boolean;
  health: { host: string; port: number };
  /** Reconcile one shard of the objects only (see runtime/sharding.ts); default: all objects. */
  sharding?: Sharding;
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
}

export interface Running {
  manager: Manager;
  healthUrl: string;
  stop(): Promise<void>;
}

/**
 * A webhook for a GitSource: queued here at once when this instance reconciles it; otherwise (a
 * standby replica, which runs no controllers, or another shard's GitSource) asked to reconcile
 * through its annotation, which the leader or that shard watches.
 */
const triggerSync = async (
  manager: Manager,
  ours: (o: KubeObject) => boolean,
  namespace: string,
  name: string,
): Promise<void> => {
  const local = manager.controller('GitSource');
  if (local && manager.labelSelector === undefined) return local.enqueue({ namespace, name });
  const source = await manager.client.get(GITSOURCE, namespace, name);
  if (!source) return;
  if (local && ours(source)) return local.enqueue({ namespace, name });
  await manager.client.mergePatch(GITSOURCE, namespace, name, {
    metadata: { annotations: { [REQUESTED_AT]: new Date().toISOString() } },
  });
};

export const runController = async (opts: RunOptions): Promise<Running> => {
  const invalid = shardingError(opts.sharding ?? {});
  if (invalid) throw new Error(invalid);
  const selector = watchSelector(opts.sharding ?? {});
  const ours = inShard(selector);
  let healthUrl = '';
  const set = allReconcilers({
    cacheDir: opts.cacheDir,
    artifactDir: opts.artifactDir ?? join(opts.cacheDir, '..', 'artifacts'),
    queues: opts.redisUrl ? await loadJobQueues({ url: opts.redisUrl }, opts.log) : undefined,
    httpBaseUrl: () => healthUrl,
    processRuntime: opts.processRuntime,
    onFetch: (seconds, result) => gitFetchDuration.observe({ result }, seconds),
  });
  // The HTTP server starts first, so that reconcilers advertising an endpoint (simulated machines)
  // know its URL from their first reconcile; webhooks that arrive before the manager are dropped
  // (the first sync follows anyway).
  let manager: Manager | undefined;
  const webhook = createWebhookHandler({
    lookupToken: async (namespace, name) => {
      if (!manager) return undefined;
      const client = manager.client;
      const source = await client.get(GITSOURCE, namespace, name);
      const secret = (source?.spec as { secretRef?: { name: string } } | undefined)?.secretRef?.name;
      return secret ? webhookToken(client, namespace, secret) : undefined;
    },
    trigger: (namespace, name) => {
      if (!manager) return;
      void triggerSync(manager, ours, namespace, name).catch((err: unknown) =>
        opts.log.warn({ err: String(err), namespace, name }, 'webhook trigger failed'),
      );
    },
    log: opts.log,
  });
  const health = await startHealthServer({
    host: opts.health.host,
    port: opts.health.port,
    // A standby replica is ready too: readiness gates rollouts, not leadership.
    ready: () => true,
    extraHandlers: [webhook, ...set.handlers],
  });
  healthUrl = health.url;
  try {
    manager = await startManager({
      kubeConfig: opts.kubeConfig,
      log: opts.log,
      reconcilers: set.reconcilers,
      leaderElection: opts.leaderElection,
      labelSelector: selector,
      metrics: {
        observe: (kind, seconds, result) => {
          reconcileDuration.observe({ kind, result }, seconds);
          if (result === 'error') reconcileErrors.inc({ kind });
        },
        queueDepth: (kind, depth) => workqueueDepth.set({ kind }, depth),
        leader: (isLeader) => leaderGauge.set(isLeader ? 1 : 0),
      },
    });
  } catch (err) {
    await health.close();
    throw err;
  }
  const started = manager;
  return {
    manager: started,
    healthUrl: health.url,
    stop: async () => {
      await started.stop();
      await health.close();
    },
  };
};
