// One controller per kind: informer → predicate → de-duplicating queue → workers → reconcile.

import { isDeepStrictEqual } from 'node:util';
import type { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import type { EventRecorder } from './events.ts';
import { type InformerEvent, type KindInformer, startInformer } from './informer.ts';
import type { KindRef } from './kinds.ts';
import type { KubeClient } from './kube-client.ts';
import type { Log } from './logger.ts';
import { type Cache, keyOf, type Reconciler, type Request, requestOf } from './reconciler.ts';
import { inShard } from './sharding.ts';
import { WorkQueue } from './work-queue.ts';

export interface ControllerMetrics {
  observe(kind: string, seconds: number, result: 'success' | 'error' | 'requeue'): void;
  queueDepth(kind: string, depth: number): void;
}

export interface ControllerDeps {
  kubeConfig: KubeConfig;
  client: KubeClient;
  events: EventRecorder;
  log: Log;
  metrics?: ControllerMetrics;
  /** The shared caches of the manager's controllers (ReconcileContext.caches). */
  caches?(kind: KindRef): Cache | undefined;
  /** This instance's shard: only the objects this label selector picks are watched and reconciled. */
  labelSelector?: string;
}

/** What a change must touch to be worth a reconcile (Flux: generation changed or reconcile requested). */
const watchedPart = (o: KubeObject, withStatus: boolean) => ({
  generation: o.metadata.generation,
  labels: o.metadata.labels,
  annotations: o.metadata.annotations,
  finalizers: o.metadata.finalizers,
  deletionTimestamp: o.metadata.deletionTimestamp,
  ...(withStatus ? { status: o.status } : {}),
});

export class Controller {
  readonly reconciler: Reconciler;
  private readonly deps: ControllerDeps;
  private readonly queue = new WorkQueue();
  private readonly abort = new AbortController();
  private informer?: KindInformer;
  private listed = false;
  private workers: Promise<void>[] = [];
  private stopExtra?: () => Promise<void> | void;
  private readonly log: Log;
  private readonly inShard: (o: KubeObject) => boolean;

  constructor(reconciler: Reconciler, deps: ControllerDeps) {
    this.reconciler = reconciler;
    this.deps = deps;
    this.log = deps.log.child({ controller: reconciler.kind.kind });
    this.inShard = inShard(deps.labelSelector);
  }

  enqueue(req: Request): void {
    this.queue.add(keyOf(req));
    this.deps.metrics?.queueDepth(this.reconciler.kind.kind, this.queue.length);
  }

  async start(): Promise<void> {
    const kind = this.reconciler.kind;
    const onEvent = (type: InformerEvent, o: KubeObject, old?: KubeObject) => {
      const key = keyOf({ namespace: o.metadata.namespace ?? '', name: o.metadata.name ?? '' });
      const withStatus = !!this.reconciler.watchStatus;
      // An update that changed nothing a reconcile acts on (our own status write) is dropped; one
      // whose earlier state is unknown (a relist) is not.
      if (
        type === 'update' &&
        old &&
        isDeepStrictEqual(watchedPart(old, withStatus), watchedPart(o, withStatus))
      )
        return;
      this.enqueue(requestOf(key));
    };
    const informer = startInformer(this.deps.kubeConfig, kind, onEvent, this.log, {
      labelSelector: this.deps.labelSelector,
    });
    this.informer = informer;
    void informer.synced().then(() => {
      this.listed = true;
    });
    await informer.start();
    const concurrency = this.reconciler.concurrency ?? 2;
    this.workers = Array.from({ length: concurrency }, () => this.work());
    if (this.reconciler.start) {
      this.stopExtra = this.reconciler.start((req) => this.enqueue(req), this.context(this.log));
    }
  }

  /** The informer cache for other controllers, once it holds every object of the kind. */
  sharedCache(): Cache | undefined {
    return this.listed ? this.informer : undefined;
  }

  /** Stops taking work, lets in-flight reconciles finish (drain), then stops the informer. */
  async stop(): Promise<void> {
    this.abort.abort();
    this.queue.shutDown();
    await this.stopExtra?.();
    await Promise.all(this.workers);
    await this.informer?.stop();
  }

  /**
   * Whether this instance reconciles the object: always without a shard; with one, when the object
   * is in the cache, is gone (a deletion to clean up after), or is live and picked by the selector.
   * An object that moved to another shard (its informer reported it deleted), or a key enqueued from
   * elsewhere (a webhook, a requeue timer) for an object of another shard, is left to that shard.
   */
  private async ownsKey(req: Request): Promise<boolean> {
    if (this.deps.labelSelector === undefined || this.informer?.get(req.namespace, req.name)) return true;
    const live = await this.deps.client.get(this.reconciler.kind, req.namespace, req.name);
    return !live || this.inShard(live);
  }

  private context(log: Log) {
    return {
      client: this.deps.client,
      cache: {
        get: (ns: string, name: string) => this.informer?.get(ns, name),
        list: (ns?: string) => this.informer?.list(ns) ?? [],
      },
      ...(this.deps.caches ? { caches: this.deps.caches } : {}),
      events: this.deps.events,
      log,
      signal: this.abort.signal,
    };
  }

  private async work(): Promise<void> {
    const kind = this.reconciler.kind.kind;
    for (;;) {
      const key = await this.queue.get();
      if (key === undefined) return;
      const req = requestOf(key);
      const log = this.log.child({ kind, namespace: req.namespace, name: req.name });
      const started = performance.now();
      try {
        if (!(await this.ownsKey(req))) {
          log.debug({}, 'in another shard: not reconciled here');
          this.queue.forget(key);
          continue;
        }
        const result = await this.reconciler.reconcile(req, this.context(log));
        this.queue.forget(key);
        const after = result?.requeueAfterMs;
        if (after !== undefined && after >= 0 && !this.abort.signal.aborted) this.queue.addAfter(key, after);
        this.deps.metrics?.observe(
          kind,
          (performance.now() - started) / 1000,
          after !== undefined ? 'requeue' : 'success',
        );
      } catch (err) {
        const delay = this.queue.addRateLimited(key);
        this.deps.metrics?.observe(kind, (performance.now() - started) / 1000, 'error');
        log.warn(
          { err: err instanceof Error ? err.message : String(err), retryInMs: delay },
          'reconcile failed',
        );
      } finally {
        this.queue.done(key);
        this.deps.metrics?.queueDepth(kind, this.queue.length);
      }
    }
  }
}
