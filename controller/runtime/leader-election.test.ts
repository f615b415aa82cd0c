// Leader election against the embedded API server, with short durations: one leader at a time,
// hand-over on stop(), stepping down when the API server is gone, and replacing a SIGKILLed leader.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../../apiserver/embedded.ts';
import { startTestServer } from '../../test/helpers/embedded.ts';
import { type LeaderElection, startLeaderElection } from './leader-election.ts';

const TIMING = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };
const NS = 'default';
const MICRO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/;
const childEntry = new URL('../../test/helpers/leader-process.ts', import.meta.url).pathname;

const waitFor = async (what: string, check: () => boolean, timeoutMs = 8000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return;
    await sleep(10);
  }
  assert.fail(`timed out waiting for ${what}`);
};

const kubeConfigOf = (env: Embedded) => {
  const kc = new KubeConfig();
  kc.loadFromFile(env.kubeconfigPath);
  return kc;
};

interface Tracked {
  elector: LeaderElection;
  signals: AbortSignal[];
  stops(): number;
}

const track = (kc: KubeConfig, name: string, identity: string): Tracked => {
  const signals: AbortSignal[] = [];
  let stops = 0;
  const elector = startLeaderElection({
    kubeConfig: kc,
    namespace: NS,
    name,
    identity,
    ...TIMING,
    onStartedLeading: (signal) => signals.push(signal),
    onStoppedLeading: () => {
      stops++;
    },
  });
  return { elector, signals, stops: () => stops };
};

describe('leader election', () => {
  let env: Embedded;
  let kc: KubeConfig;
  let leases: CoordinationV1Api;
  const readLease = (name: string) => leases.readNamespacedLease({ name, namespace: NS });

  before(async () => {
    env = await startTestServer();
    kc = kubeConfigOf(env);
    leases = kc.makeApiClient(CoordinationV1Api);
  });
  after(() => env.stop());

  it('lets one of two electors lead, never both, and hands over on stop() within about retryPeriod', async (t) => {
    const a = track(kc, 'two-electors', 'a');
    const b = track(kc, 'two-electors', 'b');
    let samples = 0;
    let both = 0;
    const sampler = setInterval(() => {
      samples++;
      if (a.elector.isLeader() && b.elector.isLeader()) both++;
    }, 50);
    try {
      await waitFor('a leader', () => a.elector.isLeader() || b.elector.isLeader());
      const [leader, other] = a.elector.isLeader() ? [a, b] : [b, a];
      // Several renewals: the same elector keeps leading and the other keeps waiting.
      await sleep(2500);
      assert.ok(leader.elector.isLeader() && !other.elector.isLeader());
      assert.equal(leader.signals.length, 1);
      assert.equal(other.signals.length, 0);
      const held = await readLease('two-electors');
      assert.equal(held.spec?.holderIdentity, leader === a ? 'a' : 'b');
      assert.equal(held.spec?.leaseDurationSeconds, 2);
      assert.equal(held.spec?.leaseTransitions, 0);
      assert.match(String(held.spec?.renewTime), MICRO_TIME);
      assert.match(String(held.spec?.acquireTime), MICRO_TIME);

      const stoppedAt = Date.now();
      const stopping = leader.elector.stop();
      // Work stops before the lease is released.
      assert.equal(leader.elector.isLeader(), false);
      assert.equal(leader.signals[0]?.aborted, true);
      assert.equal(leader.stops(), 1);
      await stopping;
      await waitFor('the other elector to lead', () => other.elector.isLeader());
      const handover = Date.now() - stoppedAt;
      t.diagnostic(`hand-over after stop(): ${handover} ms`);
      assert.ok(handover < TIMING.retryPeriodMs * 1.2 + 300, `hand-over took ${handover} ms`);
      const taken = await readLease('two-electors');
      assert.equal(taken.spec?.holderIdentity, other === a ? 'a' : 'b');
      assert.equal(taken.spec?.leaseTransitions, 1);

      await other.elector.stop();
      const released = await readLease('two-electors');
      assert.equal(released.spec?.holderIdentity, undefined);
      assert.equal(released.spec?.leaseDurationSeconds, 1);
    } finally {
      clearInterval(sampler);
      await Promise.all([a.elector.stop(), b.elector.stop()]);
    }
    t.diagnostic(`${samples} samples of isLeader(), ${both} with both leading`);
    assert.ok(samples > 30, `only ${samples} samples`);
    assert.equal(both, 0, 'both electors led at once');
  });

  it('replaces a leader in another process killed with SIGKILL within the lease duration', async (t) => {
    const child = spawn(
      process.execPath,
      [
        childEntry,
        env.kubeconfigPath,
        NS,
        'killed-leader',
        'child',
        ...[TIMING.leaseDurationMs, TIMING.renewDeadlineMs, TIMING.retryPeriodMs].map(String),
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      out += s;
    });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    let successor: Tracked | undefined;
    try {
      await waitFor('the child to lead', () => out.includes('LEADING'), 10_000);
      successor = track(kc, 'killed-leader', 'successor');
      await sleep(1000);
      assert.equal(successor.elector.isLeader(), false, 'led while the child held the lease');

      const killedAt = Date.now();
      child.kill('SIGKILL');
      await waitFor('the successor to lead', () => successor?.elector.isLeader() === true);
      const replaced = Date.now() - killedAt;
      t.diagnostic(`replaced ${replaced} ms after SIGKILL`);
      // The child's last renewTime is at most retryPeriod old; the successor polls every ~retryPeriod.
      assert.ok(replaced <= TIMING.leaseDurationMs + TIMING.retryPeriodMs * 1.2 + 250, `took ${replaced} ms`);
      assert.ok(!out.includes('STOPPED'));
      const lease = await readLease('killed-leader');
      assert.equal(lease.spec?.holderIdentity, 'successor');
      assert.equal(lease.spec?.leaseTransitions, 1);
    } finally {
      child.kill('SIGKILL');
      await exited;
      await successor?.elector.stop();
    }
  });
});

describe('leader election without an API server', () => {
  it('steps down within renewDeadline when the API server is gone', async (t) => {
    const env = await startTestServer();
    const leader = track(kubeConfigOf(env), 'server-gone', 'lonely');
    try {
      await waitFor('leadership', () => leader.elector.isLeader());
      await sleep(500);
      const goneAt = Date.now();
      await env.stop();
      await waitFor('stepping down', () => !leader.elector.isLeader(), 5000);
      const steppedDown = Date.now() - goneAt;
      t.diagnostic(`stepped down ${steppedDown} ms after the server stopped`);
      assert.ok(steppedDown <= TIMING.renewDeadlineMs + 100, `took ${steppedDown} ms`);
      assert.equal(leader.signals.length, 1);
      assert.equal(leader.signals[0]?.aborted, true);
      assert.equal(leader.stops(), 1);
      // It keeps campaigning, but cannot lead without the server.
      await sleep(TIMING.retryPeriodMs * 2);
      assert.equal(leader.elector.isLeader(), false);
    } finally {
      await leader.elector.stop();
      await env.stop().catch(() => undefined);
    }
  });
});
