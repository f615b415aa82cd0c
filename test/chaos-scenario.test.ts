// ChaosScenario end to end: the embedded API server, the ChaosScenario reconciler as the controller
// runs it, the demo booking app (examples/app) as real processes behind Sandboxes, and the CI gate
// as a pipeline runs it: `simops chaos run FILE` with its exit code.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { type Manager, startManager } from '../controller/runtime/manager.ts';
import type { ChaosScenarioStatus } from '../crds/chaos-scenario.ts';
import type { Condition } from '../crds/common.ts';
import { chaosScenarioReconciler } from '../reconcilers/chaos-scenario/reconciler.ts';
import { type DemoApp, startDemoApp } from './helpers/demo-app.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';
import { tempDir } from './helpers/tmp.ts';

const CHAOS = simopsKind('ChaosScenario');
const SANDBOX = simopsKind('Sandbox');
const ROOT = join(fileURLToPath(new URL('.', import.meta.url)), '..');
/** A target that counts the requests it gets (and when the last came); GET /__count tells. */
const COUNTING_SERVER = `
const http = require('node:http');
let count = 0, last = 0;
const server = http.createServer((req, res) => {
  if (req.url === '/__count') return res.end(JSON.stringify({ count, last }));
  count++; last = Date.now(); req.resume(); res.end('ok');
});
server.listen(0, '127.0.0.1', () => console.log('http://127.0.0.1:' + server.address().port));
`;

type Status = ChaosScenarioStatus & { conditions?: Condition[]; observedGeneration?: number };

const simops = (args: string[]): Promise<{ code: number; stdout: string; stderr: string }> =>
  new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'simops.js'), ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
    });
    child.stderr.on('data', (c: Buffer) => {
      stderr += c.toString();
    });
    child.on('exit', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });

const scenarioYaml = (name: string, spec: Record<string, unknown>) =>
  `apiVersion: simops.dev/v1alpha1
kind: ChaosScenario
metadata:
  name: ${name}
  namespace: default
spec: ${JSON.stringify(spec)}
`;

describe('ChaosScenario', () => {
  let api: Embedded;
  let manager: Manager;
  const apps: DemoApp[] = [];
  const artifactDir = tempDir('simops-chaos-artifacts-');
  const dir = tempDir('simops-chaos-specs-');
  const kc = new KubeConfig();
  const client = () => manager.client;
  const statusOf = async (name: string) =>
    ((await client().get(CHAOS, 'default', name))?.status ?? {}) as Status;
  const ready = (s: Status) => getCondition(s.conditions, 'Ready');

  const sandbox = async (name: string, endpoint?: string) => {
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Sandbox',
        metadata: { name, namespace: 'default' },
        spec: { simulatorRef: { name: 'booking' } },
      },
      { fieldManager: 'test' },
    );
    if (endpoint) await setEndpoint(name, endpoint);
  };
  const setEndpoint = async (name: string, endpoint: string) => {
    const o = (await client().get(SANDBOX, 'default', name))!;
    await client().patchStatus(SANDBOX, o, { ...(o.status ?? {}), endpoint });
  };

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    manager = await startManager({
      kubeConfig: kc,
      log: silentLog,
      reconcilers: [chaosScenarioReconciler({ artifactDir })],
    });
  });
  after(async () => {
    await manager.stop();
    await api.stop();
    await Promise.all(apps.map((a) => a.stop()));
  });

  it('the CI gate: baseline against a Sandbox passes (exit 0); disaster-mix fails (exit 1) with violations inside its event windows', async () => {
    const quiet = await startDemoApp();
    const stormy = await startDemoApp({ CHAOS_HOOK_SECRET: 'hook-secret' });
    apps.push(quiet, stormy);
    await client().apply(
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'chaos-hook', namespace: 'default' },
        stringData: { secret: 'hook-secret' },
      } as KubeObject,
      { fieldManager: 'test' },
    );
    await sandbox('booking-quiet'); // no endpoint yet: the scenario waits
    await sandbox('booking-stormy', stormy.url);
    const baselineFile = join(dir, 'baseline.yaml');
    const disasterFile = join(dir, 'disaster.yaml');
    writeFileSync(
      baselineFile,
      scenarioYaml('gate-baseline', {
        target: { sandboxRef: { name: 'booking-quiet' } },
        preset: 'baseline',
        seed: 42,
        duration: { realSeconds: 8, simHours: 2 },
        // A loaded CI machine can delay a tick past 100 ms; the gate here judges the app.
        invariants: [{ name: 'orchestrator_tick_drift', threshold: 1000 }],
      }),
    );
    writeFileSync(
      disasterFile,
      scenarioYaml('gate-disaster', {
        target: { sandboxRef: { name: 'booking-stormy' }, chaosHookSecretRef: { name: 'chaos-hook' } },
        preset: 'disaster-mix',
        seed: 42,
        duration: { realSeconds: 16 },
        invariants: [{ name: 'orchestrator_tick_drift', threshold: 1000 }],
      }),
    );
    const kubeconfig = ['--kubeconfig', api.kubeconfigPath, '--timeout', '90s'];
    const baselineGate = simops(['chaos', 'run', baselineFile, ...kubeconfig]);
    const disasterGate = simops(['chaos', 'run', disasterFile, ...kubeconfig]);

    const waiting = await eventually('TargetNotReady', async () => {
      const s = await statusOf('gate-baseline');
      return ready(s)?.reason === 'TargetNotReady' && s;
    });
    assert.equal(waiting.phase, 'Pending');
    assert.equal(ready(waiting)?.status, 'False');
    assert.match(ready(waiting)!.message, /Sandbox booking-quiet has no endpoint yet/);
    await setEndpoint('booking-quiet', quiet.url);

    const [passed, failed] = await Promise.all([baselineGate, disasterGate]);
    assert.equal(passed.code, 0, `baseline: ${passed.stdout}\n${passed.stderr}`);
    assert.match(passed.stdout, /\(preset baseline\): PASSED/);
    assert.equal(failed.code, 1, `disaster-mix: ${failed.stdout}\n${failed.stderr}`);
    assert.match(failed.stdout, /\(preset disaster-mix\): FAILED/);
    assert.match(failed.stdout, /api_error_rate: error_rate .* during RLS_MISCONFIG/);

    const good = await statusOf('gate-baseline');
    assert.equal(good.phase, 'Passed');
    assert.equal(ready(good)?.status, 'True');
    assert.equal(good.summary?.verdict, 'Passed');
    assert.equal(good.summary?.violations, 0);
    assert.ok((good.summary?.requests ?? 0) > 50, `baseline requests ${good.summary?.requests}`);
    assert.deepEqual(
      good.summary?.invariants.map((i) => [i.name, i.verdict]),
      [
        'api_p95_response_time',
        'api_p99_response_time',
        'api_error_rate',
        'booking_funnel_success',
        'vendor_sla_response',
        'cache_hit_rate',
        'zero_double_bookings',
        'no_orphaned_references',
        'orchestrator_tick_drift',
      ].map((n) => [n, 'Pass']),
    );
    assert.equal(good.progress?.simTime, '2:00/2:00');
    assert.match(good.scheduleDigest ?? '', /^sha256:[0-9a-f]{64}$/);

    const bad = await statusOf('gate-disaster');
    assert.equal(bad.phase, 'Failed');
    assert.equal(ready(bad)?.reason, 'InvariantsViolated');
    const windows: Record<string, [number, number]> = {
      api_error_rate: [180, 210],
      cache_hit_rate: [30, 60],
      cache_invalidation_spike: [30, 60],
    };
    const continuous = (bad.violations ?? []).filter((v) => v.at === 'continuous');
    for (const name of Object.keys(windows))
      assert.ok(
        continuous.some((v) => v.invariant === name),
        `a violation of ${name}: ${JSON.stringify(bad.violations)}`,
      );
    for (const v of continuous) {
      const w = windows[v.invariant];
      assert.ok(w, `unexpected violation ${JSON.stringify(v)}`);
      assert.ok(
        v.atSimMinute >= w[0] && v.atSimMinute <= w[1],
        `${v.invariant} at ${v.atSimMinute}, not in ${w}`,
      );
      assert.equal(v.seed, 42);
      assert.equal(v.runId, bad.runId);
    }
    assert.equal(bad.summary?.invariants.find((i) => i.name === 'api_error_rate')?.verdict, 'Fail');
    assert.equal(bad.summary?.invariants.find((i) => i.name === 'memory_usage')?.verdict, 'Pass');

    // Signed hook deliveries reached the app, start and end of each event.
    for (const type of ['CACHE_INVALIDATION_STORM', 'PAUSE_MV_REFRESH', 'RLS_MISCONFIG'])
      for (const phase of ['start', 'end'])
        assert.match(stormy.output(), new RegExp(`chaos hook: ${type} ${phase}\\n`));

    // Artifacts: summary.json, timeline.jsonl, the chart.
    const files = bad.artifacts!;
    const summary = JSON.parse(readFileSync(files.summary, 'utf8'));
    assert.equal(summary.verdict, 'Failed');
    assert.equal(summary.scheduleDigest, bad.scheduleDigest);
    const rows = readFileSync(files.timeline, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    assert.ok(rows.length > 50);
    assert.ok(rows.some((r: { events: string[] }) => r.events.includes('RLS_MISCONFIG')));
    assert.match(readFileSync(files.chart, 'utf8'), /^<svg [^>]*>[\s\S]*RLS_MISCONFIG[\s\S]*<\/svg>\n$/);

    // Events a person sees in kubectl describe.
    const events = (await client().list(coreKind('Event'), 'default')).items.filter(
      (e) => (e.involvedObject as { name?: string }).name === 'gate-disaster',
    );
    const reasons = new Set(events.map((e) => e.reason as string));
    for (const r of ['Submitted', 'Started', 'EventStarted', 'EventEnded', 'InvariantViolated', 'Failed'])
      assert.ok(reasons.has(r), `Event ${r} in ${[...reasons]}`);
  });

  it('the kill switch stops a running scenario within a second, and no request is sent after it', async () => {
    // The target counts requests in a process of its own, so its clock is not this busy process's.
    const target = spawn(process.execPath, ['-e', COUNTING_SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
    const url = await new Promise<string>((resolve) =>
      target.stdout!.once('data', (c: Buffer) => resolve(c.toString().trim())),
    );
    const counted = async () =>
      (await (await fetch(`${url}/__count`)).json()) as { count: number; last: number };
    try {
      await client().apply(
        {
          apiVersion: 'simops.dev/v1alpha1',
          kind: 'ChaosScenario',
          metadata: { name: 'kill', namespace: 'default' },
          spec: {
            target: { url },
            seed: 1,
            duration: { realSeconds: 60, simHours: 1 },
            policies: { customerSpawnRate: 100, maxConcurrentAgents: 300, tickMs: 50 },
            journeys: [
              {
                name: 'browse',
                steps: Array.from({ length: 20 }, (_, i) => ({
                  name: `page${i}`,
                  path: `/p/${i}`,
                  thinkTimeMs: 30,
                })),
              },
            ],
            invariants: [{ name: 'api_error_rate', metric: 'error_rate', op: '<', threshold: 0.5 }],
          },
        },
        { fieldManager: 'test' },
      );
      await eventually(
        'running with traffic',
        async () => {
          const s = await statusOf('kill');
          return s.phase === 'Running' && (s.progress?.agents ?? 0) > 50 && (await counted()).count > 500;
        },
        15_000,
      );
      const stoppedAt = Date.now();
      await client().mergePatch(CHAOS, 'default', 'kill', { spec: { state: 'Stopped' } });
      const s = await eventually(
        'Stopped',
        async () => {
          const st = await statusOf('kill');
          return st.phase === 'Stopped' && st;
        },
        5000,
        10,
      );
      const seenStopped = Date.now();
      assert.ok(seenStopped - stoppedAt < 1000, `Stopped after ${seenStopped - stoppedAt} ms`);
      const atStop = await counted();
      assert.ok(
        atStop.last - stoppedAt < 1000,
        `a request arrived ${atStop.last - stoppedAt} ms after the kill switch`,
      );
      await new Promise((r) => setTimeout(r, 800));
      assert.equal((await counted()).count, atStop.count, 'requests arrived after the run stopped');
      assert.equal(ready(s)?.reason, 'Stopped');
      assert.equal(s.summary?.verdict, 'Stopped');
      assert.ok((s.progress?.requests ?? 0) > 500);
      assert.equal(s.progress?.agents, 0);
    } finally {
      target.kill();
    }
  });

  it('refuses an external target and stalls an invalid spec, naming the field', async () => {
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'ChaosScenario',
        metadata: { name: 'outside', namespace: 'default' },
        spec: { target: { url: 'http://example.com' }, preset: 'baseline', duration: { realSeconds: 5 } },
      },
      { fieldManager: 'test' },
    );
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'ChaosScenario',
        metadata: { name: 'invalid', namespace: 'default' },
        spec: {
          target: { url: 'http://127.0.0.1:9' },
          duration: { realSeconds: 5, simHours: 1 },
          events: [{ type: 'LATENCY', triggerAt: 120, duration: 5, parameters: { latencyMs: 10 } }],
        },
      },
      { fieldManager: 'test' },
    );
    const outside = await eventually('TargetNotAllowed', async () => {
      const s = await statusOf('outside');
      return ready(s)?.reason === 'TargetNotAllowed' && s;
    });
    assert.match(
      ready(outside)!.message,
      /example.com is neither loopback nor in the cluster; set target.allowExternal/,
    );
    assert.equal(getCondition(outside.conditions, 'Stalled')?.status, 'True');
    const invalid = await eventually('InvalidSpec', async () => {
      const s = await statusOf('invalid');
      return ready(s)?.reason === 'InvalidSpec' && s;
    });
    assert.match(
      ready(invalid)!.message,
      /spec.events\[0\].triggerAt: 120 is not before the end of the run \(60 sim minutes\)/,
    );
    assert.equal(invalid.phase, 'Error');
    assert.equal(existsSync(join(artifactDir, 'chaos', 'default', 'invalid')), false);
  });
});
