// Invariants as gates: `metric op threshold`, judged continuously (each tick, over the evaluation
// window) and once at the end (over the whole run). A breach opens a violation at its first sim
// minute (its observed value follows the worst of the breach); abortOnFail stops the run only once a
// breach has lasted its breach window, as k6 users ask of abortOnFail. Pure: time comes in.
import type { ResolvedInvariant } from './model.ts';
import { formatSimTime } from './model.ts';

export type MetricValues = Record<string, number | undefined>;

export interface Violation {
  invariant: string;
  metric: string;
  op: string;
  threshold: number;
  observed: number;
  severity: string;
  atSimMinute: number;
  simTime: string;
  during?: string[];
  at: 'continuous' | 'end';
  seed: number;
  runId: string;
}

export type Verdict = 'Pass' | 'Fail' | 'NoData';

export interface InvariantResult {
  name: string;
  metric: string;
  op: string;
  threshold: number;
  severity: string;
  value?: number;
  verdict: Verdict;
}

/** Whether `value op threshold` holds. */
export const holds = (op: string, value: number, threshold: number): boolean => {
  switch (op) {
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '==':
      return value === threshold;
    case '!=':
      return value !== threshold;
    default:
      return false;
  }
};

/** The value farther from holding. */
const worse = (op: string, a: number, b: number, threshold: number): number =>
  op === '<' || op === '<='
    ? Math.max(a, b)
    : op === '>' || op === '>='
      ? Math.min(a, b)
      : Math.abs(a - threshold) >= Math.abs(b - threshold)
        ? a
        : b;

export interface Moment {
  simMinute: number;
  realMs: number;
  values: MetricValues;
  /** The events active at this moment. */
  during: string[];
}

interface Breach {
  since: number;
  violation: Violation;
}

export class InvariantTracker {
  readonly violations: Violation[] = [];
  private readonly breaches = new Map<string, Breach>();
  private readonly invariants: readonly ResolvedInvariant[];
  private readonly run: { seed: number; runId: string };

  constructor(invariants: readonly ResolvedInvariant[], run: { seed: number; runId: string }) {
    this.invariants = invariants;
    this.run = run;
  }

  private violation(inv: ResolvedInvariant, value: number, m: Moment, at: Violation['at']): Violation {
    return {
      invariant: inv.name,
      metric: inv.metric,
      op: inv.op,
      threshold: inv.threshold,
      observed: value,
      severity: inv.severity,
      atSimMinute: Math.round(m.simMinute * 100) / 100,
      simTime: formatSimTime(m.simMinute),
      ...(m.during.length ? { during: m.during } : {}),
      at,
      seed: this.run.seed,
      runId: this.run.runId,
    };
  }

  /** One continuous evaluation: the violations it opened, and the invariant that aborts the run, if one does. */
  observe(m: Moment): { opened: Violation[]; abort?: ResolvedInvariant } {
    const opened: Violation[] = [];
    let abort: ResolvedInvariant | undefined;
    for (const inv of this.invariants) {
      const value = m.values[inv.metric];
      if (value === undefined || Number.isNaN(value)) continue;
      const breach = this.breaches.get(inv.name);
      if (holds(inv.op, value, inv.threshold)) {
        this.breaches.delete(inv.name);
        continue;
      }
      if (breach) {
        breach.violation.observed = worse(inv.op, breach.violation.observed, value, inv.threshold);
      } else {
        const v = this.violation(inv, value, m, 'continuous');
        this.violations.push(v);
        opened.push(v);
        this.breaches.set(inv.name, { since: m.realMs, violation: v });
      }
      const since = this.breaches.get(inv.name)!.since;
      if (inv.abortOnFail && !abort && m.realMs - since >= inv.breachWindowMs) abort = inv;
    }
    return abort ? { opened, abort } : { opened };
  }

  /** The end of the run: each invariant judged on the run's figures (and its breaches on the way). */
  finish(m: Moment): { results: InvariantResult[]; opened: Violation[] } {
    const opened: Violation[] = [];
    const results = this.invariants.map((inv): InvariantResult => {
      const value = m.values[inv.metric];
      const base = {
        name: inv.name,
        metric: inv.metric,
        op: inv.op,
        threshold: inv.threshold,
        severity: inv.severity,
      };
      const breachedBefore = this.violations.some((v) => v.invariant === inv.name);
      if (value === undefined || Number.isNaN(value))
        return { ...base, verdict: breachedBefore ? 'Fail' : 'NoData' };
      if (!holds(inv.op, value, inv.threshold)) {
        const v = this.violation(inv, value, m, 'end');
        this.violations.push(v);
        opened.push(v);
        return { ...base, value, verdict: 'Fail' };
      }
      return { ...base, value, verdict: breachedBefore ? 'Fail' : 'Pass' };
    });
    return { results, opened };
  }
}

/** Failed when a critical invariant failed or had no data; warnings never fail a run. */
export const runFailed = (results: readonly InvariantResult[]): boolean =>
  results.some((r) => r.severity === 'critical' && r.verdict !== 'Pass');
