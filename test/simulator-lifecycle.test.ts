// The simulator lifecycle of seed 000, declaratively, from git commits: a sandbox from the config →
// snapshot (a base artifact) → a sandbox from {artifact} restores the data and passes its flows
// (verified) → reviews.base rejected (back, with the comment), then approved (prod-latest tagged
// with the digest) → a sandbox from {tag: prod-latest} seeds data → data snapshot →
// reviews.data approved → Production. Real git, the embedded API server, SimOps' controllers as
// `simops up` runs them, real processes and Chromium.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { type Running, runController } from '../controller/run.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import type { SandboxStatus } from '../crds/sandbox.ts';
import type { SimulatorStatus } from '../crds/simulator.ts';
import {
  applySource,
  demoFiles,
  eventsOf,
  eventually,
  ready,
  SANDBOX,
  SIMULATOR,
  sync,
  yaml,
} from './helpers/demo.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo, type TestRepo } from './helpers/git.ts';
import { processesUnder } from './helpers/processes.ts';
import { tempDir } from './helpers/tmp.ts';

const examples = new URL('../examples/manifests/simulators/booking.yaml', import.meta.url);
/** The demo Simulator with a data check flow and, when given, reviews. */
const simulatorYaml = (reviews?: object) => {
  const text = readFileSync(examples, 'utf8').replace(
    '  flows:\n',
    `  flows:
    - name: bookings
      description: The dashboard shows the bookings of the environment
      steps:
        - {type: navigate, url: /dashboard}
        - {type: assert_text, selector: "#dashboard", text: "$(BOOKINGS) bookings"}
`,
  );
  return reviews ? `${text}  reviews: ${JSON.stringify(reviews)}\n` : text;
};

const sandboxYaml = (name: string, spec: Record<string, unknown>) =>
  yaml({
    apiVersion: 'simops.dev/v1alpha1',
    kind: 'Sandbox',
    metadata: { name, namespace: 'default' },
    spec: { simulatorRef: { name: 'booking' }, ...spec },
  });

describe('the simulator lifecycle from git', () => {
  let api: Embedded;
  let running: Running;
  let repo: TestRepo;
  const artifactDir = tempDir('simops-artifacts-');
  const client = () => running.manager.client;
  const sim = async () =>
    ((await client().get(SIMULATOR, 'default', 'booking'))?.status ?? {}) as SimulatorStatus;
  const sbx = async (name: string) =>
    ((await client().get(SANDBOX, 'default', name))?.status ?? {}) as SandboxStatus;
  const simPhase = (phase: string) =>
    eventually(`simulator ${phase}`, async () => {
      const s = await sim();
      return s.phase === phase && s;
    });
  const bookings = async (endpoint: string) =>
    ((await (await fetch(`${endpoint}/api/bookings`)).json()) as { slot: string }[]).map((b) => b.slot);
  /** The flows with the expected number of bookings for the data check. */
  const withCount = (n: number) => simulatorYaml().replace('$(BOOKINGS)', String(n));
  let base = '';
  let data = '';

  before(async () => {
    api = await startTestServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      processRuntime: true,
      health: { host: '127.0.0.1', port: 0 },
    });
    repo = createRepo();
    repo.commit({
      ...demoFiles(),
      'manifests/sandboxes/booking-dev.yaml': null,
      'manifests/simulators/booking.yaml': withCount(1),
      'manifests/sandboxes/dev.yaml': sandboxYaml('dev', { source: { config: true }, flows: ['login'] }),
    });
    await applySource(client(), repo);
  });
  after(async () => {
    await running.stop();
    await api.stop();
    assert.deepEqual(processesUnder(artifactDir), []);
  });

  it('Development: a sandbox from the config is snapshotted into a content-addressed base artifact', async () => {
    const dev = await eventually('dev flows', async () => {
      const s = await sbx('dev');
      return s.phase === 'Ready' && s.flowRuns?.[0]?.result === 'Passed' && s;
    });
    assert.equal((await sim()).phase, 'Development');
    // Someone uses the environment: its state is what the snapshot keeps.
    await fetch(`${dev.endpoint}/api/bookings`, {
      method: 'POST',
      body: JSON.stringify({ slot: 'base-morning' }),
    });
    await sync(client(), repo, {
      'manifests/sandboxes/dev.yaml': sandboxYaml('dev', {
        source: { config: true },
        flows: ['login'],
        snapshot: { requestedAt: 'base-1' },
      }),
    });
    const snap = await eventually('the snapshot', async () => (await sbx('dev')).lastSnapshot);
    assert.match(snap.artifact, /^art_[0-9a-f]{12}$/);
    assert.match(snap.digest, /^sha256:[0-9a-f]{64}$/);
    assert.equal(snap.artifact, `art_${snap.digest.slice(7, 19)}`);
    assert.equal(snap.layer, 'base');
    base = snap.artifact;
    const recorded = await eventually('the artifact in the simulator', async () =>
      (await sim()).artifacts?.find((a) => a.id === base),
    );
    assert.deepEqual(
      {
        layer: recorded.layer,
        verified: recorded.verified,
        sourceSandbox: recorded.sourceSandbox,
        digest: recorded.digest,
      },
      { layer: 'base', verified: false, sourceSandbox: 'dev', digest: snap.digest },
    );
    // The services came back after the snapshot, with their data.
    const after = await eventually('dev Ready again', async () => {
      const s = await sbx('dev');
      return s.phase === 'Ready' && s;
    });
    assert.deepEqual(await bookings(after.endpoint!), ['base-morning']);
  });

  it('self-review: a sandbox from {artifact} restores the data, passes its flows, and verifies the artifact', async () => {
    await sync(client(), repo, {
      'manifests/sandboxes/review.yaml': sandboxYaml('review', {
        source: { artifact: base },
        flows: ['login', 'bookings'],
      }),
    });
    const review = await eventually('review flows', async () => {
      const s = await sbx('review');
      return s.flowRuns?.length === 2 && s.flowRuns.every((r) => r.result !== 'Running') && s;
    });
    assert.deepEqual(
      review.flowRuns?.map((r) => [r.flow, r.result, r.message]),
      [
        ['login', 'Passed', undefined],
        ['bookings', 'Passed', undefined],
      ],
    );
    assert.deepEqual(review.resolvedSource, {
      artifact: base,
      digest: (await sbx('dev')).lastSnapshot!.digest,
    });
    assert.deepEqual(await bookings(review.endpoint!), ['base-morning']);
    const verified = await eventually('verified', async () =>
      (await sim()).artifacts?.find((a) => a.id === base && a.verified),
    );
    assert.equal(verified.verifiedBy, 'review');
    assert.ok((await eventsOf(client(), 'review')).some((e) => e.reason === 'Verified'));
  });

  it('BaseReview: a rejection sends it back with the comment; an approval tags prod-latest with the digest', async () => {
    await sync(client(), repo, {
      'manifests/simulators/booking.yaml': simulatorYaml({
        base: { artifact: base, decision: 'pending' },
      }).replace('$(BOOKINGS)', '1'),
    });
    await simPhase('BaseReview');
    await sync(client(), repo, {
      'manifests/simulators/booking.yaml': simulatorYaml({
        base: {
          artifact: base,
          decision: 'rejected',
          reviewer: 'kim',
          comment: 'the login page needs a title',
        },
      }).replace('$(BOOKINGS)', '1'),
    });
    const rejected = await simPhase('Development');
    assert.equal(rejected.reviewComment, 'the login page needs a title');
    assert.equal(rejected.tags, undefined);
    const warning = await eventually('BaseRejected', async () =>
      (await eventsOf(client(), 'booking')).find((e) => e.reason === 'BaseRejected'),
    );
    assert.equal(warning.type, 'Warning');
    assert.match(String(warning.message), /rejected by kim: the login page needs a title/);

    await sync(client(), repo, {
      'manifests/simulators/booking.yaml': simulatorYaml({
        base: { artifact: base, decision: 'approved' },
      }).replace('$(BOOKINGS)', '1'),
    });
    const approved = await simPhase('DataLayer');
    const digest = approved.artifacts!.find((a) => a.id === base)!.digest;
    assert.deepEqual(approved.tags?.['prod-latest'], { artifact: base, digest });
    assert.equal(approved.reviewComment, undefined);
    assert.equal(ready(await client().get(SIMULATOR, 'default', 'booking'))?.status, 'True');
  });

  it('DataLayer: a sandbox from {tag: prod-latest} seeds data, and its snapshot is a data artifact', async () => {
    await sync(client(), repo, {
      'manifests/sandboxes/review.yaml': null,
      'manifests/sandboxes/dev.yaml': null,
      'manifests/sandboxes/data.yaml': sandboxYaml('data', {
        source: { tag: 'prod-latest' },
        seed: [
          { name: 'afternoon', http: { path: '/api/bookings', json: { slot: 'afternoon' } } },
          { http: { method: 'POST', path: '/api/bookings', body: '{"slot":"evening"}', expectStatus: 201 } },
          {
            name: 'marker',
            command: { command: 'node', args: ['-e', "require('fs').writeFileSync('seeded.txt','yes')"] },
          },
        ],
        snapshot: { requestedAt: 'data-1' },
      }),
    });
    const seeded = await eventually('seeded and snapshotted', async () => {
      const s = await sbx('data');
      return s.seed?.result === 'Passed' && s.lastSnapshot && s.phase === 'Ready' && s;
    });
    assert.deepEqual(seeded.resolvedSource?.artifact, base);
    assert.equal(seeded.seed?.steps, 3);
    assert.deepEqual(await bookings(seeded.endpoint!), ['base-morning', 'afternoon', 'evening']);
    assert.equal(seeded.lastSnapshot?.layer, 'data');
    data = seeded.lastSnapshot!.artifact;
    assert.notEqual(data, base);
    const recorded = await eventually('the data artifact', async () =>
      (await sim()).artifacts?.find((a) => a.id === data),
    );
    assert.equal(recorded.layer, 'data');
    assert.ok((await eventsOf(client(), 'data')).some((e) => e.reason === 'Seeded'));
  });

  it('DataReview → Production: approving the data moves prod-latest to it', async () => {
    const reviews = (decision: string) => ({
      base: { artifact: base, decision: 'approved' },
      data: { artifact: data, decision },
    });
    await sync(client(), repo, {
      'manifests/simulators/booking.yaml': simulatorYaml(reviews('pending')).replace('$(BOOKINGS)', '3'),
    });
    const pending = await simPhase('DataReview');
    assert.equal(
      pending.tags?.['prod-latest']?.artifact,
      base,
      'production stays on the approved base meanwhile',
    );
    await sync(client(), repo, {
      'manifests/simulators/booking.yaml': simulatorYaml(reviews('approved')).replace('$(BOOKINGS)', '3'),
    });
    const prod = await simPhase('Production');
    const digest = prod.artifacts!.find((a) => a.id === data)!.digest;
    assert.deepEqual(prod.tags?.['prod-latest'], { artifact: data, digest });
    assert.deepEqual(prod.tags?.['base-latest']?.artifact, base);
    const tagged = (await eventsOf(client(), 'booking'))
      .filter((e) => e.reason === 'Tagged')
      .map((e) => e.message);
    assert.ok(
      tagged.some((m) => String(m).includes(`prod-latest → ${data} (${digest})`)),
      tagged.join('; '),
    );
    // A sandbox from prod-latest now starts from the data artifact and passes the data check.
    await sync(client(), repo, {
      'manifests/sandboxes/data.yaml': null,
      'manifests/sandboxes/prod.yaml': sandboxYaml('prod', {
        source: { tag: 'prod-latest' },
        flows: ['bookings'],
      }),
    });
    const p = await eventually('prod flows', async () => {
      const s = await sbx('prod');
      return s.flowRuns?.[0]?.result && s.flowRuns[0].result !== 'Running' && s;
    });
    assert.equal(p.flowRuns?.[0]?.result, 'Passed', p.flowRuns?.[0]?.message);
    assert.equal(p.resolvedSource?.artifact, data);
  });
});
