// The end of every reconcile: one status patch with observedGeneration, conditions and the
// handled reconcile request — and nothing sent when nothing changed.
import type { KubeObject } from '../../apiserver/types.ts';
import type { Condition } from '../../crds/common.ts';
import { applyOutcome, type Outcome } from './conditions.ts';
import type { KindRef } from './kinds.ts';
import type { KubeClient } from './kube-client.ts';

/** Manual reconcile, as Flux's reconcile.fluxcd.io/requestedAt. */
export const REQUESTED_AT = 'simops.dev/requestedAt';

export const timestamp = (d = new Date()): string => `${d.toISOString().slice(0, 19)}Z`;

export const requestedAt = (o: KubeObject): string | undefined => o.metadata.annotations?.[REQUESTED_AT];

export interface StatusBase {
  observedGeneration?: number;
  conditions?: Condition[];
  lastHandledReconcileAt?: string;
  [field: string]: unknown;
}

/** The new status: the kind's fields, plus the outcome as conditions for this generation. */
export const nextStatus = (
  o: KubeObject,
  fields: Record<string, unknown>,
  outcome: Outcome,
  now = timestamp(),
): StatusBase => {
  const old = (o.status ?? {}) as StatusBase;
  const generation = o.metadata.generation;
  const status: StatusBase = { ...old, ...fields };
  status.conditions = applyOutcome(old.conditions, outcome, generation, now);
  status.observedGeneration = generation;
  const asked = requestedAt(o);
  if (asked !== undefined) status.lastHandledReconcileAt = asked;
  for (const [k, v] of Object.entries(status)) if (v === undefined) delete status[k];
  return status;
};

export const patchStatus = (client: KubeClient, kind: KindRef, o: KubeObject, status: StatusBase) =>
  client.patchStatus(kind, o, status);

export const hasFinalizer = (o: KubeObject, f: string) => (o.metadata.finalizers ?? []).includes(f);

/** Adds or removes a finalizer; the resourceVersion makes a concurrent change a conflict (retried). */
export const setFinalizer = async (
  client: KubeClient,
  kind: KindRef,
  o: KubeObject,
  f: string,
  present: boolean,
) => {
  const current = o.metadata.finalizers ?? [];
  if (current.includes(f) === present) return o;
  const finalizers = present ? [...current, f] : current.filter((x) => x !== f);
  return client.mergePatch(kind, o.metadata.namespace ?? '', o.metadata.name!, {
    metadata: {
      finalizers: finalizers.length ? finalizers : null,
      resourceVersion: o.metadata.resourceVersion,
    },
  });
};

/**
 * Deletion and the finalizer, as every reconciler with something to clean up handles them: an
 * object being deleted is cleaned up (`cleanUp`) and its finalizer released; a live one without
 * the finalizer gets it (that write brings the next reconcile). True when the reconcile goes on.
 */
export const finalizerGate = async (
  client: KubeClient,
  kind: KindRef,
  o: KubeObject,
  finalizer: string,
  cleanUp: () => Promise<void>,
): Promise<boolean> => {
  if (o.metadata.deletionTimestamp) {
    await cleanUp();
    if (hasFinalizer(o, finalizer)) await setFinalizer(client, kind, o, finalizer, false);
    return false;
  }
  if (!hasFinalizer(o, finalizer)) {
    await setFinalizer(client, kind, o, finalizer, true);
    return false;
  }
  return true;
};
