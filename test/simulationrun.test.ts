// SimulationRun end to end: templates and runs committed to a git repository, applied by a
// GitSource, evaluated by the SimulationRun reconciler into artifacts, as `simops up` runs them;
// `kubectl get simulationruns` with the real kubectl.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import type { Log } from '../controller/runtime/logger.ts';
import { registry } from '../controller/runtime/metrics.ts';
import type { Condition } from '../crds/common.ts';
import type { SimulationRunStatus } from '../crds/simulation-run.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo } from './helpers/git.ts';
import { kubectl } from './helpers/kubectl.ts';
import { tempDir } from './helpers/tmp.ts';

const GS = simopsKind('GitSource');
const RUN = simopsKind('SimulationRun');
const examples = new URL('../examples/', import.meta.url).pathname;
const example = (path: string) => readFileSync(join(examples, path), 'utf8');

const lines: string[] = [];
const recordingLog = (): Log => {
  const log: Log = {
    info: (o, m) => lines.push(`${m ?? ''} ${JSON.stringify(o)}`),
    warn: (o, m) => lines.push(`${m ?? ''} ${JSON.stringify(o)}`),
    error: (o, m) => lines.push(`${m ?? ''} ${JSON.stringify(o)}`),
    debug: () => {},
    child: (bindings) => {
      const child: Log = {
        info: (o, m) => log.info({ ...bindings, ...o }, m),
        warn: (o, m) => log.warn({ ...bindings, ...o }, m),
        error: (o, m) => log.error({ ...bindings, ...o }, m),
        debug: () => {},
        child: (more) => log.child({ ...bindings, ...more }),
      };
      return child;
    },
  };
  return log;
};

const eventually = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 10_000) => {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${String(last)}` : ''}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const simulationRun = (name: string, spec: Record<string, unknown>) => `apiVersion: simops.dev/v1alpha1
kind: SimulationRun
metadata:
  name: ${name}
spec: ${JSON.stringify(spec)}
`;

describe('SimulationRun', () => {
  let api: Embedded;
  let running: Running;
  const artifactDir = tempDir('simops-artifacts-');
  const kc = new KubeConfig();
  const client = () => running.manager.client;
  const statusOf = async (name: string) =>
    ((await client().get(RUN, 'default', name))?.status ?? {}) as SimulationRunStatus & {
      conditions?: Condition[];
    };
  const condition = async (name: string, type: string) =>
    getCondition((await statusOf(name)).conditions, type);
  const succeeded = (name: string) =>
    eventually(`${name} Succeeded`, async () => {
      const s = await statusOf(name);
      return s.phase === 'Succeeded' && getCondition(s.conditions, 'Ready')?.status === 'True' && s;
    });

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: recordingLog(),
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      health: { host: '127.0.0.1', port: 0 },
    });
  });
  after(async () => {
    await running.stop();
    await api.stop();
  });

  it('runs templates committed to git into artifacts, reuses a run with the same spec, and stalls on an invalid template', async () => {
    const repo = createRepo();
    const order = {
      templateId: 'order-system',
      template: { path: 'templates/order-system.yaml' },
      parameters: { arrivalRate: 12, capacity: 10 },
      rng: { kind: 'pcg32', seed: 42 },
    };
    repo.commit({
      'templates/order-system.yaml': example('templates/order-system.yaml'),
      'templates/order-telemetry.yaml': example('templates/order-telemetry.yaml'),
      'templates/telemetry/order-arrivals.csv': example('templates/telemetry/order-arrivals.csv'),
      'templates/telemetry/order-served.csv': example('templates/telemetry/order-served.csv'),
      'templates/bad.yaml': example('templates/order-system.yaml').replace(/^window:\n( {2}.*\n)+/m, ''),
      'runs/order.yaml': simulationRun('order-peak', order),
      'runs/telemetry.yaml': example('manifests/simulation-runs/order-telemetry.yaml'),
      'runs/bad.yaml': simulationRun('bad-run', { ...order, template: { path: 'templates/bad.yaml' } }),
    });
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'lab', namespace: 'default' },
        spec: { url: repo.url, interval: '1h' },
      },
      { fieldManager: 'test' },
    );

    const s = await succeeded('order-peak');
    assert.match(s.runId!, /^run_order-system_[0-9a-f]{16}$/);
    const dir = join(artifactDir, 'runs', s.runId!);
    assert.deepEqual(s.artifacts, {
      location: dir,
      runJson: true,
      manifestJson: true,
      seriesIndex: true,
      seriesCount: 18,
    });
    assert.equal(s.canReplay, true);
    assert.deepEqual(s.grid, { bins: 24, binSize: 1, binUnit: 'hours' });
    assert.equal(s.warningCount, 0);
    assert.equal(s.progress, 100);
    assert.ok((s.durationMs ?? -1) >= 0 && (s.evaluationMs ?? -1) >= 0);
    assert.equal((await condition('order-peak', 'Ready'))?.reason, 'RunSucceeded');
    for (const f of [
      'run.json',
      'manifest.json',
      'series/index.json',
      'spec.yaml',
      'series/queue@PaymentService@DEFAULT.csv',
    ]) {
      assert.ok(existsSync(join(dir, f)), f);
    }
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    assert.equal(Object.keys(manifest.seriesHashes).length, 18);
    assert.ok(
      lines.some(
        (l) =>
          l.startsWith('run completed') &&
          l.includes(s.runId!) &&
          l.includes('"templateId":"order-system"') &&
          l.includes('"mode":"simulation"'),
      ),
    );

    const t = await succeeded('order-telemetry-replay');
    assert.match(t.runId!, /^run_order-telemetry_/);
    assert.ok(existsSync(join(artifactDir, 'runs', t.runId!, 'model', 'telemetry', 'order-arrivals.csv')));

    const stalled = await eventually('bad-run Stalled', async () => {
      const c = await condition('bad-run', 'Stalled');
      return c?.status === 'True' && c;
    });
    assert.equal(stalled.reason, 'ValidationFailed');
    assert.equal(stalled.message, 'templates/bad.yaml: window: Required value: {start, timezone}');
    assert.equal((await statusOf('bad-run')).phase, 'Failed');
    assert.equal((await condition('bad-run', 'Ready'))?.status, 'False');

    const created = async () =>
      (await registry.getSingleMetric('simops_run_created_total')?.get())?.values.find(
        (v) => v.labels.mode === 'simulation',
      )?.value ?? 0;
    const before = await created();
    repo.commit({ 'runs/again.yaml': simulationRun('order-peak-again', order) });
    await client().mergePatch(GS, 'default', 'lab', {
      metadata: { annotations: { 'simops.dev/requestedAt': 'again' } },
    });
    const again = await succeeded('order-peak-again');
    assert.equal(again.runId, s.runId);
    assert.equal((await condition('order-peak-again', 'Ready'))?.reason, 'RunReused');
    assert.equal(await created(), before, 'no run was created for the same spec');
    assert.equal(readdirSync(join(artifactDir, 'runs')).filter((d) => d.startsWith('.')).length, 0);
  });

  it('takes a template from a ConfigMap, and cancels a running run when it is deleted or its spec changes', async () => {
    const slow = {
      metadata: { id: 'slow', version: '1' },
      window: { start: '2025-01-01T00:00:00Z' },
      grid: { bins: 400_000, binSize: 1, binUnit: 'minutes' },
      nodes: [
        { id: 'cap', kind: 'const', values: 3 },
        { id: 'smooth', kind: 'expr', expr: `CONV(cap, [${Array(3000).fill(0.0003).join(',')}])` },
      ],
      topology: {
        nodes: [{ id: 'Q', kind: 'serviceWithBuffer', semantics: { arrivals: 'smooth', capacity: 'cap' } }],
      },
    };
    await client().apply(
      {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'slow-template', namespace: 'default' },
        data: { 'template.yaml': JSON.stringify(slow) },
      },
      { fieldManager: 'test' },
    );
    const apply = (name: string, extra: Record<string, unknown> = {}): Promise<KubeObject> =>
      client().apply(
        {
          apiVersion: 'simops.dev/v1alpha1',
          kind: 'SimulationRun',
          metadata: { name, namespace: 'default' },
          spec: { templateId: 'slow', template: { configMapRef: { name: 'slow-template' } }, ...extra },
        },
        { fieldManager: 'test' },
      );
    const runningRun = (name: string) =>
      eventually(`${name} Running`, async () => {
        const s = await statusOf(name);
        return s.phase === 'Running' && (await condition(name, 'Reconciling'))?.status === 'True' && s;
      });

    await apply('doomed');
    const r = await runningRun('doomed');
    await client().delete(RUN, 'default', 'doomed');
    await eventually('doomed gone', async () => (await client().get(RUN, 'default', 'doomed')) === undefined);
    await eventually('cancel logged', async () =>
      lines.some((l) => l.startsWith('run cancelled') && l.includes(r.runId!)),
    );
    assert.ok(!existsSync(join(artifactDir, 'runs', r.runId!)), 'the cancelled run wrote nothing');

    await apply('changing');
    const first = await runningRun('changing');
    await apply('changing', { dryRun: true });
    const planned = await succeeded('changing');
    assert.equal((await condition('changing', 'Ready'))?.reason, 'DryRun');
    assert.deepEqual(planned.plan, { nodes: 3, series: 6, bins: 400_000, reuse: false });
    assert.ok(
      lines.some(
        (l) => l.startsWith('run cancelled') && l.includes(first.runId!) && l.includes('spec changed'),
      ),
    );
    await eventually('no temporary directories', async () =>
      readdirSync(join(artifactDir, 'runs')).every((d) => !d.startsWith('.')),
    );
    assert.equal(await client().get(coreKind('ConfigMap'), 'default', 'nope'), undefined);
  });

  it('shows Template, Mode, Phase, Run ID, Warnings and Age in kubectl get simulationruns', async () => {
    const s = await succeeded('order-peak');
    const r = await kubectl(['get', 'simulationruns', '-n', 'default'], { kubeconfig: api.kubeconfigPath });
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.deepEqual(header!.trim().split(/\s{2,}/), [
      'NAME',
      'TEMPLATE',
      'MODE',
      'PHASE',
      'RUN ID',
      'WARNINGS',
      'AGE',
    ]);
    const row = rows
      .find((l) => l.startsWith('order-peak '))!
      .trim()
      .split(/\s+/);
    assert.deepEqual(row.slice(0, 6), [
      'order-peak',
      'order-system',
      'simulation',
      'Succeeded',
      s.runId,
      '0',
    ]);
    const bad = rows
      .find((l) => l.startsWith('bad-run '))!
      .trim()
      .split(/\s+/);
    assert.deepEqual(bad.slice(0, 4), ['bad-run', 'order-system', 'simulation', 'Failed']);
    const wide = await kubectl(['get', 'simrun', 'order-peak', '-o', 'wide'], {
      kubeconfig: api.kubeconfigPath,
    });
    assert.match(wide.stdout.split('\n')[0]!, /READY\s+DURATION\(MS\)\s+AGE/);
  });
});
