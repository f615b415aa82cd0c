// Helpers of bench/apiserver.ts shared by the orchestrator (and its watcher child) and the server
// child (bench/apiserver-server.mjs). Plain JavaScript so that the server child loads no TypeScript.
import { existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { entryModule } from '../bin/entry.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BUILT_STAMP = join(ROOT, 'dist', '.built');
/** Set by the orchestrator for its server children: the mtime of the dist/.built it found fresh. */
export const DIST_CHECKED_ENV = 'SIMOPS_BENCH_DIST_CHECKED';

export const DIST_MISSING_OR_STALE =
  'dist/ is missing or older than the TypeScript sources: run `npm run build` first ' +
  '(`npm run bench:apiserver` does).';

/** mtime of dist/.built, or undefined when there is none. */
export const builtAt = () => (existsSync(BUILT_STAMP) ? String(statSync(BUILT_STAMP).mtimeMs) : undefined);

/**
 * Whether dist/ is the build `simops up` would run: bin/entry.js returns dist's main.js (dist exists
 * and is at least as new as every source). A server child of a run trusts the orchestrator's check
 * of the same build (same dist/.built mtime): the sources may be edited during a run, and every
 * server of one run must run the same build.
 */
export const distIsFresh = () => {
  const checked = process.env[DIST_CHECKED_ENV];
  if (checked !== undefined && checked === builtAt()) return true;
  return entryModule(ROOT) === join(ROOT, 'dist', 'controller', 'cli', 'main.js');
};

/** Wall clock with sub-millisecond resolution; comparable across processes of one machine. */
export const wallNow = () => performance.timeOrigin + performance.now();

/**
 * @param {ArrayLike<number>} sorted
 * @param {number} p
 * @returns {number}
 */
export const percentile = (sorted, p) =>
  sorted.length
    ? /** @type {number} */ (sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))])
    : Number.NaN;

/**
 * @typedef {object} LatencyStats
 * @property {number} events Events seen, warm-up included.
 * @property {number} counted Events counted: those whose patch was stamped after the warm-up.
 * @property {number} p50
 * @property {number} p90
 * @property {number} p99
 * @property {number} max
 * @property {number} mean
 * @property {number} maxAll
 */

/**
 * Latencies (ms) of the events whose stamp is at or after `from`.
 * @param {number[]} stamps
 * @param {number[]} latencies
 * @param {number} from
 * @returns {LatencyStats}
 */
export const summarize = (stamps, latencies, from) => {
  const counted = latencies.filter((_, i) => /** @type {number} */ (stamps[i]) >= from).sort((a, b) => a - b);
  return {
    events: latencies.length,
    counted: counted.length,
    p50: percentile(counted, 0.5),
    p90: percentile(counted, 0.9),
    p99: percentile(counted, 0.99),
    max: counted.at(-1) ?? Number.NaN,
    mean: counted.reduce((a, b) => a + b, 0) / counted.length,
    maxAll: Math.max(...latencies),
  };
};

/**
 * The wall-clock stamp (ms) a benchmark patch left in the object's status, if any.
 * @param {object} object
 * @returns {number | undefined}
 */
export const stampOf = (object) => {
  const stamp = /** @type {{ status?: { lastHandledReconcileAt?: unknown } }} */ (object).status
    ?.lastHandledReconcileAt;
  return typeof stamp === 'string' && stamp.startsWith('bench ') ? Number(stamp.slice(6)) : undefined;
};
