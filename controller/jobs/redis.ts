// Where the job queues live: a Redis URL (`REDIS_URL`, e.g. redis://:password@redis:6379/0 or
// rediss:// for TLS), the key prefix of SimOps' queues, and the names derived from them.
/** BullMQ keys are `<prefix>:<queue>:...`; SimOps' own keys `<prefix>-cancel:<queue>:...`. */
export const DEFAULT_PREFIX = 'simops';

export interface QueueConnection {
  url: string;
  prefix?: string;
}

/** The URL without its credentials, for logs and status messages. */
export const describeRedis = (url: string): string => {
  try {
    const u = new URL(url);
    return `${u.protocol}//${u.host}${u.pathname === '/' ? '' : u.pathname}`;
  } catch {
    return 'the Redis URL (unparsable)';
  }
};

/** Fails with a clear message at start rather than at the first job. */
export const checkRedisUrl = (url: string): void => {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new Error(`REDIS_URL is not a URL: expected redis://[user:password@]host:port[/db]`);
  }
  if (u.protocol !== 'redis:' && u.protocol !== 'rediss:')
    throw new Error(`REDIS_URL must start with redis:// or rediss://, not ${u.protocol}//`);
};

/** Reconnect forever, quickly at first and then every two seconds. */
const retryStrategy = (times: number) => Math.min(100 * 2 ** Math.min(times, 5), 2000);

export interface ConnectionSettings {
  retryStrategy: (times: number) => number;
  maxRetriesPerRequest: number | null;
  enableOfflineQueue?: boolean;
  connectTimeout?: number;
}

/** ioredis options. `blocking`: a worker's or an event listener's connection, whose commands wait
 * for a reconnection; otherwise commands fail at once while Redis is unreachable, so that callers
 * can report it. */
export const connectionSettings = (blocking: boolean): ConnectionSettings => ({
  retryStrategy,
  ...(blocking
    ? { maxRetriesPerRequest: null }
    : { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2000 }),
});

/** BullMQ's `connection` option: the URL beside the ioredis options. */
export const redisOptions = (
  c: QueueConnection,
  blocking: boolean,
): ConnectionSettings & { url: string } => ({
  url: c.url,
  ...connectionSettings(blocking),
});

export const prefixOf = (c: QueueConnection): string => c.prefix ?? DEFAULT_PREFIX;

/** A key that tells whichever worker runs (or later picks up) the job to stop it. */
export const cancelKey = (c: QueueConnection, queue: string, jobId: string): string =>
  `${prefixOf(c)}-cancel:${queue}:${jobId}`;

/** Cancellations are also published here, so that the worker running the job stops at once. */
export const cancelChannel = (c: QueueConnection, queue: string): string => `${prefixOf(c)}-cancel:${queue}`;

/** How long a cancellation is remembered for a job that may still be picked up (one hour). */
export const CANCEL_TTL_SECONDS = 3600;

/** The failure reason of a job stopped by a cancellation (never retried). */
export const CANCELLED = 'cancelled';
