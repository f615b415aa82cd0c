// Runs every controller, behind leader election when asked: exactly one replica acts, losing the
// lease stops work at once, and stop() drains in-flight reconciles before releasing the lease.
import type { KubeConfig } from '@kubernetes/client-node';
import { Controller, type ControllerMetrics } from './controller.ts';
import { createEventRecorder } from './events.ts';
import type { KindRef } from './kinds.ts';
import { KubeClient } from './kube-client.ts';
import { startLeaderElection } from './leader-election.ts';
import type { Log } from './logger.ts';
import type { Reconciler } from './reconciler.ts';

export interface ManagerOptions {
  kubeConfig: KubeConfig;
  reconcilers: Reconciler[];
  log: Log;
  metrics?: ControllerMetrics & { leader?(isLeader: boolean): void };
  /** Watch and reconcile only the objects this label selector picks (this instance's shard). */
  labelSelector?: string;
  leaderElection?: {
    namespace: string;
    name: string;
    identity: string;
    leaseDurationMs?: number;
    renewDeadlineMs?: number;
    retryPeriodMs?: number;
  };
}

export interface Manager {
  readonly client: KubeClient;
  /** The label selector of this instance's shard (undefined: every object). */
  readonly labelSelector?: string;
  isLeader(): boolean;
  /** Started controllers by kind, while leading. */
  controller(kind: string): Controller | undefined;
  stop(): Promise<void>;
}

export const startManager = async (opts: ManagerOptions): Promise<Manager> => {
  const client = new KubeClient(opts.kubeConfig);
  const events = createEventRecorder(client, opts.log);
  let controllers: Controller[] = [];
  // Starts and stops run one after another in the order leadership changed: a stop that waits for
  // a slow start must stop that term's controllers, not those of a term begun meanwhile.
  let last: Promise<void> = Promise.resolve();
  const inOrder = (fn: () => Promise<void>): Promise<void> => {
    last = last.then(fn, fn);
    return last;
  };

  const run = async () => {
    controllers = opts.reconcilers.map(
      (r) =>
        new Controller(r, {
          kubeConfig: opts.kubeConfig,
          client,
          events,
          log: opts.log,
          metrics: opts.metrics,
          // A shard's caches hold only its objects, not every object of a kind: no sharing then.
          ...(opts.labelSelector === undefined
            ? {
                caches: (k: KindRef) =>
                  controllers
                    .find(
                      (c) =>
                        c.reconciler.kind.apiVersion === k.apiVersion && c.reconciler.kind.kind === k.kind,
                    )
                    ?.sharedCache(),
              }
            : {}),
          labelSelector: opts.labelSelector,
        }),
    );
    await Promise.all(controllers.map((c) => c.start()));
    opts.log.info({ kinds: opts.reconcilers.map((r) => r.kind.kind) }, 'controllers started');
  };
  const halt = async () => {
    const running = controllers;
    controllers = [];
    await Promise.all(running.map((c) => c.stop()));
    await events.flush();
  };

  const le = opts.leaderElection;
  let election: ReturnType<typeof startLeaderElection> | undefined;
  if (le) {
    election = startLeaderElection({
      kubeConfig: opts.kubeConfig,
      ...le,
      log: opts.log,
      onStartedLeading: () => {
        opts.metrics?.leader?.(true);
        opts.log.info({ identity: le.identity }, 'became leader');
        void inOrder(run);
      },
      onStoppedLeading: () => {
        opts.metrics?.leader?.(false);
        opts.log.warn({ identity: le.identity }, 'lost leadership: stopping work');
        void inOrder(halt);
      },
    });
  } else {
    await inOrder(run);
  }

  return {
    client,
    labelSelector: opts.labelSelector,
    isLeader: () => election?.isLeader() ?? true,
    controller: (kind) => controllers.find((c) => c.reconciler.kind.kind === kind),
    stop: async () => {
      await inOrder(halt);
      await election?.stop();
    },
  };
};
