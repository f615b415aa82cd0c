// Conditions as kstatus and Flux use them: `Ready` always present; `Reconciling` and `Stalled`
// ("abnormal-true") present only while true. Pure functions: they return new lists.
import type { Condition } from '../../crds/common.ts';

export type ConditionStatus = 'True' | 'False' | 'Unknown';
export const READY = 'Ready';
export const RECONCILING = 'Reconciling';
export const STALLED = 'Stalled';
const ABNORMAL_TRUE = new Set([RECONCILING, STALLED]);

export interface ConditionInput {
  type: string;
  status: ConditionStatus;
  reason: string;
  message: string;
}

/** Sets one condition; lastTransitionTime moves only when the status changes. */
export const setCondition = (
  conditions: readonly Condition[] | undefined,
  input: ConditionInput,
  generation: number | undefined,
  now: string,
): Condition[] => {
  const list = [...(conditions ?? [])];
  if (ABNORMAL_TRUE.has(input.type) && input.status !== 'True')
    return list.filter((c) => c.type !== input.type);
  const existing = list.find((c) => c.type === input.type);
  const next: Condition = {
    type: input.type,
    status: input.status,
    reason: input.reason,
    message: input.message,
    lastTransitionTime: existing && existing.status === input.status ? existing.lastTransitionTime : now,
    ...(generation !== undefined ? { observedGeneration: generation } : {}),
  };
  return existing ? list.map((c) => (c.type === input.type ? next : c)) : [...list, next];
};

export const removeCondition = (conditions: readonly Condition[] | undefined, type: string): Condition[] =>
  (conditions ?? []).filter((c) => c.type !== type);

export const getCondition = (
  conditions: readonly Condition[] | undefined,
  type: string,
): Condition | undefined => conditions?.find((c) => c.type === type);

export const isTrue = (conditions: readonly Condition[] | undefined, type: string): boolean =>
  getCondition(conditions, type)?.status === 'True';

/** The outcome of a reconcile as the three kstatus conditions. */
export type Outcome =
  | { kind: 'ready'; reason: string; message: string }
  | { kind: 'progressing'; reason: string; message: string }
  | { kind: 'failed'; reason: string; message: string }
  | { kind: 'stalled'; reason: string; message: string }
  | { kind: 'unknown'; reason: string; message: string };

export const applyOutcome = (
  conditions: readonly Condition[] | undefined,
  outcome: Outcome,
  generation: number | undefined,
  now: string,
): Condition[] => {
  const { reason, message } = outcome;
  const ready: ConditionStatus =
    outcome.kind === 'ready'
      ? 'True'
      : outcome.kind === 'unknown' || outcome.kind === 'progressing'
        ? 'Unknown'
        : 'False';
  let list = setCondition(conditions, { type: READY, status: ready, reason, message }, generation, now);
  list = setCondition(
    list,
    { type: RECONCILING, status: outcome.kind === 'progressing' ? 'True' : 'False', reason, message },
    generation,
    now,
  );
  list = setCondition(
    list,
    { type: STALLED, status: outcome.kind === 'stalled' ? 'True' : 'False', reason, message },
    generation,
    now,
  );
  return list;
};
