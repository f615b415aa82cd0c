// A restarting informer for one kind: client-node's informers stop on any error other than 410 or a
// timeout, so this one starts them again with backoff (the documented pattern).
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import { intern } from '../../apiserver/intern.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import { collectionPath, type KindRef } from './kinds.ts';
import type { Log } from './logger.ts';
import type { Cache } from './reconciler.ts';
import { backoffDelay } from './work-queue.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface KindInformer extends Cache {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** Resolves once a first list has been received (the informer retries a failed one itself). */
  synced(): Promise<void>;
}

/** What the cache keeps of an object: everything but managedFields (controller-runtime's
 * TransformStripManagedFields), its strings and small maps shared with other copies (intern; the
 * shared maps are frozen: cached objects are read, never changed). No reconciler reads
 * managedFields, and they are a third of a small object's size: at 10,000 objects per kind that is
 * tens of MB held for nothing. */
export const cached = <T extends KubernetesObject>(o: T): T => {
  if (!o?.metadata) return o;
  const { managedFields: _, ...metadata } = o.metadata;
  return intern({ ...o, metadata });
};

/** A Watch whose events carry the cached form of their object, and which tells `before` each one
 * (before the cache takes it in, so the cache still holds the object as it was). */
class CachedFormWatch extends Watch {
  before: (o: KubernetesObject) => void = () => {};
  override watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: KubernetesObject, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(
      path,
      params,
      (phase, o, w) => {
        const c = cached(o);
        this.before(c);
        callback(phase, c, w);
      },
      done,
    );
  }
}

export const startInformer = (
  kc: KubeConfig,
  kind: KindRef,
  /** `old`: on an update from the watch, the object as the cache held it before. */
  onEvent: (type: InformerEvent, object: KubeObject, old?: KubeObject) => void,
  log: Log,
  opts: {
    fieldSelector?: string;
    /** List and watch only the objects this label selector picks (a shard); an object that stops
     * matching is reported deleted. */
    labelSelector?: string;
  } = {},
): KindInformer => {
  const api = KubernetesObjectApi.makeApiClient(kc);
  let listed = () => {};
  const synced = new Promise<void>((r) => {
    listed = r;
  });
  const list = async () => {
    const l = await api.list<KubernetesObject>(
      kind.apiVersion,
      kind.kind,
      undefined,
      undefined,
      undefined,
      undefined,
      opts.fieldSelector,
      opts.labelSelector,
    );
    const items = l.items.map(cached);
    setImmediate(listed); // after the ListWatch has filled its cache from these items
    return { ...l, items };
  };
  const watch = new CachedFormWatch(kc);
  const informer = new ListWatch<KubernetesObject>(
    collectionPath(kind),
    watch,
    list,
    false,
    opts.labelSelector,
    opts.fieldSelector,
  );
  let stopped = false;
  let failures = 0;
  const typed = (o: KubernetesObject): KubeObject => ({
    ...(o as KubeObject),
    apiVersion: kind.apiVersion,
    kind: kind.kind,
  });
  informer.on('add', (o) => onEvent('add', typed(o)));
  // The ListWatch's update callback has only the new object: the one it replaces is read as the
  // watch event arrives, and handed on with the update that event makes (synchronously after).
  let before: { object: KubernetesObject; old: KubernetesObject | undefined } | undefined;
  watch.before = (o) => {
    before = { object: o, old: informer.get(o.metadata?.name ?? '', o.metadata?.namespace) };
  };
  informer.on('update', (o) => {
    const old = before?.object === o ? before.old : undefined;
    before = undefined;
    onEvent('update', typed(o), old && typed(old));
  });
  informer.on('delete', (o) => onEvent('delete', typed(o)));
  informer.on('connect', () => {
    failures = 0;
  });
  informer.on('error', (err: unknown) => {
    if (stopped) return;
    const delay = backoffDelay(failures++, { baseMs: 250, maxMs: 30_000 });
    log.warn(
      { err: err instanceof Error ? err.message : String(err), kind: kind.kind, retryInMs: delay },
      'informer failed; restarting',
    );
    setTimeout(() => {
      if (!stopped) informer.start().catch(() => {});
    }, delay).unref();
  });
  return {
    start: async () => {
      await informer.start();
    },
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
    synced: () => synced,
    get: (namespace, name) => {
      const o = informer.get(name, namespace);
      return o ? typed(o) : undefined;
    },
    list: (namespace) => informer.list(namespace).map(typed),
  };
};
