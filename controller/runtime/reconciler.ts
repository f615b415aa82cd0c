// The reconciler contract, in controller-runtime's shape: a key in, a result out.
import type { KubeObject } from '../../apiserver/types.ts';
import type { EventRecorder } from './events.ts';
import type { KindRef } from './kinds.ts';
import type { KubeClient } from './kube-client.ts';
import type { Log } from './logger.ts';

export interface Request {
  namespace: string;
  name: string;
}

export interface Result {
  /** Run again after this long even if nothing changes (intervals, heartbeats). */
  requeueAfterMs?: number;
}

export interface Cache {
  get(namespace: string, name: string): KubeObject | undefined;
  list(namespace?: string): KubeObject[];
}

export interface ReconcileContext {
  client: KubeClient;
  /** The informer cache of the reconciler's own kind. */
  cache: Cache;
  /** The informer cache of another kind this manager reconciles, once it has listed every object of
   * the kind (managedFields dropped); undefined otherwise: read it through the client. */
  caches?(kind: KindRef): Cache | undefined;
  events: EventRecorder;
  log: Log;
  /** Aborted when the controller stops or loses leadership. */
  signal: AbortSignal;
}

export interface Reconciler {
  readonly kind: KindRef;
  /** Workers for this kind (default 2). */
  readonly concurrency?: number;
  /** Also reconcile on status-only changes (default: spec, labels, annotations, finalizers, deletion). */
  readonly watchStatus?: boolean;
  /** Transient failures throw (retried with backoff); terminal ones set Stalled and return. */
  reconcile(req: Request, ctx: ReconcileContext): Promise<Result | undefined>;
  /** Extra sources of work (file watchers, webhooks); returns a stop function. */
  start?(
    enqueue: (req: Request) => void,
    ctx: Omit<ReconcileContext, 'log'> & { log: Log },
  ): () => Promise<void> | void;
}

export const keyOf = (r: Request) => `${r.namespace}/${r.name}`;
export const requestOf = (key: string): Request => {
  const i = key.indexOf('/');
  return { namespace: key.slice(0, i), name: key.slice(i + 1) };
};
