// Watches the catalog ConfigMaps (by name, in every namespace) so that machines are resolved again
// when their catalog changes. A watch that ends is resumed from the last resourceVersion it saw
// (bookmarks keep it fresh), so nothing is missed and nothing is replayed; only when that is not
// possible (first start, 410 Gone) does a restart report a change everywhere (onChange(undefined)),
// since a deletion in the gap would not be replayed.
import { type KubeConfig, Watch } from '@kubernetes/client-node';
import type { Log } from '../../controller/runtime/logger.ts';
import { backoffDelay } from '../../controller/runtime/work-queue.ts';
import { CATALOG_CONFIGMAP } from './catalog-configmap.ts';

export const watchCatalogs = (
  kc: KubeConfig,
  onChange: (namespace: string | undefined) => void,
  log: Log,
): { stop(): void } => {
  const watch = new Watch(kc);
  let stopped = false;
  let failures = 0;
  let started = false;
  let abort: AbortController | undefined;
  let timer: NodeJS.Timeout | undefined;
  let generation = 0;
  /** The last resourceVersion seen (events and bookmarks): where a restarted watch resumes. */
  let lastRv: string | undefined;

  const restart = (err: unknown) => {
    generation++;
    abort = undefined;
    if (stopped) return;
    const delay = err ? backoffDelay(failures++, { baseMs: 250, maxMs: 30_000 }) : 100;
    if (err)
      log.warn(
        { err: err instanceof Error ? err.message : String(err), retryInMs: delay },
        'catalog watch failed',
      );
    timer = setTimeout(start, delay);
    timer.unref();
  };

  const start = () => {
    if (stopped) return;
    if (started && lastRv === undefined) onChange(undefined);
    started = true;
    // done and a rejected promise can both report the end of one watch: restart once.
    const token = ++generation;
    const ended = (err: unknown) => {
      if (token === generation) restart(err);
    };
    watch
      .watch(
        '/api/v1/configmaps',
        {
          fieldSelector: `metadata.name=${CATALOG_CONFIGMAP}`,
          allowWatchBookmarks: true,
          ...(lastRv ? { resourceVersion: lastRv } : {}),
        },
        (phase, object: { code?: number; metadata?: { namespace?: string; resourceVersion?: string } }) => {
          if (phase === 'ERROR') {
            // 410 Gone: too old to resume; the next start relists and reports everywhere.
            if (object?.code === 410) lastRv = undefined;
            return;
          }
          if (object?.metadata?.resourceVersion) lastRv = object.metadata.resourceVersion;
          if (phase !== 'ADDED' && phase !== 'MODIFIED' && phase !== 'DELETED') return;
          failures = 0;
          onChange(object?.metadata?.namespace);
        },
        ended,
      )
      .then((a) => {
        abort = a;
        if (stopped) a.abort();
      }, ended);
  };

  start();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
      abort?.abort();
    },
  };
};
