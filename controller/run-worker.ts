// Runs a `simops worker`: one BullMQ worker per job queue (job-kinds.ts) on REDIS_URL, running the
// same work functions as the controller's in-process runner with the worker's own API client (for
// ConfigMaps and GitSource checkouts) and artifact directory, behind the same metrics and health
// server as the controller. stop() stops taking jobs and waits for the running ones.
import { hostname } from 'node:os';
import type { KubeConfig } from '@kubernetes/client-node';
import { WORKER_JOBS } from './job-kinds.ts';
import { checkRedisUrl, describeRedis } from './jobs/redis.ts';
import { type JobWorker, startJobWorker } from './jobs/worker.ts';
import { startHealthServer } from './runtime/health-server.ts';
import { KubeClient } from './runtime/kube-client.ts';
import type { Log } from './runtime/logger.ts';

export interface WorkerRunOptions {
  kubeConfig: KubeConfig;
  log: Log;
  redisUrl: string;
  /** Where GitSource repositories of path templates are checked out. */
  cacheDir: string;
  /** The artifact directory, shared with the controller (the same volume). */
  artifactDir: string;
  health: { host: string; port: number };
  /** Jobs per queue at once (default 1). */
  concurrency?: number;
  lockDurationMs?: number;
  stalledIntervalMs?: number;
  progressIntervalMs?: number;
  /** Default: host name and pid. */
  name?: string;
}

export interface RunningWorker {
  name: string;
  healthUrl: string;
  stop(): Promise<void>;
}

export const runWorker = async (opts: WorkerRunOptions): Promise<RunningWorker> => {
  checkRedisUrl(opts.redisUrl);
  const name = opts.name ?? `${hostname()}_${process.pid}`;
  const log = opts.log.child({ worker: name });
  const deps = {
    client: new KubeClient(opts.kubeConfig),
    cacheDir: opts.cacheDir,
    artifactDir: opts.artifactDir,
    log,
  };
  let draining = false;
  const health = await startHealthServer({
    host: opts.health.host,
    port: opts.health.port,
    ready: () => !draining && workers.every((w) => w.connected()),
    notReadyReason: () => (draining ? 'draining' : `waiting for Redis at ${describeRedis(opts.redisUrl)}`),
  });
  const workers: JobWorker[] = WORKER_JOBS.map((kind) =>
    startJobWorker({
      connection: { url: opts.redisUrl },
      queue: kind.queue,
      work: kind.work(deps),
      log,
      name,
      concurrency: opts.concurrency,
      lockDurationMs: opts.lockDurationMs,
      stalledIntervalMs: opts.stalledIntervalMs,
      progressIntervalMs: opts.progressIntervalMs,
    }),
  );
  return {
    name,
    healthUrl: health.url,
    stop: async () => {
      draining = true;
      await Promise.all(workers.map((w) => w.close()));
      await health.close();
    },
  };
};
