// A restarting informer for one kind: client-node's informers stop on any error other than 410 or a
// timeout, so this one starts them again with backoff (the documented pattern).
import {
  type KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
} from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import { collectionPath, type KindRef } from './kinds.ts';
import type { Log } from './logger.ts';
import type { Cache } from './reconciler.ts';
import { backoffDelay } from './work-queue.ts';

export type InformerEvent = 'add' | 'update' | 'delete';

export interface KindInformer extends Cache {
  start(): Promise<void>;
  stop(): Promise<void>;
  /** True once the first list has been received. */
  synced(): boolean;
}

export const startInformer = (
  kc: KubeConfig,
  kind: KindRef,
  onEvent: (type: InformerEvent, object: KubeObject) => void,
  log: Log,
  /** List and watch only the objects this label selector picks (a shard); an object that stops
   * matching is reported deleted. */
  labelSelector?: string,
): KindInformer => {
  const api = KubernetesObjectApi.makeApiClient(kc);
  const list = () =>
    api.list<KubernetesObject>(
      kind.apiVersion,
      kind.kind,
      undefined,
      undefined,
      undefined,
      undefined,
      undefined,
      labelSelector,
    );
  const informer = makeInformer<KubernetesObject>(kc, collectionPath(kind), list, labelSelector);
  let stopped = false;
  let failures = 0;
  let hasSynced = false;
  const typed = (o: KubernetesObject): KubeObject => ({
    ...(o as KubeObject),
    apiVersion: kind.apiVersion,
    kind: kind.kind,
  });
  informer.on('add', (o) => onEvent('add', typed(o)));
  informer.on('update', (o) => onEvent('update', typed(o)));
  informer.on('delete', (o) => onEvent('delete', typed(o)));
  informer.on('connect', () => {
    failures = 0;
    hasSynced = true;
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
      hasSynced = true;
    },
    stop: async () => {
      stopped = true;
      await informer.stop();
    },
    synced: () => hasSynced,
    get: (namespace, name) => {
      const o = informer.get(name, namespace);
      return o ? typed(o) : undefined;
    },
    list: (namespace) => informer.list(namespace).map(typed),
  };
};
