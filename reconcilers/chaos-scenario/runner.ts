// One chaos run. A simulated clock maps the scenario's sim hours onto its real seconds in ticks of
// tickMs, scheduled against absolute times (a late tick does not push the next one; its lateness
// is the tick drift). At each tick: events start and end (faults set on the fault proxy, traffic
// bursts already in the schedule, application events delivered to the chaos hook), the agents the
// schedule brings are spawned (up to maxConcurrentAgents), and the tick's figures join the window
// the invariants are judged on. The agents run on a worker thread (agent-worker.ts) by default, so
// that their sockets, callbacks and garbage never delay a tick. The signal is the kill switch: it
// resets every request in flight and wakes every sleeping agent at once, so nothing is sent after it.
import { totalmem } from 'node:os';
import { workerAgents } from './agent-worker.ts';
import { type AgentPool, localAgents, planJourneys, Sleeper } from './agents.ts';
import { MetricsPoller } from './business-metrics.ts';
import { type ActiveFault, FaultProxy, type InjectedCounts } from './fault-proxy.ts';
import {
  type InvariantResult,
  InvariantTracker,
  type MetricValues,
  runFailed,
  type Violation,
} from './invariants.ts';
import {
  formatSimTime,
  isActive,
  type ResolvedEvent,
  type ResolvedScenario,
  simMinutesPerMs,
  totalSimMinutes,
  totalTicks,
} from './model.ts';
import { BUILTIN_METRICS } from './presets.ts';
import { type Arrival, arrivals } from './schedule.ts';
import { type Figures, LoadStats, type Outcome, quantile } from './stats.ts';
import { type Delivery, deliverHook } from './webhook.ts';

export interface RunTarget {
  /** Where the agents go (the fault proxy is put in front of it when the scenario has faults). */
  url: string;
  hookUrl?: string;
  hookSecret?: string;
  metricsUrl?: string;
}

export interface RunInput {
  scenario: ResolvedScenario;
  runId: string;
  /** `namespace/name`, for hook payloads. */
  scenarioName: string;
  target: RunTarget;
  scheduleDigest?: string;
  notes?: string[];
}

export interface Notice {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
}

export interface LiveProgress {
  simMinutes: number;
  totalSimMinutes: number;
  percent: number;
  realSeconds: number;
  agents: number;
  agentsSpawned: number;
  agentsThrottled: number;
  requests: number;
  errors: number;
  errorRate: number;
  p95Ms?: number;
  violations: number;
  /** Every notice so far (the reconciler records the new ones as Events). */
  notices: Notice[];
}

export interface TimelineRow {
  tick: number;
  simMinute: number;
  realMs: number;
  driftMs: number;
  agents: number;
  spawned: number;
  requests: number;
  errors: number;
  resets: number;
  timeouts: number;
  /** Over the evaluation window. */
  p50Ms: number;
  p95Ms: number;
  p99Ms: number;
  errorRate: number;
  rps: number;
  memoryUsage: number;
  events: string[];
  business?: Record<string, number>;
}

export interface EventReport extends ResolvedEvent {
  label: string;
  startedAtSimMinute?: number;
  endedAtSimMinute?: number;
  /** What the agents saw while the event was active. */
  observed?: Figures;
  /** Faults: what the proxy did. */
  injected?: InjectedCounts;
  /** Application events: the hook deliveries. */
  delivery?: { start?: Delivery; end?: Delivery };
}

export type Verdict = 'Passed' | 'Failed' | 'Stopped';

export interface RunReport {
  runId: string;
  scenario: string;
  preset?: string;
  seed: number;
  scheduleDigest?: string;
  target: string;
  verdict: Verdict;
  /** The invariant whose sustained breach aborted the run. */
  aborted?: string;
  startedAt: string;
  completedAt: string;
  realSeconds: number;
  simMinutes: number;
  totalSimMinutes: number;
  tickMs: number;
  ticks: number;
  totals: Figures;
  /** Outside every event window. */
  outside: Figures;
  throughputRps: number;
  tickDriftP99Ms: number;
  tickDriftMaxMs: number;
  agentsSpawned: number;
  agentsThrottled: number;
  agentsCompleted: number;
  memoryPeakUsage: number;
  businessMetrics: Record<string, number>;
  invariants: InvariantResult[];
  violations: Violation[];
  events: EventReport[];
  notes: string[];
  /** What happened, in order (the Events the reconciler records). */
  notices: Notice[];
  timeline: TimelineRow[];
}

export interface RunMetricsSink {
  tick(t: {
    requests: number;
    errors: number;
    agents: number;
    spawned: number;
    p95Ms: number;
    errorRate: number;
    driftMs: number;
  }): void;
  violation(v: Violation): void;
}

export interface RunHooks {
  signal: AbortSignal;
  /** Where the agents run: a worker thread (default), so that they never delay the clock, or this thread. */
  agents?: 'worker' | 'thread';
  onProgress?: (p: LiveProgress) => void;
  metrics?: RunMetricsSink;
}

/** Request-derived invariants need this many requests in the window before they are judged. */
export const MIN_WINDOW_REQUESTS = 10;
const MAX_NOTICES = 200;

const memoryLimit = (): number => {
  const constrained = process.constrainedMemory?.() ?? 0;
  return constrained > 0 && constrained < totalmem() ? constrained : totalmem();
};

export const eventLabel = (e: ResolvedEvent): string => `${e.type}@${formatSimTime(e.triggerAt)}`;

const describeParameters = (p: Record<string, unknown>): string =>
  Object.entries(p)
    .map(([k, v]) => `${k}=${typeof v === 'object' ? JSON.stringify(v) : String(v)}`)
    .join(', ');

export const runScenario = async (input: RunInput, hooks: RunHooks): Promise<RunReport> => {
  const s = input.scenario;
  const { runId } = input;
  const startedAt = new Date().toISOString();
  const perMs = simMinutesPerMs(s);
  const totalSim = totalSimMinutes(s);
  const ticks = totalTicks(s);
  const tickSim = s.tickMs * perMs;
  const notices: Notice[] = [];
  const notify = (n: Notice) => {
    if (notices.length < MAX_NOTICES) notices.push(n);
  };

  const hasFaults = s.events.some((e) => e.kind === 'fault');
  const proxy = hasFaults ? new FaultProxy(input.target.url, s.seed) : undefined;
  const agentBase = proxy ? await proxy.listen() : input.target.url;
  const stats = new LoadStats(s.windowTicks);
  const tracker = new InvariantTracker(s.invariants, { seed: s.seed, runId });
  const sleeper = new Sleeper();
  const internal = new AbortController();
  const needsBusiness = s.invariants.some((i) => !BUILTIN_METRICS.has(i.metric));
  const poller =
    needsBusiness && input.target.metricsUrl
      ? new MetricsPoller(input.target.metricsUrl, Math.min(5000, Math.max(250, s.tickMs)), internal.signal)
      : undefined;
  if (needsBusiness && !input.target.metricsUrl)
    notify({
      type: 'Warning',
      reason: 'NoMetricsEndpoint',
      message: 'business invariants, but no metrics URL',
    });

  const agentOptions = {
    base: agentBase,
    timeoutMs: s.requestTimeoutMs,
    maxAgents: s.policies.maxConcurrentAgents,
    plans: planJourneys(s.journeys),
    runId,
    seed: s.seed,
  };
  const record = (latencyUs: number, outcome: Outcome) => stats.record(latencyUs, outcome);
  const pool: AgentPool =
    (hooks.agents ?? 'worker') === 'worker'
      ? await workerAgents(agentOptions, record)
      : localAgents(agentOptions, record);
  const counts = pool.counts;

  let stopping: 'completed' | 'aborted' | 'killed' | undefined;
  let aborted: string | undefined;

  const kill = () => {
    if (stopping && stopping !== 'completed') return;
    stopping = 'killed';
    pool.abort();
    sleeper.cancelAll();
  };
  if (hooks.signal.aborted) kill();
  hooks.signal.addEventListener('abort', kill, { once: true });

  // Events: what is active, the proxy's faults, the hooks.
  const reports: EventReport[] = s.events.map((e) => ({ ...e, label: eventLabel(e) }));
  const started = new Set<number>();
  const ended = new Set<number>();
  const deliveries: Promise<void>[] = [];
  const hook = (r: EventReport, phase: 'start' | 'end', simMinute: number) => {
    if (r.kind !== 'application') return;
    if (!input.target.hookUrl) {
      if (phase === 'start')
        notify({
          type: 'Warning',
          reason: 'HookFailed',
          message: `${r.label}: no chaos hook URL to deliver it to`,
        });
      return;
    }
    const p = deliverHook(
      input.target.hookUrl,
      input.target.hookSecret,
      {
        type: r.type,
        phase,
        parameters: r.parameters,
        triggerAt: r.triggerAt,
        duration: r.duration,
        simMinute,
        runId,
        seed: s.seed,
        scenario: input.scenarioName,
      },
      phase === 'start' ? internal.signal : undefined,
    ).then((d) => {
      r.delivery = { ...r.delivery, [phase]: d };
      if (!d.ok)
        notify({
          type: 'Warning',
          reason: 'HookFailed',
          message: `${r.label} ${phase}: the chaos hook answered ${d.status ?? d.error} after ${d.attempts} attempts`,
        });
    });
    deliveries.push(p);
  };
  const applyFaults = () => {
    if (!proxy) return;
    const faults: ActiveFault[] = reports
      .map((r, i) => ({ r, i }))
      .filter(({ r, i }) => r.kind === 'fault' && started.has(i) && !ended.has(i))
      .map(({ r }) => ({ key: r.label, type: r.type, parameters: r.parameters }));
    proxy.set(faults);
  };
  const activeLabels = (): string[] =>
    reports.filter((_, i) => started.has(i) && !ended.has(i)).map((r) => r.type);
  const endEvent = (i: number, simMinute: number) => {
    const r = reports[i]!;
    ended.add(i);
    r.endedAtSimMinute = Math.round(simMinute * 100) / 100;
    const observed = stats.close(`event:${i}`);
    if (observed) r.observed = observed;
    if (proxy && r.kind === 'fault') r.injected = proxy.counts.get(r.label);
    hook(r, 'end', simMinute);
    notify({
      type: 'Normal',
      reason: 'EventEnded',
      message: `${r.label} ended at sim ${formatSimTime(simMinute)}${observed ? `: ${observed.requests} requests, ${observed.errors} errors, p95 ${observed.p95Ms} ms while it was active` : ''}`,
    });
  };
  const updateEvents = (simMinute: number) => {
    let changed = false;
    reports.forEach((r, i) => {
      if (started.has(i) && !ended.has(i) && !isActive(r, simMinute)) {
        endEvent(i, simMinute);
        changed = true;
      }
    });
    reports.forEach((r, i) => {
      if (!started.has(i) && isActive(r, simMinute)) {
        started.add(i);
        r.startedAtSimMinute = Math.round(simMinute * 100) / 100;
        stats.open(`event:${i}`);
        hook(r, 'start', simMinute);
        notify({
          type: 'Normal',
          reason: 'EventStarted',
          message: `${r.label} started at sim ${formatSimTime(simMinute)} for ${r.duration} sim minutes${Object.keys(r.parameters).length ? ` (${describeParameters(r.parameters)})` : ''}`,
        });
        changed = true;
      }
    });
    if (changed) applyFaults();
    stats.outsideEvents = !reports.some((_, i) => started.has(i) && !ended.has(i));
  };

  // The clock.
  const timeline: TimelineRow[] = [];
  const drifts: number[] = [];
  let memoryPeak = 0;
  let lastWindow: Figures | undefined;
  let lastRead = 0;
  const schedule = arrivals(s);
  let next = schedule.next();
  poller?.start();
  notify({
    type: 'Normal',
    reason: 'Started',
    message: `run ${runId}: seed ${s.seed}, ${formatSimTime(totalSim)} sim time in ${s.realSeconds} s real, ticks of ${s.tickMs} ms, target ${input.target.url}${proxy ? ' through the fault proxy' : ''}`,
  });
  const t0 = performance.now();
  for (let k = 0; k <= ticks; k++) {
    if (k > 0) {
      const due = t0 + k * s.tickMs;
      const wait = due - performance.now();
      if (wait > 0) await sleeper.sleep(wait);
      if (stopping === 'killed') break;
      const drift = Math.max(0, performance.now() - due);
      drifts.push(drift);
      // The tick that just ended.
      const simMinute = Math.min(totalSim, k * tickSim);
      const { tick, window } = stats.closeTick();
      lastWindow = window;
      const windowTicks = Math.min(k, s.windowTicks);
      const rps = window.requests / ((windowTicks * s.tickMs) / 1000);
      const rss = process.memoryUsage.rss();
      const memoryUsage = rss / memoryLimit();
      memoryPeak = Math.max(memoryPeak, memoryUsage);
      const enough = window.requests >= MIN_WINDOW_REQUESTS;
      const during = activeLabels();
      const business = poller ? { ...poller.latest } : undefined;
      const values: MetricValues = {
        p50_latency_ms: enough ? window.p50Ms : undefined,
        p95_latency_ms: enough ? window.p95Ms : undefined,
        p99_latency_ms: enough ? window.p99Ms : undefined,
        max_latency_ms: enough ? window.maxMs : undefined,
        mean_latency_ms: enough ? window.meanMs : undefined,
        error_rate: enough ? window.errorRate : undefined,
        errors: window.errors,
        requests: window.requests,
        resets: window.resets,
        timeouts: window.timeouts,
        throughput_rps: k >= s.windowTicks ? rps : undefined,
        tick_drift_ms: quantile(drifts.slice(-s.windowTicks), 0.99),
        memory_usage: memoryUsage,
        memory_rss_mb: rss / 1048576,
        active_agents: counts.active,
      };
      const observed = tracker.observe({ simMinute, realMs: performance.now() - t0, values, during });
      const opened = [...observed.opened];
      let abort = observed.abort;
      // The target's metrics are judged once per read, at the sim time of the read.
      if (poller && poller.readAt > lastRead) {
        lastRead = poller.readAt;
        const readMs = Math.max(0, lastRead - t0);
        const readSim = Math.min(totalSim, readMs * perMs);
        const own: MetricValues = {};
        for (const [name, v] of Object.entries(poller.latest)) if (!BUILTIN_METRICS.has(name)) own[name] = v;
        const atRead = tracker.observe({
          simMinute: readSim,
          realMs: readMs,
          values: own,
          during: reports.filter((r) => isActive(r, readSim)).map((r) => r.type),
        });
        opened.push(...atRead.opened);
        abort ??= atRead.abort;
      }
      for (const v of opened) {
        hooks.metrics?.violation(v);
        notify({
          type: 'Warning',
          reason: 'InvariantViolated',
          message: `${v.invariant}: ${v.metric} ${round(v.observed)} (want ${v.op} ${v.threshold}) at sim ${v.simTime}${during.length ? ` during ${during.join(', ')}` : ''} [${v.severity}]`,
        });
      }
      timeline.push({
        tick: k,
        simMinute: Math.round(simMinute * 1000) / 1000,
        realMs: Math.round(performance.now() - t0),
        driftMs: Math.round(drift * 1000) / 1000,
        agents: counts.active,
        spawned: counts.spawned,
        requests: tick.requests,
        errors: tick.errors,
        resets: tick.resets,
        timeouts: tick.timeouts,
        p50Ms: window.p50Ms,
        p95Ms: window.p95Ms,
        p99Ms: window.p99Ms,
        errorRate: round(window.errorRate, 4),
        rps: round(rps, 1),
        memoryUsage: round(memoryUsage, 4),
        events: during,
        ...(business && Object.keys(business).length ? { business } : {}),
      });
      hooks.metrics?.tick({
        requests: tick.requests,
        errors: tick.errors,
        agents: counts.active,
        spawned: counts.spawned,
        p95Ms: window.p95Ms,
        errorRate: window.errorRate,
        driftMs: drift,
      });
      if (abort) {
        stopping = 'aborted';
        aborted = abort.name;
        notify({
          type: 'Warning',
          reason: 'Aborted',
          message: `${abort.name} breached for ${abort.breachWindowMs} ms (abortOnFail): the run stops at sim ${formatSimTime(simMinute)}`,
        });
      }
      if (k === ticks || stopping) {
        updateEvents(Number.POSITIVE_INFINITY);
        break;
      }
    }
    // The tick that begins: events, then the arrivals it brings.
    const from = k * tickSim;
    const until = Math.min(totalSim, (k + 1) * tickSim);
    updateEvents(from);
    const due: Arrival[] = [];
    while (!next.done && next.value.atSimMinute < until) {
      due.push(next.value);
      next = schedule.next();
    }
    if (!stopping) pool.spawn(due);
    hooks.onProgress?.(progress(k, from));
  }
  const elapsedMs = performance.now() - t0;
  if (!stopping) stopping = 'completed';
  // Stop the agents: nothing in flight is counted once the run is over.
  pool.abort();
  sleeper.cancelAll();
  await pool.close();
  if (stopping === 'killed') {
    for (const [i] of reports.entries()) if (started.has(i) && !ended.has(i)) endEvent(i, elapsedMs * perMs);
  }
  internal.abort();
  poller?.stop();
  await Promise.allSettled(deliveries);
  await proxy?.close();
  hooks.signal.removeEventListener('abort', kill);

  const simMinutes = Math.min(totalSim, stopping === 'completed' ? totalSim : elapsedMs * perMs);
  const totals = stats.total.figures();
  let business: Record<string, number> = poller ? { ...poller.latest } : {};
  if (poller && stopping !== 'killed') {
    await poller.poll();
    business = { ...poller.latest };
  }
  const throughputRps = totals.requests / Math.max(0.001, elapsedMs / 1000);
  const own: MetricValues = {};
  for (const [name, v] of Object.entries(business)) if (!BUILTIN_METRICS.has(name)) own[name] = v;
  const finalValues: MetricValues = {
    ...own,
    p50_latency_ms: totals.requests ? totals.p50Ms : undefined,
    p95_latency_ms: totals.requests ? totals.p95Ms : undefined,
    p99_latency_ms: totals.requests ? totals.p99Ms : undefined,
    max_latency_ms: totals.requests ? totals.maxMs : undefined,
    mean_latency_ms: totals.requests ? totals.meanMs : undefined,
    error_rate: totals.requests ? totals.errorRate : undefined,
    errors: totals.errors,
    requests: totals.requests,
    resets: totals.resets,
    timeouts: totals.timeouts,
    throughput_rps: throughputRps,
    tick_drift_ms: quantile(drifts, 0.99),
    memory_usage: memoryPeak,
    memory_rss_mb: process.memoryUsage.rss() / 1048576,
    active_agents: 0,
  };
  const { results, opened } = tracker.finish({
    simMinute: simMinutes,
    realMs: elapsedMs,
    values: finalValues,
    during: [],
  });
  if (stopping !== 'killed')
    for (const v of opened) {
      hooks.metrics?.violation(v);
      notify({
        type: 'Warning',
        reason: 'InvariantViolated',
        message: `${v.invariant}: ${v.metric} ${round(v.observed)} over the run (want ${v.op} ${v.threshold}) [${v.severity}]`,
      });
    }
  const verdict: Verdict =
    stopping === 'killed' ? 'Stopped' : stopping === 'aborted' || runFailed(results) ? 'Failed' : 'Passed';
  return {
    runId,
    scenario: input.scenarioName,
    ...(s.preset ? { preset: s.preset } : {}),
    seed: s.seed,
    ...(input.scheduleDigest ? { scheduleDigest: input.scheduleDigest } : {}),
    target: input.target.url,
    verdict,
    ...(aborted ? { aborted } : {}),
    startedAt,
    completedAt: new Date().toISOString(),
    realSeconds: round(elapsedMs / 1000, 3),
    simMinutes: round(simMinutes, 2),
    totalSimMinutes: totalSim,
    tickMs: s.tickMs,
    ticks,
    totals,
    outside: stats.outside.figures(),
    throughputRps: round(throughputRps, 2),
    tickDriftP99Ms: round(quantile(drifts, 0.99), 3),
    tickDriftMaxMs: round(drifts.length ? Math.max(...drifts) : 0, 3),
    agentsSpawned: counts.spawned,
    agentsThrottled: counts.throttled,
    agentsCompleted: counts.completed,
    memoryPeakUsage: round(memoryPeak, 4),
    businessMetrics: business,
    invariants:
      stopping === 'killed'
        ? results.map((r) => ({ ...r, verdict: r.verdict === 'Fail' ? 'Fail' : 'NoData' }))
        : results,
    violations: tracker.violations,
    events: reports,
    notes: input.notes ?? [],
    notices,
    timeline,
  };

  function progress(k: number, simMinute: number): LiveProgress {
    const t = stats.total;
    return {
      simMinutes: round(Math.min(totalSim, simMinute), 2),
      totalSimMinutes: totalSim,
      percent: Math.min(100, Math.floor((k / ticks) * 100)),
      realSeconds: round((performance.now() - t0) / 1000, 1),
      agents: counts.active,
      agentsSpawned: counts.spawned,
      agentsThrottled: counts.throttled,
      requests: t.requests,
      errors: t.errors,
      errorRate: t.requests ? round(t.errors / t.requests, 4) : 0,
      ...(lastWindow?.requests ? { p95Ms: lastWindow.p95Ms } : {}),
      violations: tracker.violations.length,
      notices,
    };
  }
};

export const round = (x: number, digits = 3): number => {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
};
