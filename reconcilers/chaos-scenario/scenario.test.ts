// The pure parts of a chaos run: preset merging and scaling, the seeded schedule and its digest,
// invariants as gates, templates, metrics parsing, the target rule, the summary and the chart.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ChaosScenarioSpec } from '../../crds/chaos-scenario.ts';
import { parseMetrics } from './business-metrics.ts';
import { renderChart } from './chart.ts';
import { holds, InvariantTracker, runFailed } from './invariants.ts';
import type { ResolvedInvariant, ResolvedScenario } from './model.ts';
import { PRESETS } from './presets.ts';
import { resolveScenario } from './resolve.ts';
import type { RunReport } from './runner.ts';
import { arrivals, scheduleDigest } from './schedule.ts';
import { renderSummary } from './summary.ts';
import { checkTargetUrl, resolveEndpoint } from './target.ts';
import { fillPath, fillValue, readsLast } from './template.ts';

const spec = (extra: Record<string, unknown> = {}) =>
  ({
    target: { url: 'http://127.0.0.1:1', allowExternal: false },
    seed: 42,
    state: 'Active',
    ...extra,
  }) as unknown as ChaosScenarioSpec;

const resolved = (extra: Record<string, unknown> = {}): ResolvedScenario => {
  const r = resolveScenario(spec(extra));
  assert.ok(r.ok, JSON.stringify(!r.ok && r.errors));
  return r.scenario;
};

describe('resolveScenario', () => {
  it('takes the seed preset as written', () => {
    const s = resolved({ preset: 'disaster-mix' });
    assert.equal(s.realSeconds, 216);
    assert.equal(s.simHours, 6);
    assert.equal(s.tickMs, 2000);
    assert.equal(s.policies.customerSpawnRate, 0.8);
    assert.equal(s.policies.maxConcurrentAgents, 150);
    assert.deepEqual(
      s.events.map((e) => [e.type, e.kind, e.triggerAt, e.duration]),
      [
        ['CACHE_INVALIDATION_STORM', 'application', 30, 30],
        ['PAUSE_MV_REFRESH', 'application', 90, 60],
        ['RLS_MISCONFIG', 'application', 180, 30],
      ],
    );
    assert.deepEqual(
      s.invariants.map((i) => i.name),
      PRESETS['disaster-mix']!.invariants,
    );
    const p95 = resolved({ preset: 'baseline' }).invariants.find((i) => i.name === 'api_p95_response_time');
    assert.deepEqual(
      [p95?.metric, p95?.op, p95?.threshold, p95?.severity],
      ['p95_latency_ms', '<', 500, 'critical'],
    );
  });

  it('scales the preset: events with simHours, the tick with realSeconds', () => {
    const s = resolved({ preset: 'disaster-mix', duration: { realSeconds: 21.6, simHours: 3 } });
    assert.deepEqual(
      s.events.map((e) => [e.triggerAt, e.duration]),
      [
        [15, 15],
        [45, 30],
        [90, 15],
      ],
    );
    assert.equal(s.tickMs, 200);
    // Only real time shorter: the same sim schedule, run faster.
    const faster = resolved({ preset: 'growth-curve', duration: { realSeconds: 60 } });
    assert.equal(faster.simHours, 48);
    assert.equal(faster.events[0]!.triggerAt, 360);
    assert.equal(faster.tickMs, 50);
  });

  it('merges overrides: policies by field, invariants by name (field by field), events and journeys replaced', () => {
    const s = resolved({
      preset: 'baseline',
      policies: { maxConcurrentAgents: 7, tickMs: 123 },
      invariants: [
        { name: 'api_p95_response_time', threshold: 250 },
        { name: 'cache_hit_rate', disabled: true },
        { name: 'custom', metric: 'queue_depth', op: '<=', threshold: 10, severity: 'warning' },
        { name: 'api_error_rate', abortOnFail: true, breachWindow: '3s' },
      ],
      events: [{ type: 'LATENCY', triggerAt: 5, duration: 5, parameters: { latencyMs: 10 } }],
    });
    assert.equal(s.policies.maxConcurrentAgents, 7);
    assert.equal(s.policies.customerSpawnRate, 0.3);
    assert.equal(s.tickMs, 123);
    const byName = new Map(s.invariants.map((i) => [i.name, i]));
    assert.equal(byName.get('api_p95_response_time')?.threshold, 250);
    assert.equal(byName.get('api_p95_response_time')?.metric, 'p95_latency_ms');
    assert.equal(byName.has('cache_hit_rate'), false);
    assert.equal(byName.get('custom')?.severity, 'warning');
    assert.equal(byName.get('api_error_rate')?.breachWindowMs, 3000);
    assert.equal(byName.get('api_error_rate')?.abortOnFail, true);
    assert.deepEqual(
      s.events.map((e) => [e.type, e.kind]),
      [['LATENCY', 'fault']],
    );
  });

  it('names the field of every mistake', () => {
    const r = resolveScenario(
      spec({
        duration: { realSeconds: 10, simHours: 1 },
        events: [
          { type: 'LATENCY', triggerAt: 90, duration: 5, parameters: {} },
          { type: 'ERRORS', triggerAt: 1, duration: 5, parameters: { rate: 2 } },
        ],
        invariants: [
          { name: 'mine', op: '<', threshold: 1 },
          { name: 'x', metric: 'm', op: '<', threshold: 1, breachWindow: '5 s' },
        ],
      }),
    );
    assert.equal(r.ok, false);
    const fields = !r.ok ? r.errors.map((e) => e.field) : [];
    assert.deepEqual(fields.sort(), [
      'spec.events[0].parameters.latencyMs',
      'spec.events[0].triggerAt',
      'spec.events[1].parameters.rate',
      'spec.invariants[0].metric',
      'spec.invariants[1].breachWindow',
    ]);
  });
});

describe('schedule', () => {
  const base = { preset: 'growth-curve', duration: { realSeconds: 60 } };

  it('the same seed gives the same schedule and digest; another seed another', () => {
    const a = scheduleDigest(resolved(base));
    const b = scheduleDigest(resolved(base));
    const c = scheduleDigest(resolved({ ...base, seed: 43 }));
    assert.equal(a.digest, b.digest);
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
    assert.notEqual(a.digest, c.digest);
    assert.deepEqual([...arrivals(resolved(base))].slice(0, 50), [...arrivals(resolved(base))].slice(0, 50));
  });

  it('draws Poisson arrivals at the policy rate, multiplied in RATE_LIMIT_BURST windows', () => {
    const s = resolved(base);
    const all = [...arrivals(s)];
    const inWindow = (from: number, to: number) =>
      all.filter((a) => a.atSimMinute >= from && a.atSimMinute < to).length;
    // 0.6 per sim minute: 36 an hour outside bursts, 72 / 90 / 108 in the three bursts.
    const quiet = inWindow(0, 360) / 6;
    assert.ok(quiet > 28 && quiet < 44, `quiet hour ${quiet}`);
    assert.ok(inWindow(1080, 1140) > 80, `third burst ${inWindow(1080, 1140)}`);
    assert.ok(all.every((a, i) => i === 0 || a.atSimMinute >= all[i - 1]!.atSimMinute));
    assert.ok(all.every((a) => a.agent === 'customer'));
  });

  it('takes choice steps with the policy chances', () => {
    const s = resolved({ ...base, policies: { cancelChance: 0.5, rescheduleChance: 0 } });
    const book = s.journeys.findIndex((j) => j.name === 'book');
    const cancelStep = s.journeys[book]!.steps.findIndex((st) => st.choice === 'cancel');
    const reschedule = s.journeys[book]!.steps.findIndex((st) => st.choice === 'reschedule');
    const all = [...arrivals(s)].filter((a) => a.journey === book);
    const cancelled = all.filter((a) => a.steps[cancelStep]).length / all.length;
    assert.ok(cancelled > 0.4 && cancelled < 0.6, `cancelled ${cancelled}`);
    assert.ok(all.every((a) => !a.steps[reschedule]));
  });
});

describe('invariants', () => {
  const inv = (extra: Partial<ResolvedInvariant> = {}): ResolvedInvariant => ({
    name: 'err',
    metric: 'error_rate',
    op: '<',
    threshold: 0.01,
    severity: 'critical',
    abortOnFail: false,
    breachWindowMs: 1000,
    ...extra,
  });

  it('compares with each operator', () => {
    assert.ok(holds('<', 1, 2) && !holds('<', 2, 2) && holds('<=', 2, 2) && holds('>', 3, 2));
    assert.ok(holds('>=', 2, 2) && holds('==', 0, 0) && holds('!=', 1, 0) && !holds('==', 1, 0));
  });

  it('opens one violation per breach, at its first sim minute, keeping the worst value', () => {
    const t = new InvariantTracker([inv()], { seed: 9, runId: 'r' });
    const at = (simMinute: number, v: number | undefined, realMs = simMinute * 100) =>
      t.observe({ simMinute, realMs, values: { error_rate: v }, during: v && v > 0.01 ? ['ERRORS'] : [] });
    at(1, 0);
    assert.equal(at(2, 0.2).opened.length, 1);
    assert.equal(at(3, 0.5).opened.length, 0);
    at(4, undefined);
    at(5, 0);
    assert.equal(at(6, 0.1).opened.length, 1);
    assert.equal(t.violations.length, 2);
    assert.deepEqual(
      { ...t.violations[0] },
      {
        invariant: 'err',
        metric: 'error_rate',
        op: '<',
        threshold: 0.01,
        observed: 0.5,
        severity: 'critical',
        atSimMinute: 2,
        simTime: '0:02',
        during: ['ERRORS'],
        at: 'continuous',
        seed: 9,
        runId: 'r',
      },
    );
  });

  it('aborts only after a breach has lasted its window', () => {
    const t = new InvariantTracker([inv({ abortOnFail: true, breachWindowMs: 500 })], {
      seed: 1,
      runId: 'r',
    });
    assert.equal(
      t.observe({ simMinute: 1, realMs: 1000, values: { error_rate: 1 }, during: [] }).abort,
      undefined,
    );
    assert.equal(
      t.observe({ simMinute: 2, realMs: 1400, values: { error_rate: 1 }, during: [] }).abort,
      undefined,
    );
    assert.equal(
      t.observe({ simMinute: 3, realMs: 1450, values: { error_rate: 0 }, during: [] }).abort,
      undefined,
    );
    assert.equal(
      t.observe({ simMinute: 4, realMs: 1500, values: { error_rate: 1 }, during: [] }).abort,
      undefined,
    );
    assert.equal(
      t.observe({ simMinute: 5, realMs: 2000, values: { error_rate: 1 }, during: [] }).abort?.name,
      'err',
    );
  });

  it('judges the end: a breach on the way fails; critical without data fails; warnings never fail', () => {
    const t = new InvariantTracker(
      [
        inv(),
        inv({ name: 'p95', metric: 'p95_latency_ms', op: '<', threshold: 100 }),
        inv({ name: 'w', metric: 'hit', op: '>=', threshold: 0.5, severity: 'warning' }),
      ],
      { seed: 1, runId: 'r' },
    );
    t.observe({ simMinute: 1, realMs: 1, values: { error_rate: 0.5 }, during: [] });
    const { results } = t.finish({
      simMinute: 10,
      realMs: 10,
      values: { error_rate: 0.001, hit: 0.1 },
      during: [],
    });
    assert.deepEqual(
      results.map((r) => [r.name, r.verdict]),
      [
        ['err', 'Fail'],
        ['p95', 'NoData'],
        ['w', 'Fail'],
      ],
    );
    assert.equal(runFailed(results), true);
    assert.equal(runFailed(results.filter((r) => r.severity === 'warning')), false);
  });
});

describe('templates', () => {
  const vars = {
    index: 7,
    kind: 'customer',
    draw: 5,
    runId: 'run1',
    seed: 42,
    last: { id: 12, ids: [1, 2] },
  };
  it('fills paths (encoded) and bodies (typed when whole)', () => {
    assert.equal(
      fillPath('/api/bookings/{{last.id}}/x?who={{agent.email}}', vars),
      '/api/bookings/12/x?who=synthetic%2Brun1-7%40example.com',
    );
    assert.deepEqual(
      fillValue({ ids: '{{last.ids}}', who: 'agent {{agent.id}}', pick: '{{pick a|b|c}}', n: 3 }, vars),
      {
        ids: [1, 2],
        who: 'agent a7',
        pick: 'c',
        n: 3,
      },
    );
    assert.equal(readsLast({ a: ['{{ last.id }}'] }), true);
    assert.equal(readsLast('/x/{{agent.id}}'), false);
  });
});

describe('target and metrics', () => {
  it('allows loopback and in-cluster names only, unless allowExternal', () => {
    for (const ok of [
      'http://127.0.0.1:8080',
      'http://localhost/',
      'http://[::1]:80',
      'http://booking',
      'https://web.default.svc',
      'http://a.b.svc.cluster.local:80',
    ])
      assert.equal(checkTargetUrl(ok, false).ok, true, ok);
    for (const bad of ['http://example.com', 'http://10.0.0.1', 'http://8.8.8.8', 'ftp://127.0.0.1'])
      assert.equal(checkTargetUrl(bad, false).ok, false, bad);
    assert.equal(checkTargetUrl('http://example.com', true).ok, true);
    assert.deepEqual(resolveEndpoint(undefined, '/api/chaos', 'http://127.0.0.1:9', false), {
      ok: true,
      url: 'http://127.0.0.1:9/api/chaos',
    });
    assert.equal(resolveEndpoint('http://example.com/hook', '/x', 'http://127.0.0.1:9', false).ok, false);
  });

  it('reads JSON and Prometheus metrics', () => {
    assert.deepEqual(parseMetrics('{"a":1,"b":{"c":0.5},"d":"x","e":true}', 'application/json'), {
      a: 1,
      'b.c': 0.5,
      e: 1,
    });
    assert.deepEqual(parseMetrics('# HELP x\nhits_total 10\nlat{q="0.95"} 0.2\nlat{q="0.99"} 0.4\n'), {
      hits_total: 10,
      'lat{q="0.95"}': 0.2,
      lat: 0.2,
      'lat{q="0.99"}': 0.4,
    });
  });
});

describe('summary and chart', () => {
  const report = (): RunReport => {
    const figures = {
      requests: 100,
      errors: 5,
      resets: 1,
      timeouts: 0,
      errorRate: 0.05,
      p50Ms: 2,
      p95Ms: 9,
      p99Ms: 20,
      maxMs: 30,
      meanMs: 3,
    };
    return {
      runId: 'r1',
      scenario: 'default/x',
      preset: 'disaster-mix',
      seed: 42,
      scheduleDigest: 'sha256:ab',
      target: 'http://127.0.0.1:1',
      verdict: 'Failed',
      startedAt: '2026-01-01T00:00:00.000Z',
      completedAt: '2026-01-01T00:00:10.000Z',
      realSeconds: 10,
      simMinutes: 360,
      totalSimMinutes: 360,
      tickMs: 100,
      ticks: 100,
      totals: figures,
      outside: figures,
      throughputRps: 10,
      tickDriftP99Ms: 1,
      tickDriftMaxMs: 2,
      agentsSpawned: 20,
      agentsThrottled: 0,
      agentsCompleted: 18,
      memoryPeakUsage: 0.01,
      businessMetrics: { cache_hit_rate: 0.9 },
      invariants: [
        {
          name: 'api_error_rate',
          metric: 'error_rate',
          op: '<',
          threshold: 0.01,
          severity: 'critical',
          value: 0.05,
          verdict: 'Fail',
        },
      ],
      violations: [
        {
          invariant: 'api_error_rate',
          metric: 'error_rate',
          op: '<',
          threshold: 0.01,
          observed: 0.3,
          severity: 'critical',
          atSimMinute: 185,
          simTime: '3:05',
          during: ['RLS_MISCONFIG'],
          at: 'continuous',
          seed: 42,
          runId: 'r1',
        },
      ],
      events: [
        {
          type: 'RLS_MISCONFIG',
          kind: 'application',
          triggerAt: 180,
          duration: 30,
          parameters: { misconfigType: 'admin_access' },
          label: 'RLS_MISCONFIG@3:00',
          observed: figures,
        },
      ],
      notes: [],
      notices: [],
      timeline: Array.from({ length: 100 }, (_, i) => ({
        tick: i + 1,
        simMinute: (i + 1) * 3.6,
        realMs: (i + 1) * 100,
        driftMs: 0.5,
        agents: 3,
        spawned: i,
        requests: 1,
        errors: 0,
        resets: 0,
        timeouts: 0,
        p50Ms: 2,
        p95Ms: 9,
        p99Ms: 20,
        errorRate: i > 50 && i < 58 ? 0.3 : 0,
        rps: 10,
        memoryUsage: 0.01,
        events: [],
      })),
    };
  };

  it('summarises verdict, invariants, violations with sim times, events and the seed to reproduce', () => {
    const text = renderSummary(report());
    assert.match(text, /^ChaosScenario default\/x \(preset disaster-mix\): FAILED/);
    assert.match(text, /FAIL\s+api_error_rate\s+error_rate < 0.01: 0.05 \(5%\)\s+\[critical\]/);
    assert.match(
      text,
      /3:05\s+api_error_rate: error_rate 0.3 \(30%\), want < 0.01\s+\[critical\] during RLS_MISCONFIG/,
    );
    assert.match(text, /3:00–3:30\s+RLS_MISCONFIG \(application\)/);
    assert.match(text, /seed 42 gives schedule sha256:ab/);
  });

  it('draws a self-contained SVG with the event windows and the violations', () => {
    const svg = renderChart(report());
    assert.match(svg, /^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    assert.match(svg, /<\/svg>\n$/);
    assert.match(svg, />RLS_MISCONFIG<\/text>/);
    assert.equal((svg.match(/<path /g) ?? []).length >= 5, true);
    assert.match(svg, /api_error_rate: error_rate 0.3 \(want &lt; 0.01\) at 3:05/);
    assert.doesNotMatch(svg, /NaN|undefined/);
  });
});
