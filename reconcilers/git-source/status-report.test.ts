import assert from 'node:assert/strict';
import { it } from 'node:test';
import { parse } from 'yaml';
import type { KubeObject } from '../../apiserver/types.ts';
import { reportFile, statusReport } from './status-report.ts';

const ready = (
  status: string,
  reason: string,
  message: string,
  lastTransitionTime = '2025-01-01T00:00:00Z',
) => ({
  type: 'Ready',
  status,
  reason,
  message,
  observedGeneration: 2,
  lastTransitionTime,
});

const sandbox = (transition?: string): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: { name: 'booking-dev', namespace: 'lab', generation: 2, resourceVersion: '17' },
  spec: { simulatorRef: { name: 'booking' } },
  status: {
    phase: 'Running',
    observedGeneration: 2,
    endpoint: 'http://127.0.0.1:4100',
    lastHeartbeat: '2025-01-01T00:00:07Z',
    conditions: [ready('True', 'Running', 'all services healthy', transition)],
  },
});
const run: KubeObject = {
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'SimulationRun',
  metadata: { name: 'r1', namespace: 'lab', generation: 3 },
  status: {
    phase: 'Succeeded',
    observedGeneration: 2,
    runId: 'run_abc',
    artifacts: {
      location: 's3://runs/run_abc',
      runJson: true,
      manifestJson: true,
      seriesIndex: true,
      seriesCount: 4,
    },
    startedAt: '2025-01-01T00:00:00Z',
    conditions: [ready('True', 'Succeeded', 'evaluated')],
  },
};
const chaos: KubeObject = {
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'ChaosScenario',
  metadata: { name: 'spike', namespace: 'lab', generation: 1 },
  status: {
    phase: 'Failed',
    observedGeneration: 1,
    runId: 'chaos_1',
    summary: { requests: 100, errors: 7, errorRate: 0.07, p95Ms: 310, violations: 2 },
    violations: [{ invariant: 'p95' }, { invariant: 'errors' }],
    conditions: [ready('False', 'InvariantViolated', 'p95 | errors')],
  },
};
const simulator: KubeObject = {
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Simulator',
  metadata: { name: 'booking', namespace: 'lab', generation: 1 },
  status: {
    phase: 'Production',
    tags: {
      'prod-latest': { artifact: 'art-2', digest: 'sha256:bb' },
      'dev-latest': { artifact: 'art-3', digest: 'sha256:cc' },
    },
  },
};
const namespace: KubeObject = { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'lab' } };
const source = { namespace: 'default', name: 'repo', revision: 'main@sha1:abc' };

it('writes one file per object with its source revision, Ready, generations and figures', () => {
  const files = statusReport([chaos, sandbox(), run, simulator, namespace], source);
  assert.deepEqual(Object.keys(files).sort(), [
    'README.md',
    'chaosscenario/lab/spike.yaml',
    'index.yaml',
    'namespace/lab.yaml',
    'sandbox/lab/booking-dev.yaml',
    'simulationrun/lab/r1.yaml',
    'simulator/lab/booking.yaml',
  ]);
  assert.deepEqual(parse(files['sandbox/lab/booking-dev.yaml']!), {
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'Sandbox',
    namespace: 'lab',
    name: 'booking-dev',
    source: { gitSource: 'default/repo', revision: 'main@sha1:abc' },
    phase: 'Running',
    ready: { status: 'True', reason: 'Running', message: 'all services healthy' },
    generation: 2,
    observedGeneration: 2,
    upToDate: true,
    figures: { endpoint: 'http://127.0.0.1:4100' },
  });
  const r = parse(files['simulationrun/lab/r1.yaml']!);
  assert.equal(r.upToDate, false);
  assert.deepEqual(r.figures, {
    runId: 'run_abc',
    artifacts: {
      location: 's3://runs/run_abc',
      runJson: true,
      manifestJson: true,
      seriesIndex: true,
      seriesCount: 4,
    },
  });
  const c = parse(files['chaosscenario/lab/spike.yaml']!);
  assert.equal(c.figures.violations, 2);
  assert.equal(c.figures.summary.p95Ms, 310);
  assert.deepEqual(parse(files['simulator/lab/booking.yaml']!).figures.tags['prod-latest'], {
    artifact: 'art-2',
    digest: 'sha256:bb',
  });
  assert.deepEqual(parse(files['namespace/lab.yaml']!), {
    apiVersion: 'v1',
    kind: 'Namespace',
    name: 'lab',
    source: { gitSource: 'default/repo', revision: 'main@sha1:abc' },
  });
});

it('indexes every object with Ready, in README.md and index.yaml', () => {
  const files = statusReport([sandbox(), chaos, namespace], source);
  const index = parse(files['index.yaml']!);
  assert.deepEqual(index.summary, { objects: 3, ready: 1 });
  assert.deepEqual(
    index.objects.map((o: { file: string; ready?: string }) => [o.file, o.ready]),
    [
      ['chaosscenario/lab/spike.yaml', 'False'],
      ['namespace/lab.yaml', undefined],
      ['sandbox/lab/booking-dev.yaml', 'True'],
    ],
  );
  const readme = files['README.md']!;
  assert.match(readme, /Revision `main@sha1:abc`: 1 of 3 objects Ready/);
  assert.match(
    readme,
    /\| Sandbox \| lab \| \[booking-dev\]\(sandbox\/lab\/booking-dev\.yaml\) \| Running \| True \| Running \|/,
  );
  assert.match(
    readme,
    /\| ChaosScenario \| lab \| \[spike\]\(.*\) \| Failed \| False \| InvariantViolated \|/,
  );
});

it('is byte-for-byte the same for the same world, whatever the order or the timestamps', () => {
  const a = statusReport([sandbox('2025-01-01T00:00:00Z'), run, chaos], source);
  const later = { ...sandbox('2025-06-01T00:00:00Z') };
  later.metadata = { ...later.metadata, resourceVersion: '99' };
  (later.status as Record<string, unknown>).lastHeartbeat = '2025-06-01T00:00:09Z';
  const b = statusReport([chaos, run, later], source);
  assert.deepEqual(b, a);
  assert.notDeepEqual(statusReport([chaos, run, later], { ...source, revision: 'main@sha1:def' }), a);
});

it('names files by kind, group when not simops.dev, namespace and name', () => {
  assert.equal(reportFile(sandbox()), 'sandbox/lab/booking-dev.yaml');
  assert.equal(
    reportFile({ apiVersion: 'apps/v1', kind: 'Deployment', metadata: { name: 'd', namespace: 'x' } }),
    'deployment.apps/x/d.yaml',
  );
});
