// Each fault the proxy injects changes what agents observe by about the configured amount: the
// runner against a real HTTP server on loopback, one fault event after another, each compared with
// the traffic outside every event. Also: the runner follows the schedule, and invariants gate.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { ChaosScenarioSpec } from '../../crds/chaos-scenario.ts';
import { resolveScenario } from './resolve.ts';
import { type RunReport, runScenario } from './runner.ts';
import { scheduleDigest } from './schedule.ts';

const PAYLOAD = Buffer.alloc(4096, 'x');

describe('fault injection through the proxy', () => {
  let server: Server;
  let url = '';
  let report: RunReport;
  let arrivals = 0;

  before(async () => {
    server = createServer((req, res) => {
      req.resume();
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': PAYLOAD.length });
      res.end(PAYLOAD);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    // 80 sim minutes in 8 s: one sim minute is 100 ms; each event lasts 0.8 s, the last ends 1.5 s
    // before the run does (requests it holds time out after 0.6 s).
    const spec = {
      target: { url, allowExternal: false },
      seed: 7,
      state: 'Active',
      duration: { realSeconds: 8, simHours: 80 / 60 },
      policies: { customerSpawnRate: 12, maxConcurrentAgents: 400, tickMs: 50, requestTimeoutMs: 600 },
      journeys: [
        {
          name: 'fetch',
          agent: 'customer',
          weight: 1,
          steps: [1, 2, 3].map((i) => ({
            name: `get${i}`,
            method: 'GET',
            path: '/payload',
            thinkTimeMs: 20,
          })),
        },
      ],
      events: [
        { type: 'LATENCY', triggerAt: 5, duration: 8, parameters: { latencyMs: 150, jitterMs: 20 } },
        { type: 'ERRORS', triggerAt: 18, duration: 8, parameters: { rate: 0.3, status: 503 } },
        { type: 'RESET_PEER', triggerAt: 31, duration: 8, parameters: { toxicity: 0.2 } },
        { type: 'BANDWIDTH', triggerAt: 44, duration: 8, parameters: { rateKBps: 16 } },
        { type: 'TIMEOUT', triggerAt: 57, duration: 8, parameters: { toxicity: 0.2 } },
      ],
      invariants: [{ name: 'api_error_rate', metric: 'error_rate', op: '<', threshold: 0.01 }],
    } as unknown as ChaosScenarioSpec;
    const resolved = resolveScenario(spec);
    assert.ok(resolved.ok, JSON.stringify(!resolved.ok && resolved.errors));
    arrivals = scheduleDigest(resolved.scenario).arrivals;
    report = await runScenario(
      { scenario: resolved.scenario, runId: 'faults', scenarioName: 'test/faults', target: { url } },
      { signal: new AbortController().signal },
    );
  });
  after(() => new Promise<void>((r) => server.close(() => r())));

  const event = (type: string) => {
    const e = report.events.find((x) => x.type === type);
    assert.ok(e?.observed, `${type} observed`);
    return { observed: e.observed, injected: e.injected! };
  };

  it('outside events, the target answers fast and without errors', () => {
    assert.ok(report.outside.requests > 300, `outside requests ${report.outside.requests}`);
    assert.ok(report.outside.errorRate < 0.05, `outside error rate ${report.outside.errorRate}`);
    assert.ok(report.outside.p50Ms < 30, `outside p50 ${report.outside.p50Ms}`);
  });

  it('LATENCY adds about latencyMs', () => {
    const { observed } = event('LATENCY');
    const added = observed.p50Ms - report.outside.p50Ms;
    // The configured delay, plus what a loaded machine adds to timers.
    assert.ok(added > 120 && added < 300, `p50 up by ${added} ms (want about 150)`);
  });

  it('ERRORS answers the configured status at about the configured rate', () => {
    const { observed, injected } = event('ERRORS');
    assert.ok(
      observed.errorRate > 0.2 && observed.errorRate < 0.4,
      `error rate ${observed.errorRate} (want ~0.3)`,
    );
    assert.ok(injected.errors / injected.requests > 0.22 && injected.errors / injected.requests < 0.38);
  });

  it('RESET_PEER resets connections, and agents count the resets', () => {
    const { observed, injected } = event('RESET_PEER');
    assert.ok(injected.resets > 0);
    assert.ok(
      report.totals.resets >= injected.resets * 0.8,
      `${report.totals.resets} resets seen of ${injected.resets}`,
    );
    const rate = observed.resets / observed.requests;
    assert.ok(rate > 0.1 && rate < 0.3, `reset rate ${rate} (want ~0.2)`);
  });

  it('BANDWIDTH slows the answer to about size / rate', () => {
    const { observed } = event('BANDWIDTH');
    // 4 KiB at 16 KiB/s: about 250 ms.
    assert.ok(observed.p50Ms > 180 && observed.p50Ms < 900, `p50 ${observed.p50Ms} ms (want ~250)`);
  });

  it('TIMEOUT holds requests until the agents time out', () => {
    const { injected } = event('TIMEOUT');
    assert.ok(injected.timeouts > 0);
    assert.ok(
      report.totals.timeouts >= injected.timeouts * 0.8,
      `${report.totals.timeouts} of ${injected.timeouts}`,
    );
  });

  it('follows the schedule, and the error-rate gate fails the run with violations inside the event windows', () => {
    assert.equal(report.agentsSpawned + report.agentsThrottled, arrivals);
    assert.equal(report.verdict, 'Failed');
    const continuous = report.violations.filter((v) => v.at === 'continuous');
    assert.ok(continuous.length >= 2);
    const windows = report.events;
    for (const v of continuous)
      assert.ok(
        // A request held to the end of a window times out 0.6 s (6 sim minutes) later.
        windows.some((e) => v.atSimMinute >= e.triggerAt && v.atSimMinute <= e.triggerAt + e.duration + 7),
        `violation at ${v.atSimMinute} outside the event windows`,
      );
  });
});
