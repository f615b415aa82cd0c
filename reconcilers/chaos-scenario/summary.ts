// The run as a person reads it: verdict, figures, each invariant's value and verdict, the
// violations with their sim times, what each event did, and how to reproduce the run. Pure.
import { formatSimTime } from './model.ts';
import type { RunReport } from './runner.ts';

const pct = (x: number) => `${(Math.round(x * 10000) / 100).toString()}%`;
const num = (x: number) =>
  Math.abs(x) >= 100 ? Math.round(x).toString() : (Math.round(x * 1000) / 1000).toString();
const show = (metric: string, v: number) =>
  /rate|usage|success|response$/.test(metric) && v <= 1 && v >= 0 ? `${num(v)} (${pct(v)})` : num(v);

export const headline = (r: Omit<RunReport, 'timeline'>): string => {
  const critical = r.violations.filter((v) => v.severity === 'critical').length;
  const warning = r.violations.length - critical;
  const counts = r.violations.length
    ? `${critical} critical, ${warning} warning violations`
    : 'no violations';
  if (r.verdict === 'Stopped')
    return `stopped at sim ${formatSimTime(r.simMinutes)} by the kill switch (${counts} so far)`;
  if (r.aborted)
    return `failed: aborted at sim ${formatSimTime(r.simMinutes)} on a sustained breach of ${r.aborted} (${counts})`;
  const noData = r.invariants
    .filter((i) => i.severity === 'critical' && i.verdict === 'NoData')
    .map((i) => i.name);
  const failed = r.verdict === 'Failed';
  return `${failed ? 'failed' : 'passed'}: ${counts}${noData.length ? `; no data for ${noData.join(', ')}` : ''}; p95 ${r.totals.p95Ms} ms, errors ${pct(r.totals.errorRate)}`;
};

export const renderSummary = (r: Omit<RunReport, 'timeline'>): string => {
  const lines: string[] = [];
  lines.push(
    `ChaosScenario ${r.scenario}${r.preset ? ` (preset ${r.preset})` : ''}: ${r.verdict.toUpperCase()}`,
  );
  lines.push(`  ${headline(r)}`);
  lines.push(
    `  run ${r.runId}, seed ${r.seed}, target ${r.target}`,
    `  sim ${formatSimTime(r.simMinutes)} of ${formatSimTime(r.totalSimMinutes)} in ${r.realSeconds} s real (${r.ticks} ticks of ${r.tickMs} ms); tick drift p99 ${r.tickDriftP99Ms} ms, max ${r.tickDriftMaxMs} ms`,
    `  ${r.agentsSpawned} agents (${r.agentsThrottled} turned away at the cap, ${r.agentsCompleted} finished their journey), ${r.totals.requests} requests, ${r.throughputRps} req/s`,
    `  latency p50 ${r.totals.p50Ms} ms, p95 ${r.totals.p95Ms} ms, p99 ${r.totals.p99Ms} ms, max ${r.totals.maxMs} ms; errors ${r.totals.errors} (${pct(r.totals.errorRate)}), of which resets ${r.totals.resets}, timeouts ${r.totals.timeouts}`,
  );
  if (r.invariants.length) {
    lines.push('', 'Invariants:');
    const width = Math.max(...r.invariants.map((i) => i.name.length));
    for (const i of r.invariants) {
      const verdict = i.verdict === 'Pass' ? 'PASS  ' : i.verdict === 'Fail' ? 'FAIL  ' : 'NODATA';
      lines.push(
        `  ${verdict} ${i.name.padEnd(width)}  ${i.metric} ${i.op} ${i.threshold}: ${i.value === undefined ? 'no data' : show(i.metric, i.value)}  [${i.severity}]`,
      );
    }
  }
  if (r.violations.length) {
    lines.push('', 'Violations (sim time of the first breach; observed is the worst of the breach):');
    for (const v of r.violations.slice(0, 100)) {
      lines.push(
        `  ${v.at === 'end' ? 'end ' : v.simTime.padStart(5)}  ${v.invariant}: ${v.metric} ${show(v.metric, v.observed)}, want ${v.op} ${v.threshold}  [${v.severity}]${v.during?.length ? ` during ${v.during.join(', ')}` : ''}`,
      );
    }
    if (r.violations.length > 100) lines.push(`  … and ${r.violations.length - 100} more in summary.json`);
  }
  if (r.events.length) {
    lines.push('', 'Events:');
    for (const e of r.events) {
      const window = `${formatSimTime(e.triggerAt)}–${formatSimTime(e.triggerAt + e.duration)}`;
      const params = Object.keys(e.parameters).length ? ` ${JSON.stringify(e.parameters)}` : '';
      const seen = e.observed
        ? `; agents saw ${e.observed.requests} requests, p95 ${e.observed.p95Ms} ms, errors ${pct(e.observed.errorRate)} (resets ${e.observed.resets}, timeouts ${e.observed.timeouts})`
        : e.startedAtSimMinute === undefined
          ? '; did not start'
          : '';
      const injected = e.injected
        ? `; proxy: ${Object.entries(e.injected)
            .filter(([, n]) => n > 0)
            .map(([k, n]) => `${k} ${n}`)
            .join(', ')}`
        : '';
      const hook = e.delivery
        ? `; hook ${['start', 'end']
            .map((p) => {
              const d = e.delivery?.[p as 'start' | 'end'];
              return d ? `${p} ${d.ok ? d.status : `failed (${d.status ?? d.error})`}` : undefined;
            })
            .filter(Boolean)
            .join(', ')}`
        : '';
      lines.push(`  ${window}  ${e.type} (${e.kind})${params}${seen}${injected}${hook}`);
    }
    lines.push(
      `  outside events: ${r.outside.requests} requests, p95 ${r.outside.p95Ms} ms, errors ${pct(r.outside.errorRate)}`,
    );
  }
  if (Object.keys(r.businessMetrics).length) {
    lines.push(
      '',
      `Target metrics at the end: ${Object.entries(r.businessMetrics)
        .map(([k, v]) => `${k}=${num(v)}`)
        .join(', ')}`,
    );
  }
  for (const n of r.notes) lines.push(`Note: ${n}`);
  lines.push(
    '',
    `Reproduce: the same spec with seed ${r.seed} gives schedule ${r.scheduleDigest ?? '(digest not computed)'}`,
  );
  return `${lines.join('\n')}\n`;
};
