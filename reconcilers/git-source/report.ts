// Pure: how a sync attempt reads in status, conditions and Events.

import type { ManifestError } from '../../controller/manifests/validate.ts';
import { formatManifestError } from '../../controller/manifests/validate.ts';
import type { Outcome } from '../../controller/runtime/conditions.ts';
import type { ObjectResult, SyncResult } from './sync.ts';

const MAX_LISTED = 5;
const MAX_RESULTS = 100;

export const buildFailure = (revision: string, errors: ManifestError[]): Outcome => {
  const listed = errors.slice(0, MAX_LISTED).map(formatManifestError).join('; ');
  const more = errors.length > MAX_LISTED ? ` (and ${errors.length - MAX_LISTED} more)` : '';
  return {
    kind: 'failed',
    reason: 'BuildFailed',
    message: `revision ${revision} is invalid, nothing was applied: ${listed}${more}`,
  };
};

export const summary = (results: readonly ObjectResult[]): string => {
  const count = (a: ObjectResult['action']) => results.filter((r) => r.action === a).length;
  return (['created', 'configured', 'pruned', 'unchanged', 'failed'] as const)
    .map((a) => [a, count(a)] as const)
    .filter(([, n]) => n > 0)
    .map(([a, n]) => `${n} ${a}`)
    .join(', ');
};

export const syncOutcome = (revision: string, result: SyncResult): Outcome => {
  if (result.ok) return { kind: 'ready', reason: 'Succeeded', message: `Applied revision: ${revision}` };
  const failed = result.results.filter((r) => r.action === 'failed');
  const listed = failed
    .slice(0, MAX_LISTED)
    .map((r) => `${r.id}: ${r.message}`)
    .join('; ');
  return {
    kind: 'failed',
    reason: 'ApplyFailed',
    message: `revision ${revision}: ${failed.length} object(s) failed: ${listed}`,
  };
};

/** What status.results keeps: what changed or failed in the last attempt, not the unchanged bulk. */
export const notableResults = (results: readonly ObjectResult[]): ObjectResult[] =>
  results.filter((r) => r.action !== 'unchanged').slice(0, MAX_RESULTS);

export const changedAnything = (results: readonly ObjectResult[]) =>
  results.some((r) => r.action !== 'unchanged');
