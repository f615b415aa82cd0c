// Pure decisions about a coordination.k8s.io/v1 Lease used as a leader-election lock: who holds it,
// whether it has expired, and the spec to write when acquiring, renewing or releasing it.
import { type V1LeaseSpec, V1MicroTime } from '@kubernetes/client-node';

/** A MicroTime (`2026-01-01T00:00:00.000000Z`): client-node serialises V1MicroTime in that form. */
export const microTime = (ms: number): V1MicroTime => new V1MicroTime(ms);

/** Milliseconds since the epoch of a Lease timestamp: client-node hands MicroTimes back as strings. */
const millis = (t: V1MicroTime | string | undefined): number | undefined => {
  if (t === undefined) return undefined;
  const ms = new Date(t).getTime();
  return Number.isNaN(ms) ? undefined : ms;
};

/**
 * True while another identity holds the lease: it names a holder, that holder is not us, and its
 * renewTime + leaseDurationSeconds is not yet past. A cleared holder means released.
 */
export const heldByOther = (spec: V1LeaseSpec | undefined, identity: string, now: number): boolean => {
  const holder = spec?.holderIdentity;
  if (!holder || holder === identity) return false;
  const renewed = millis(spec.renewTime) ?? millis(spec.acquireTime);
  if (renewed === undefined) return false;
  return renewed + (spec.leaseDurationSeconds ?? 0) * 1000 >= now;
};

/**
 * The spec that makes `identity` the holder at `now`. Renewing our own lease keeps acquireTime and
 * leaseTransitions; taking it over (or re-acquiring after we stepped down) stamps a new
 * acquireTime, and a change of holder counts one more transition.
 */
export const acquiredSpec = (
  previous: V1LeaseSpec | undefined,
  identity: string,
  leaseDurationMs: number,
  now: number,
  renewing: boolean,
): V1LeaseSpec => {
  const transitions = previous?.leaseTransitions ?? 0;
  const sameHolder = previous?.holderIdentity === identity;
  return {
    ...previous,
    holderIdentity: identity,
    leaseDurationSeconds: Math.max(1, Math.ceil(leaseDurationMs / 1000)),
    acquireTime: renewing && sameHolder && previous?.acquireTime ? previous.acquireTime : microTime(now),
    renewTime: microTime(now),
    leaseTransitions: previous === undefined ? 0 : sameHolder ? transitions : transitions + 1,
  };
};

/** The spec that gives the lease up, as client-go does: no holder, 1 s duration, so a successor takes it at once. */
export const releasedSpec = (previous: V1LeaseSpec | undefined, now: number): V1LeaseSpec => {
  const { holderIdentity: _holder, ...rest } = previous ?? {};
  return { ...rest, leaseDurationSeconds: 1, acquireTime: microTime(now), renewTime: microTime(now) };
};
