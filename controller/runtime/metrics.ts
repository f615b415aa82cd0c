// SimOps' Prometheus metrics: one registry for the whole process, the Node.js default metrics and
// the controller metrics under `simops_`, and helpers with which reconcilers add their own
// (e.g. `simops_run_created_total`) to the same registry.
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

export const PREFIX = 'simops_';

/** The registry `/metrics` serves. Not prom-client's global one, so that libraries cannot pollute it. */
export const registry = new Registry();
collectDefaultMetrics({ register: registry, prefix: PREFIX });

export type ReconcileResult = 'success' | 'error' | 'requeue';
export type GitFetchResult = 'success' | 'error';

/** Controller-runtime's buckets: reconciles span milliseconds to about a minute. */
const RECONCILE_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** A clone or fetch over the network takes from a fraction of a second to minutes. */
const GIT_FETCH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

const prefixed = (name: string): string => (name.startsWith(PREFIX) ? name : PREFIX + name);

const clash = (name: string, type: string): Error =>
  new Error(`metric ${name} is already registered with a type other than ${type}`);

/**
 * A counter in the SimOps registry, named `simops_<name>` (the prefix is added unless present).
 * Defining the same name again returns the existing metric, so a module may define its metrics
 * where it uses them.
 */
export const defineCounter = <L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Counter<L> => {
  const full = prefixed(name);
  const existing = registry.getSingleMetric<L>(full);
  if (existing instanceof Counter) return existing;
  if (existing) throw clash(full, 'counter');
  return new Counter({ name: full, help, labelNames, registers: [registry] });
};

/** A gauge in the SimOps registry; see defineCounter. */
export const defineGauge = <L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
): Gauge<L> => {
  const full = prefixed(name);
  const existing = registry.getSingleMetric<L>(full);
  if (existing instanceof Gauge) return existing;
  if (existing) throw clash(full, 'gauge');
  return new Gauge({ name: full, help, labelNames, registers: [registry] });
};

/** A histogram in the SimOps registry; see defineCounter. Pick buckets in the metric's own unit. */
export const defineHistogram = <L extends string = never>(
  name: string,
  help: string,
  labelNames: readonly L[] = [],
  buckets?: number[],
): Histogram<L> => {
  const full = prefixed(name);
  const existing = registry.getSingleMetric<L>(full);
  if (existing instanceof Histogram) return existing;
  if (existing) throw clash(full, 'histogram');
  return new Histogram({ name: full, help, labelNames, buckets, registers: [registry] });
};

/** Labels: kind, result (ReconcileResult). */
export const reconcileDuration = defineHistogram(
  'reconcile_duration_seconds',
  'Time spent in one reconcile, by kind and result (success, error, requeue).',
  ['kind', 'result'],
  RECONCILE_BUCKETS,
);

export const reconcileErrors = defineCounter(
  'reconcile_errors_total',
  'Reconciles that ended in an error, by kind.',
  ['kind'],
);

export const workqueueDepth = defineGauge('workqueue_depth', 'Objects waiting in the work queue, by kind.', [
  'kind',
]);

/** Labels: result (GitFetchResult). */
export const gitFetchDuration = defineHistogram(
  'git_fetch_duration_seconds',
  'Time spent fetching a GitSource repository, by result (success, error).',
  ['result'],
  GIT_FETCH_BUCKETS,
);

export const leaderGauge = defineGauge('leader', '1 while this process holds the leader lease, else 0.');
