// Watch streams: NDJSON events, headers flushed at once, resume from a resourceVersion, bookmarks,
// selector transitions (an object that stops matching is sent as DELETED), and 410 Gone.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from './errors.ts';
import type { ObjectService, Selectors } from './object-service.ts';
import { type ResourceInfo, storePrefix } from './resources.ts';
import { fieldMatcher, labelMatcher } from './selectors.ts';
import { StoreError, type StoreEvent } from './store/types.ts';
import { type IncludeObject, toTable } from './table.ts';
import type { KubeObject } from './types.ts';

export interface WatchRequest {
  resource: ResourceInfo;
  namespace?: string;
  selectors: Selectors;
  resourceVersion?: string;
  table?: 'v1' | 'v1beta1';
  include: IncludeObject;
  bookmarks: boolean;
  timeoutSeconds: number;
  bookmarkIntervalMs: number;
}

type EventType = 'ADDED' | 'MODIFIED' | 'DELETED' | 'BOOKMARK' | 'ERROR';

export const serveWatch = (
  service: ObjectService,
  req: IncomingMessage,
  res: ServerResponse,
  w: WatchRequest,
  onClose: (stop: () => void) => () => void,
): void => {
  const r = w.resource;
  const byLabel = labelMatcher(w.selectors.labelSelector ?? null);
  const byField = fieldMatcher(w.selectors.fieldSelector ?? null, r);
  const selected = (o: KubeObject | undefined) => !!o && byLabel(o) && byField(o);

  const rv = w.resourceVersion;
  // Refused before the 200 is sent: as an ERROR event, clients would reconnect with it forever.
  if (rv && !/^\d+$/.test(rv)) throw new ApiError(400, 'BadRequest', `invalid resourceVersion: ${rv}`);

  res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private' });
  // Node holds headers until the first write; kubectl wait would hang until its watch times out.
  res.flushHeaders();

  const render = (o: KubeObject) =>
    w.table
      ? toTable(r, [o], {
          version: w.table,
          include: w.include,
          resourceVersion: o.metadata.resourceVersion ?? '',
        })
      : o;
  const send = (type: EventType, object: unknown) => {
    if (!res.writableEnded) res.write(`${JSON.stringify({ type, object })}\n`);
  };

  const onEvent = (e: StoreEvent) => {
    const now = selected(e.object);
    const before = e.type === 'ADDED' ? false : e.type === 'DELETED' ? now : selected(e.previous);
    if (e.type === 'DELETED') {
      if (now) send('DELETED', render(e.object));
    } else if (now && before) send('MODIFIED', render(e.object));
    else if (now) send('ADDED', render(e.object));
    else if (before) send('DELETED', render(e.object));
  };

  let stopWatch = () => {};
  const timers: NodeJS.Timeout[] = [];
  const end = () => {
    stopWatch();
    for (const t of timers) clearTimeout(t);
    if (!res.writableEnded) res.end();
  };
  const unregister = onClose(end);
  req.on('close', () => {
    end();
    unregister();
  });

  const prefix = storePrefix(r, r.namespaced ? w.namespace : undefined);
  try {
    if (!rv || rv === '0') {
      const { items, revision } = service.list(r, w.namespace, w.selectors);
      for (const o of items) send('ADDED', render(o));
      stopWatch = service.store.watch(prefix, revision, onEvent);
    } else {
      stopWatch = service.store.watch(prefix, Number(rv), onEvent);
    }
  } catch (err) {
    if (err instanceof StoreError && err.code === 'Expired') {
      send('ERROR', {
        kind: 'Status',
        apiVersion: 'v1',
        metadata: {},
        status: 'Failure',
        message: `too old resource version: ${rv} (${service.store.oldestWatchableRevision})`,
        reason: 'Expired',
        code: 410,
      });
    } else if (err instanceof ApiError) send('ERROR', err.toStatus());
    else throw err;
    end();
    return;
  }

  if (w.bookmarks) {
    const tick = () => {
      send('BOOKMARK', {
        kind: r.kind,
        apiVersion: r.apiVersion,
        metadata: { resourceVersion: String(service.store.revision) },
      });
      timers.push(setTimeout(tick, w.bookmarkIntervalMs).unref());
    };
    timers.push(setTimeout(tick, w.bookmarkIntervalMs).unref());
  }
  timers.push(setTimeout(end, w.timeoutSeconds * 1000).unref());
};
