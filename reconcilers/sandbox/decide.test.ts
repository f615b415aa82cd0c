import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KubeObject } from '../../apiserver/types.ts';
import type { SandboxSpec } from '../../crds/sandbox.ts';
import {
  expiry,
  flowsCondition,
  HEARTBEAT,
  mergeFlowRuns,
  RUN_FLOWS,
  resolveSource,
  runFlowsRequest,
  sandboxEvents,
  sandboxStatus,
  snapshotLayer,
} from './decide.ts';
import type { Observation } from './session.ts';

const spec = (extra: Partial<SandboxSpec> = {}): SandboxSpec => ({
  simulatorRef: { name: 'booking' },
  dataset: 'base',
  runtime: 'process',
  timeoutSeconds: 60,
  heartbeatIntervalSeconds: 30,
  operatingMode: 'Running',
  ...extra,
});
const sandbox = (
  s: SandboxSpec,
  meta: Partial<KubeObject['metadata']> = {},
  status?: object,
): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: {
    name: 'sb',
    namespace: 'default',
    generation: 1,
    creationTimestamp: '2026-01-01T00:00:00Z',
    ...meta,
  },
  spec: s,
  ...(status ? { status: { observedGeneration: 1, ...status } } : {}),
});
const T0 = Date.parse('2026-01-01T00:00:00Z');
const artifacts = [
  { id: 'art_a', dataset: 'base', digest: 'sha256:a', layer: 'base' as const, created: '', verified: true },
  { id: 'art_d', dataset: 'base', digest: 'sha256:d', layer: 'data' as const, created: '', verified: false },
];

describe('sandbox source', () => {
  it('starts from the config, an artifact, or a tag resolved through the simulator', () => {
    assert.deepEqual(resolveSource(spec(), undefined), { kind: 'config' });
    assert.deepEqual(resolveSource(spec({ source: { artifact: 'art_d' } }), { artifacts }), {
      kind: 'artifact',
      id: 'art_d',
      digest: 'sha256:d',
      layer: 'data',
    });
    assert.deepEqual(
      resolveSource(spec({ source: { tag: 'prod-latest' } }), {
        artifacts,
        tags: { 'prod-latest': { artifact: 'art_a', digest: 'sha256:a' } },
      }),
      { kind: 'artifact', id: 'art_a', digest: 'sha256:a', layer: 'base', tag: 'prod-latest' },
    );
    const missing = resolveSource(spec({ source: { tag: 'prod-latest' } }), { artifacts });
    assert.ok('reason' in missing && missing.reason === 'TagNotFound' && !missing.terminal);
    const unknown = resolveSource(spec({ source: { artifact: 'art_z' } }), { artifacts });
    assert.ok('reason' in unknown);
    assert.match(unknown.message, /art_z is not an artifact of the simulator \(known: art_a, art_d\)/);
  });

  it('takes a data snapshot once the sandbox seeds data or starts from a tag', () => {
    assert.equal(snapshotLayer(spec(), { kind: 'config' }), 'base');
    assert.equal(
      snapshotLayer(spec({ seed: [{ http: { method: 'POST', path: '/x' } }] }), { kind: 'config' }),
      'data',
    );
    assert.equal(
      snapshotLayer(spec(), { kind: 'artifact', id: 'a', digest: 'd', layer: 'base', tag: 'prod-latest' }),
      'data',
    );
    assert.equal(snapshotLayer(spec(), { kind: 'artifact', id: 'a', digest: 'd', layer: 'base' }), 'base');
    assert.equal(
      snapshotLayer(spec({ snapshot: { requestedAt: '1', layer: 'base' }, seed: [] }), { kind: 'config' }),
      'base',
    );
  });
});

describe('sandbox expiry', () => {
  it('expires timeoutSeconds after the last activity, and a heartbeat annotation moves it on', () => {
    const o = sandbox(spec({ timeoutSeconds: 60 }), {}, {});
    const fresh = expiry(o, undefined, T0 + 30_000);
    assert.equal(fresh.expired, false);
    assert.equal(fresh.expiresAt, '2026-01-01T00:01:00Z');
    assert.equal(fresh.inMs, 30_000);
    assert.equal(expiry(o, undefined, T0 + 61_000).expired, true);
    const beat = sandbox(
      spec({ timeoutSeconds: 60 }),
      { annotations: { [HEARTBEAT]: '2026-01-01T00:01:30Z' } },
      {},
    );
    assert.equal(expiry(beat, undefined, T0 + 120_000).expired, false);
    const obs: Observation = { state: 'Ready', services: [], flowRuns: [], readyAt: '2026-01-01T00:00:50Z' };
    assert.equal(expiry(o, obs, T0 + 100_000).expired, false, 'becoming Ready is activity');
    assert.equal(expiry(sandbox(spec({ timeoutSeconds: 0 }), {}, {}), undefined, T0 + 1e9).expired, false);
  });

  it('counts a spec change as activity', () => {
    const changed = sandbox(
      spec({ timeoutSeconds: 60 }),
      { generation: 2 },
      { lastHeartbeat: '2026-01-01T00:00:00Z' },
    );
    assert.equal(expiry(changed, undefined, T0 + 600_000).expired, false);
  });
});

describe('flow requests', () => {
  it('reads the run-flows annotation once, and again with a new @token', () => {
    const o = sandbox(spec(), { annotations: { [RUN_FLOWS]: 'login, smoke' } }, {});
    assert.deepEqual(runFlowsRequest(o), { value: 'login, smoke', flows: ['login', 'smoke'] });
    const handled = sandbox(
      spec(),
      { annotations: { [RUN_FLOWS]: 'login' } },
      { lastHandledRunFlows: 'login' },
    );
    assert.equal(runFlowsRequest(handled), undefined);
    const again = sandbox(
      spec(),
      { annotations: { [RUN_FLOWS]: 'login@2' } },
      { lastHandledRunFlows: 'login' },
    );
    assert.deepEqual(runFlowsRequest(again)?.flows, ['login']);
  });

  it('keeps the last flow runs and says whether the latest of each passed', () => {
    const run = (id: string, flow: string, result: 'Passed' | 'Failed' | 'Running') => ({
      id,
      flow,
      trigger: 'spec' as const,
      result,
      startedAt: '2026-01-01T00:00:00Z',
      artifacts: `/a/${id}`,
    });
    const merged = mergeFlowRuns(
      [run('1', 'login', 'Running')],
      [run('1', 'login', 'Failed'), run('2', 'smoke', 'Passed')],
    );
    assert.deepEqual(
      merged.map((r) => [r.id, r.result]),
      [
        ['1', 'Failed'],
        ['2', 'Passed'],
      ],
    );
    assert.equal(flowsCondition(merged)?.status, 'False');
    assert.equal(flowsCondition([...merged, run('3', 'login', 'Passed')])?.status, 'True');
    const many = mergeFlowRuns(
      [],
      Array.from({ length: 15 }, (_, i) => run(String(i), 'login', 'Passed')),
    );
    assert.equal(many.length, 10);
    assert.equal(many[0]?.id, '5');
  });
});

describe('sandbox status', () => {
  const now = '2026-01-01T00:00:10Z';
  const exp = { lastHeartbeat: '2026-01-01T00:00:00Z', expired: false };
  it('maps the session to phase and Ready, with the endpoint only while running', () => {
    const o = sandbox(spec(), {}, { phase: 'StartingServices' });
    const ready = sandboxStatus({
      o,
      now,
      mode: 'running',
      expiry: exp,
      obs: {
        state: 'Ready',
        endpoint: 'http://127.0.0.1:5',
        services: [{ name: 'web', state: 'Running', restarts: 0 }],
        flowRuns: [],
      },
    });
    assert.equal(ready.fields.phase, 'Ready');
    assert.equal(ready.fields.endpoint, 'http://127.0.0.1:5');
    assert.equal(ready.outcome.kind, 'ready');
    assert.deepEqual(
      sandboxEvents({ phase: 'StartingServices' }, ready).map((e) => e.reason),
      ['Ready'],
    );
    const restarting = sandboxStatus({
      o,
      now,
      mode: 'running',
      expiry: exp,
      obs: {
        state: 'Ready',
        endpoint: 'http://127.0.0.1:5',
        services: [{ name: 'web', state: 'Restarting', restarts: 2, message: 'exited with code 1' }],
        flowRuns: [],
      },
    });
    assert.equal(restarting.outcome.reason, 'ServiceRestarting');
    assert.equal(restarting.outcome.kind, 'failed');
    const failed = sandboxStatus({
      o,
      now,
      mode: 'running',
      expiry: exp,
      obs: {
        state: 'Failed',
        failure: { reason: 'StartFailed', message: 'boom' },
        services: [],
        flowRuns: [],
      },
    });
    assert.equal(failed.fields.phase, 'Failed');
    assert.equal(failed.fields.endpoint, undefined);
    assert.equal(failed.outcome.kind, 'stalled');
    const waiting = sandboxStatus({
      o,
      now,
      mode: 'running',
      expiry: exp,
      obs: {
        state: 'RunningFlows',
        endpoint: 'http://127.0.0.1:5',
        services: [{ name: 'web', state: 'Running', restarts: 0 }],
        flowRuns: [],
        queueUnavailable: 'the job queue at redis://redis:6379 is unreachable (ECONNREFUSED)',
      },
    });
    assert.equal(waiting.fields.phase, 'RunningFlows');
    assert.equal(waiting.fields.endpoint, 'http://127.0.0.1:5', 'the services still run');
    assert.deepEqual(
      [waiting.outcome.kind, waiting.outcome.reason, waiting.outcome.message],
      [
        'failed',
        'QueueUnavailable',
        'a flow waits for the job queue: the job queue at redis://redis:6379 is unreachable (ECONNREFUSED)',
      ],
    );
  });

  it('says Stopped for operatingMode Stopped and Expired after the timeout', () => {
    const stopped = sandboxStatus({
      o: sandbox(spec({ operatingMode: 'Stopped' })),
      now,
      mode: 'stopped',
      expiry: exp,
      obs: { state: 'Stopped', services: [], flowRuns: [] },
    });
    assert.equal(stopped.fields.phase, 'Stopped');
    assert.equal(stopped.outcome.reason, 'SandboxStopped');
    const expired = sandboxStatus({
      o: sandbox(spec()),
      now,
      mode: 'stopped',
      expiry: { ...exp, expired: true },
      obs: { state: 'Stopped', services: [], flowRuns: [] },
    });
    assert.equal(expired.fields.phase, 'Expired');
    assert.equal(expired.outcome.reason, 'SandboxExpired');
  });

  it('is Pending while blocked, and Failed when blocked for good', () => {
    const pending = sandboxStatus({
      o: sandbox(spec()),
      now,
      mode: 'stopped',
      expiry: exp,
      blocked: { reason: 'TagNotFound', message: 'no tag', terminal: false },
    });
    assert.equal(pending.fields.phase, 'Pending');
    const disabled = sandboxStatus({
      o: sandbox(spec()),
      now,
      mode: 'stopped',
      expiry: exp,
      blocked: { reason: 'RuntimeDisabled', message: 'off', terminal: true },
    });
    assert.equal(disabled.fields.phase, 'Failed');
    assert.equal(disabled.outcome.kind, 'stalled');
  });
});
