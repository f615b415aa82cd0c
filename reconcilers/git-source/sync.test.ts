// sync() against the embedded API server: which writes are dry-run first, and that a revision the
// server rejects any part of applies nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../../apiserver/embedded.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import { coreKind, simopsKind } from '../../controller/runtime/kinds.ts';
import { type ApplyOptions, KubeClient } from '../../controller/runtime/kube-client.ts';
import { startTestServer } from '../../test/helpers/embedded.ts';
import { labelled } from './desired.ts';
import { isSimOpsServer, sync } from './sync.ts';

const MACHINE = simopsKind('Machine');
const source = { namespace: 'default', name: 'repo' };
/** More creates of one kind in one namespace than sync's default `small` (16). */
const MANY = 20;

const machine = (name: string, namespace: string, spec: Record<string, unknown> = {}): KubeObject =>
  labelled(
    {
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name, namespace },
      spec: { category: 'Fan', ...spec },
    },
    source,
  );
const machines = (namespace: string, n = MANY, prefix = 'm') =>
  Array.from({ length: n }, (_, i) => machine(`${prefix}-${i}`, namespace));
const namespace = (name: string): KubeObject =>
  labelled({ apiVersion: 'v1', kind: 'Namespace', metadata: { name } }, source);

describe('sync', () => {
  let api: Embedded;
  let client: KubeClient;
  /** The apply requests sync made, dry runs apart. */
  let applies: { dryRun: number; real: number };

  before(async () => {
    api = await startTestServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    client = new KubeClient(kc);
    const apply = client.apply.bind(client);
    client.apply = (o: KubeObject, opts: ApplyOptions) => {
      applies[opts.dryRun ? 'dryRun' : 'real']++;
      return apply(o, opts);
    };
  });
  after(() => api.stop());
  const run = (desired: KubeObject[], serverValidatesLikeBuild?: boolean) => {
    applies = { dryRun: 0, real: 0 };
    return sync(client, source, desired, [], { prune: false, serverValidatesLikeBuild });
  };
  const names = async (ns: string) =>
    (await client.list(MACHINE, ns)).items.map((o) => o.metadata.name ?? '').sort();

  it('knows the embedded server for SimOps own', async () => {
    assert.equal(await isSimOpsServer(client), true);
  });

  it('creates new SimOps objects without a dry run, and dry-runs updates and core kinds', async () => {
    const first = await run([namespace('lab'), ...machines('lab')]);
    assert.equal(first.ok, true);
    assert.equal(first.results.filter((r) => r.action === 'created').length, MANY + 1);
    assert.deepEqual(applies, { dryRun: 1, real: MANY + 1 }, 'only the Namespace was dry-run');

    const next = machines('lab');
    next[3] = machine('m-3', 'lab', { location: 'bench-b' });
    const second = await run([namespace('lab'), ...next]);
    assert.equal(second.ok, true);
    assert.deepEqual(applies, { dryRun: 1, real: 1 }, 'the update was dry-run');
  });

  it('dry-runs a few creates, and every create when the server is not known to judge as the build', async () => {
    await run(machines('default', 3, 'few'));
    assert.deepEqual(applies, { dryRun: 3, real: 3 });
    await run(machines('default', MANY, 'other'), false);
    assert.deepEqual(applies, { dryRun: MANY, real: MANY });
  });

  it('applies nothing when a create merges into an object that is not ours and the server rejects that', async () => {
    // Someone else's Machine by the name git uses, with a canned result; git's sets an error: each
    // alone is valid, both at once are not.
    await client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Machine',
        metadata: { name: 'x-7', namespace: 'default' },
        spec: { category: 'Fan', simulation: { responses: { read: { result: 1 } } } },
      },
      { fieldManager: 'kubectl', force: true },
    );
    const desired = machines('default', MANY, 'x');
    desired[7] = machine('x-7', 'default', { simulation: { responses: { read: { error: 'jammed' } } } });
    const result = await run(desired);
    assert.equal(result.ok, false);
    assert.deepEqual(
      result.results.filter((r) => r.action === 'failed').map((r) => r.id),
      ['default_x-7_simops.dev_Machine'],
    );
    assert.deepEqual(applies, { dryRun: 1, real: 0 });
    assert.deepEqual(
      (await names('default')).filter((n) => n.startsWith('x-')),
      ['x-7'],
      'nothing of the revision applied',
    );
  });

  it('applies nothing when a namespace does not exist, and creates in a namespace of the same revision', async () => {
    const missing = await run([...machines('nowhere'), ...machines('default', 2, 'y')]);
    assert.equal(missing.ok, false);
    assert.equal(missing.results.filter((r) => r.action === 'failed').length, MANY);
    assert.equal(applies.real, 0);
    assert.deepEqual(
      (await names('default')).filter((n) => n.startsWith('y-')),
      [],
      'nothing of the revision applied',
    );

    const created = await run([namespace('fresh'), ...machines('fresh')]);
    assert.equal(created.ok, true);
    assert.equal((await names('fresh')).length, MANY);
    assert.ok(await client.get(coreKind('Namespace'), '', 'fresh'));
  });
});
