// Events expire, as kube-apiserver's `--event-ttl` (default 1 h) makes them: a long-running
// `simops up` records an Event per state change of every object, and without expiry they would
// accumulate in memory and on disk for ever. An Event is deleted once its last occurrence
// (lastTimestamp, eventTime or creation) is older than the TTL; a repeat refreshes it.
import type { ObjectService } from './object-service.ts';
import { findResource } from './resources.ts';
import type { Logger } from './server.ts';
import type { KubeObject } from './types.ts';

export const DEFAULT_EVENT_TTL_MS = 60 * 60 * 1000;
const EVENTS = findResource('', 'v1', 'events')!;

/** When an Event last happened, in ms since the epoch (NaN when it says nothing parsable). */
export const lastOccurrence = (e: KubeObject): number =>
  Date.parse(String(e.lastTimestamp ?? e.eventTime ?? e.metadata.creationTimestamp ?? ''));

export const startEventExpiry = (
  service: ObjectService,
  opts: { ttlMs?: number; log?: Logger } = {},
): { stop(): void } => {
  const ttlMs = opts.ttlMs ?? DEFAULT_EVENT_TTL_MS;
  const sweep = () => {
    const before = Date.now() - ttlMs;
    for (const e of service.store.list('/core/events/').items) {
      if (!(lastOccurrence(e) < before)) continue;
      try {
        service.delete(EVENTS, e.metadata.namespace ?? '', e.metadata.name!, {}, { dryRun: false });
      } catch (err) {
        // A finalizer or a failed write: the next sweep tries again.
        opts.log?.warn(
          {
            event: `${e.metadata.namespace}/${e.metadata.name}`,
            err: err instanceof Error ? err.message : err,
          },
          'could not expire an event',
        );
      }
    }
  };
  // A sweep per tenth of the TTL (at most a minute): an Event outlives its TTL by at most that.
  const timer = setInterval(sweep, Math.min(ttlMs / 10, 60_000));
  timer.unref();
  return { stop: () => clearInterval(timer) };
};
