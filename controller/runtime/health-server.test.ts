import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { type HealthServer, startHealthServer } from './health-server.ts';
import {
  defineCounter,
  gitFetchDuration,
  leaderGauge,
  reconcileDuration,
  reconcileErrors,
  workqueueDepth,
} from './metrics.ts';

describe('health server', () => {
  let server: HealthServer;
  let ready = false;
  const hooks: string[] = [];

  before(async () => {
    server = await startHealthServer({
      port: 0,
      ready: () => ready,
      notReadyReason: () => 'waiting for leadership',
      extraHandlers: [
        async (req) => {
          hooks.push(`first ${req.method} ${req.url}`);
          return false;
        },
        async (req, res) => {
          if (!req.url?.startsWith('/hook/')) return false;
          hooks.push(`second ${req.method} ${req.url}`);
          res.writeHead(202).end('accepted');
          return true;
        },
      ],
    });
  });
  after(() => server.close());

  it('listens on loopback by default', () => {
    assert.equal(server.url, `http://127.0.0.1:${server.port}`);
  });

  it('serves the metrics in the Prometheus text format after values are observed', async () => {
    reconcileDuration.observe({ kind: 'Sandbox', result: 'success' }, 0.042);
    reconcileErrors.inc({ kind: 'Sandbox' });
    workqueueDepth.set({ kind: 'Sandbox' }, 3);
    gitFetchDuration.observe({ result: 'error' }, 1.5);
    leaderGauge.set(1);
    defineCounter('run_created_total', 'Simulation runs created.', ['template']).inc({ template: 'demo' });

    const res = await fetch(`${server.url}/metrics`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4/);
    const text = await res.text();
    for (const line of [
      'simops_reconcile_duration_seconds_bucket{le="0.05",kind="Sandbox",result="success"} 1',
      'simops_reconcile_errors_total{kind="Sandbox"} 1',
      'simops_workqueue_depth{kind="Sandbox"} 3',
      'simops_git_fetch_duration_seconds_count{result="error"} 1',
      'simops_leader 1',
      'simops_run_created_total{template="demo"} 1',
    ]) {
      assert.ok(text.includes(line), `missing: ${line}`);
    }
    // Node's default metrics, under the same prefix.
    assert.match(text, /^simops_process_cpu_user_seconds_total /m);
    assert.match(text, /^simops_nodejs_heap_size_total_bytes /m);
  });

  it('answers /healthz while the process runs and flips /readyz with ready()', async () => {
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    ready = false;
    const notReady = await fetch(`${server.url}/readyz`);
    assert.equal(notReady.status, 503);
    assert.equal(await notReady.text(), 'not ready: waiting for leadership\n');
    ready = true;
    const nowReady = await fetch(`${server.url}/readyz`);
    assert.equal(nowReady.status, 200);
    assert.equal(await nowReady.text(), 'ok\n');
  });

  it('passes other requests to the extra handlers in order, then answers 404', async () => {
    hooks.length = 0;
    const hook = await fetch(`${server.url}/hook/gitsource`, { method: 'POST', body: '{}' });
    assert.equal(hook.status, 202);
    assert.deepEqual(hooks, ['first POST /hook/gitsource', 'second POST /hook/gitsource']);

    hooks.length = 0;
    const unknown = await fetch(`${server.url}/nothing-here`);
    assert.equal(unknown.status, 404);
    assert.deepEqual(hooks, ['first GET /nothing-here']);

    // The probes do not reach the extra handlers.
    hooks.length = 0;
    await fetch(`${server.url}/healthz`);
    assert.deepEqual(hooks, []);
  });

  it('refuses writes to the probe paths', async () => {
    const res = await fetch(`${server.url}/metrics`, { method: 'POST' });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, HEAD');
  });
});
