// `simops worker`: runs the long jobs (simulations, chaos runs, browser flows, snapshots) the
// controller queues on Redis when it has REDIS_URL. Any number of workers may run, in pods or on any
// machine that reaches Redis, the API server and the artifact directory. SIGTERM stops taking jobs
// and waits for running ones.
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { WORKER_JOBS } from '../job-kinds.ts';
import { describeRedis } from '../jobs/redis.ts';
import { runWorker } from '../run-worker.ts';

export interface WorkerCommandOptions {
  kubeconfig?: string;
  redisUrl?: string;
  healthBind: string;
  cacheDir: string;
  artifactDir: string;
  concurrency: string;
  lockDuration?: string;
  stalledInterval?: string;
  progressInterval?: string;
  logLevel: string;
}

const ms = (v: string | undefined) => (v === undefined ? undefined : Number(v));

export const workerCommand = async (opts: WorkerCommandOptions): Promise<void> => {
  const redisUrl = opts.redisUrl ?? process.env.REDIS_URL;
  if (!redisUrl) {
    console.error('simops worker needs the job queue: set REDIS_URL (or --redis-url)');
    process.exitCode = 2;
    return;
  }
  const logger = pino({ level: opts.logLevel, base: { component: 'simops-worker' } });
  const kc = new KubeConfig();
  if (opts.kubeconfig) kc.loadFromFile(opts.kubeconfig);
  else kc.loadFromDefault();
  const [host, port] = opts.healthBind.split(/:(?=\d+$)/);
  const running = await runWorker({
    kubeConfig: kc,
    log: logger,
    redisUrl,
    cacheDir: opts.cacheDir,
    artifactDir: opts.artifactDir,
    health: { host: host || '127.0.0.1', port: Number(port ?? 8080) },
    concurrency: Number(opts.concurrency),
    lockDurationMs: ms(opts.lockDuration),
    stalledIntervalMs: ms(opts.stalledInterval),
    progressIntervalMs: ms(opts.progressInterval),
  });
  logger.info(
    {
      worker: running.name,
      health: running.healthUrl,
      redis: describeRedis(redisUrl),
      queues: WORKER_JOBS.map((k) => k.queue),
    },
    'worker running',
  );
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: no new jobs, waiting for the running ones');
    await running.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};
