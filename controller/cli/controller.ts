// `simops controller`: SimOps against a real cluster (kubeconfig or in-cluster), with leader
// election so several replicas can run and one acts.
import { hostname } from 'node:os';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { runController } from '../run.ts';
import { leaseName, shardingError } from '../runtime/sharding.ts';

export interface ControllerOptions {
  kubeconfig?: string;
  namespace: string;
  leaderElect: boolean;
  healthBind: string;
  cacheDir: string;
  artifactDir: string;
  logLevel: string;
  enableProcessRuntime?: boolean;
  /** Reconcile only objects labelled simops.dev/shard=<shard>, leading on Lease simops-controller-<shard>. */
  shard?: string;
  /** Reconcile only objects this label selector picks (Flux's --watch-label-selector). */
  watchLabelSelector?: string;
}

/** The process runtime in a cluster: the flag, or SIMOPS_PROCESS_RUNTIME=true (the Helm chart sets it). */
export const processRuntimeEnabled = (flag: boolean | undefined, env = process.env.SIMOPS_PROCESS_RUNTIME) =>
  flag === true || env === 'true' || env === '1';

export const controllerCommand = async (opts: ControllerOptions): Promise<void> => {
  const sharding = { shard: opts.shard, watchLabelSelector: opts.watchLabelSelector };
  const invalid = shardingError(sharding);
  if (invalid) {
    console.error(invalid);
    process.exitCode = 2;
    return;
  }
  const logger = pino({
    level: opts.logLevel,
    base: { component: 'simops-controller', ...(opts.shard ? { shard: opts.shard } : {}) },
  });
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const [host, port] = opts.healthBind.split(/:(?=\d+$)/);
  const identity = `${hostname()}_${process.pid}`;
  const running = await runController({
    kubeConfig: kc,
    log: logger,
    cacheDir: opts.cacheDir,
    artifactDir: opts.artifactDir,
    redisUrl: process.env.REDIS_URL || undefined,
    processRuntime: processRuntimeEnabled(opts.enableProcessRuntime),
    health: { host: host || '127.0.0.1', port: Number(port ?? 8080) },
    sharding,
    leaderElection: opts.leaderElect
      ? { namespace: opts.namespace, name: leaseName(opts.shard), identity }
      : undefined,
  });
  logger.info(
    { identity, health: running.healthUrl, watchLabelSelector: running.manager.labelSelector },
    'controller running',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining in-flight work, releasing the lease');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};
