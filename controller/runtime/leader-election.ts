// Lease-based leader election (coordination.k8s.io/v1), shaped like client-go's leaderelection:
// candidates try to take the Lease every retryPeriod; the leader renews it every retryPeriod and
// steps down at once if no renewal has succeeded within renewDeadline. Writes carry the
// resourceVersion we read, so of two candidates racing for an expired lease exactly one wins (409).
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  type ConfigurationOptions,
  CoordinationV1Api,
  type KubeConfig,
  Observable,
  type V1Lease,
} from '@kubernetes/client-node';
import { acquiredSpec, heldByOther, releasedSpec } from './lease-record.ts';

export interface LeaderElectionLog {
  info(o: object, m?: string): void;
  warn(o: object, m?: string): void;
}

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  /** Unique per process (e.g. hostname + pid): two electors with one identity would both lead. */
  identity: string;
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** Called on every acquisition; `signal` aborts the moment leadership is lost or stop() is called. */
  onStartedLeading: (signal: AbortSignal) => void;
  /** Called once per leadership term, right after its signal aborts. The elector keeps campaigning. */
  onStoppedLeading: () => void;
  log?: LeaderElectionLog;
}

export interface LeaderElection {
  isLeader(): boolean;
  /** Stops campaigning; if leading, stops leading and releases the lease so a successor takes over at once. */
  stop(): Promise<void>;
}

type Attempt =
  | { ok: true; lease: V1Lease; startedAt: number }
  | { ok: false; holder?: string; error?: unknown; conflict?: boolean };

/** Request options that abort the HTTP request with `signal` (client-node has no per-call timeout). */
const withSignal = (signal: AbortSignal): ConfigurationOptions => ({
  middleware: [
    {
      pre: (ctx) => {
        ctx.setSignal(signal);
        return new Observable(Promise.resolve(ctx));
      },
      post: (res) => new Observable(Promise.resolve(res)),
    },
  ],
  middlewareMergeStrategy: 'append',
});

const isStatus = (err: unknown, code: number): boolean => err instanceof ApiException && err.code === code;

export const startLeaderElection = (opts: LeaderElectionOptions): LeaderElection => {
  const leaseDurationMs = opts.leaseDurationMs ?? 15_000;
  const renewDeadlineMs = opts.renewDeadlineMs ?? 10_000;
  const retryPeriodMs = opts.retryPeriodMs ?? 2_000;
  // client-go's constraints: the leader must give up before anyone may take over, and must get
  // several renewal attempts within its deadline.
  if (renewDeadlineMs >= leaseDurationMs)
    throw new Error('leaseDurationMs must be greater than renewDeadlineMs');
  if (retryPeriodMs * 1.2 >= renewDeadlineMs)
    throw new Error('renewDeadlineMs must exceed 1.2 × retryPeriodMs');

  const { namespace, name, identity, log } = opts;
  const api = opts.kubeConfig.makeApiClient(CoordinationV1Api);
  const ctx = { lease: `${namespace}/${name}`, identity };
  const stopping = new AbortController();
  let leading: AbortController | undefined;
  /** The lease as we last wrote it while leading, so renewals need no GET. */
  let written: V1Lease | undefined;
  let deadline: NodeJS.Timeout | undefined;

  const startLeading = () => {
    const term = new AbortController();
    leading = term;
    log?.info(ctx, 'became leader');
    try {
      opts.onStartedLeading(term.signal);
    } catch (err) {
      log?.warn({ ...ctx, err }, 'onStartedLeading threw');
    }
  };

  const stopLeading = (reason: string) => {
    const term = leading;
    if (!term) return;
    leading = undefined;
    clearTimeout(deadline);
    if (reason === 'stopped') log?.info({ ...ctx, reason }, 'stopped leading');
    else log?.warn({ ...ctx, reason }, 'stopped leading');
    term.abort(new Error(`leadership lost: ${reason}`));
    try {
      opts.onStoppedLeading();
    } catch (err) {
      log?.warn({ ...ctx, err }, 'onStoppedLeading threw');
    }
  };

  // Leadership holds until renewDeadline after the *start* of the last successful write: the
  // renewTime written is no later than that, so others wait leaseDuration > renewDeadline from it.
  const holdUntilDeadline = (startedAt: number) => {
    clearTimeout(deadline);
    deadline = setTimeout(
      () => stopLeading('renew deadline passed'),
      startedAt + renewDeadlineMs - Date.now(),
    );
  };

  const read = async (signal: AbortSignal): Promise<V1Lease | undefined> => {
    try {
      return await api.readNamespacedLease({ name, namespace }, withSignal(signal));
    } catch (err) {
      if (isStatus(err, 404)) return undefined;
      throw err;
    }
  };

  const tryAcquireOrRenew = async (signal: AbortSignal): Promise<Attempt> => {
    const startedAt = Date.now();
    try {
      const current = (leading && written) || (await read(signal));
      if (!current) {
        const body: V1Lease = {
          metadata: { name, namespace },
          spec: acquiredSpec(undefined, identity, leaseDurationMs, startedAt, false),
        };
        const lease = await api.createNamespacedLease({ namespace, body }, withSignal(signal));
        return { ok: true, lease, startedAt };
      }
      if (heldByOther(current.spec, identity, startedAt))
        return { ok: false, holder: current.spec?.holderIdentity };
      const spec = acquiredSpec(current.spec, identity, leaseDurationMs, startedAt, leading !== undefined);
      const lease = await api.replaceNamespacedLease(
        { name, namespace, body: { ...current, spec } },
        withSignal(signal),
      );
      return { ok: true, lease, startedAt };
    } catch (err) {
      // 409: another candidate wrote first (or our cached copy is stale); back off and re-read.
      return { ok: false, error: err, conflict: isStatus(err, 409) };
    }
  };

  const campaign = async () => {
    while (!stopping.signal.aborted) {
      const signal = AbortSignal.any([stopping.signal, AbortSignal.timeout(renewDeadlineMs)]);
      const result = await tryAcquireOrRenew(signal);
      if (stopping.signal.aborted) return;
      if (result.ok) {
        written = result.lease;
        // A write that took longer than renewDeadline proves nothing about the present.
        if (Date.now() - result.startedAt < renewDeadlineMs) {
          holdUntilDeadline(result.startedAt);
          if (!leading) startLeading();
        }
      } else {
        written = undefined;
        if (result.holder !== undefined) stopLeading(`lease held by ${result.holder}`);
        else if (!result.conflict)
          log?.warn({ ...ctx, err: result.error }, 'acquiring or renewing the lease failed');
      }
      // Candidates jitter so that they do not all hit the API server together.
      const wait = leading ? retryPeriodMs : retryPeriodMs * (1 + Math.random() * 0.2);
      await sleep(wait, undefined, { signal: stopping.signal }).catch(() => undefined);
    }
  };

  // Reads afresh: an aborted last renewal may still have changed the resourceVersion.
  const release = async () => {
    const signal = AbortSignal.timeout(renewDeadlineMs);
    try {
      const current = await read(signal);
      if (current?.spec?.holderIdentity !== identity) return;
      const body = { ...current, spec: releasedSpec(current.spec, Date.now()) };
      await api.replaceNamespacedLease({ name, namespace, body }, withSignal(signal));
      log?.info(ctx, 'released the lease');
    } catch (err) {
      // Not fatal: the lease then simply expires after its duration.
      log?.warn({ ...ctx, err }, 'releasing the lease failed');
    }
  };

  const campaigning = campaign();
  let stopped: Promise<void> | undefined;

  return {
    isLeader: () => leading !== undefined,
    stop: () => {
      stopped ??= (async () => {
        const wasLeading = leading !== undefined;
        // Stop work before anyone else can take over: the release below is what lets them.
        stopLeading('stopped');
        stopping.abort();
        await campaigning;
        if (wasLeading) await release();
      })();
      return stopped;
    },
  };
};
