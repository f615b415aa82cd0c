// Machine end to end: the embedded API server, SimOps' controllers as `simops up` runs them, a
// real git repository applied by a GitSource, real sockets for live mode, the command endpoint
// over HTTP, and the real kubectl for the columns.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import { REQUESTED_AT } from '../controller/runtime/status.ts';
import type { Condition } from '../crds/common.ts';
import { MACHINE_CATEGORIES, type MachineStatus } from '../crds/machine.ts';
import { BUILTIN_CATEGORIES } from '../reconcilers/machine/catalog.ts';
import { tracePath } from '../reconcilers/machine/endpoint.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo, type TestRepo } from './helpers/git.ts';
import { kubectl } from './helpers/kubectl.ts';
import { tempDir } from './helpers/tmp.ts';

const GS = simopsKind('GitSource');
const MACHINE = simopsKind('Machine');

const eventually = async <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 8000) => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 40));
  }
};

const machineYaml = (name: string, spec: Record<string, unknown>) =>
  `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: ${name}
spec: ${JSON.stringify(spec)}
`;

const slug = (category: string) => category.toLowerCase();

describe('Machine', () => {
  let api: Embedded;
  let running: Running;
  let repo: TestRepo;
  const artifactDir = tempDir('simops-artifacts-');
  const kc = new KubeConfig();
  const client = () => running.manager.client;
  const statusOf = async (name: string) =>
    ((await client().get(MACHINE, 'default', name))?.status ?? {}) as MachineStatus;
  const ready = (s: MachineStatus) => getCondition(s.conditions as Condition[], 'Ready');
  const waitFor = (name: string, reason: string, timeoutMs?: number) =>
    eventually(
      `${name} ${reason}`,
      async () => {
        const s = await statusOf(name);
        return ready(s)?.reason === reason && s;
      },
      timeoutMs,
    );
  const sync = async (files: Record<string, string | null>) => {
    const sha = repo.commit(files);
    await client().mergePatch(GS, 'default', 'lab', { metadata: { annotations: { [REQUESTED_AT]: sha } } });
    await eventually(`lab at ${sha}`, async () => {
      const s = (await client().get(GS, 'default', 'lab'))?.status as { lastAppliedRevision?: string };
      return s?.lastAppliedRevision === `main@sha1:${sha}`;
    });
  };
  const command = async (endpoint: string, body: unknown) => {
    const res = await fetch(endpoint, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      health: { host: '127.0.0.1', port: 0 },
    });
    repo = createRepo();
    const files: Record<string, string> = {};
    for (const category of MACHINE_CATEGORIES)
      files[`machines/${slug(category)}.yaml`] = machineYaml(`sim-${slug(category)}`, { category });
    Object.assign(files, {
      'machines/by-fqn.yaml': machineYaml('lh-fqn', {
        category: 'LiquidHandler',
        backend: 'pylabrobot.liquid_handling.backends.simulation.simulator_backend.SimulatorBackend',
      }),
      'machines/by-name.yaml': machineYaml('lh-short', { category: 'LiquidHandler', backend: 'simulator' }),
      'machines/unknown.yaml': machineYaml('lh-unknown', { category: 'LiquidHandler', backend: 'hamilton' }),
      'machines/legacy.yaml': `# a legacy machine
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: hs-legacy
spec:
  category: HeaterShaker
  definition: pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend
  connectionInfo:
    backend_fqn: pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend
`,
      'machines/reader.yaml': machineYaml('reader', {
        category: 'PlateReader',
        simulation: {
          responses: {
            read_luminescence: { result: [[7, 7]] },
            get_temperature: { sequence: [20, 37] },
            open: { error: 'door jammed' },
          },
        },
      }),
    });
    repo.commit(files);
    await client().apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'lab', namespace: 'default' },
        spec: { url: repo.url, interval: '1h' },
      },
      { fieldManager: 'test' },
    );
  });
  after(async () => {
    await running.stop();
    await api.stop();
  });

  it('makes one simulated machine per category Ready, bound to its one simulated frontend with the default backend', async () => {
    for (const c of BUILTIN_CATEGORIES) {
      const s = await waitFor(`sim-${slug(c.name)}`, 'Simulated');
      assert.deepEqual(s.definition, {
        name: `Simulated ${c.displayName}`,
        fqn: `simops.simulated.${c.name}`,
        frontendFqn: c.frontendFqn,
      });
      assert.deepEqual(s.backend, { name: 'chatterbox', fqn: c.backends[0]!.fqn });
      assert.equal(s.mode, 'simulated');
      assert.equal(s.phase, 'Running');
      assert.equal(ready(s)?.status, 'True');
      assert.equal(s.endpoint, `${running.healthUrl}/machines/default/sim-${slug(c.name)}/commands`);
    }
    const defs = new Set<string>();
    for (const c of MACHINE_CATEGORIES) defs.add((await statusOf(`sim-${slug(c)}`)).definition!.fqn);
    assert.equal(defs.size, 15, 'one definition per category, not one per backend');
  });

  it('resolves an explicit FQN and a short name identically', async () => {
    const a = await waitFor('lh-fqn', 'Simulated');
    const b = await waitFor('lh-short', 'Simulated');
    assert.deepEqual(a.backend, b.backend);
    assert.deepEqual(a.definition, b.definition);
    assert.equal(a.backend?.name, 'simulator');
  });

  it('stalls an unknown backend, listing the valid choices, with a Warning event', async () => {
    const s = await waitFor('lh-unknown', 'UnknownBackend');
    const r = ready(s)!;
    assert.equal(r.status, 'False');
    assert.match(
      r.message,
      /valid choices: chatterbox \(pylabrobot\.[\w.]+\), simulator \(pylabrobot\.[\w.]+\)/,
    );
    assert.equal(getCondition(s.conditions as Condition[], 'Stalled')?.status, 'True');
    assert.equal(s.phase, 'Failed');
    assert.equal(s.backend, undefined);
    const events = await eventually('UnknownBackend event', async () => {
      const list = await client().list(coreKind('Event'), 'default');
      const mine = list.items.filter(
        (e) => (e.involvedObject as { name: string }).name === 'lh-unknown' && e.reason === 'UnknownBackend',
      );
      return mine.length > 0 && mine;
    });
    assert.equal(events[0]!.type, 'Warning');
  });

  it('migrates a legacy machine in status and says so in an Event', async () => {
    const s = await waitFor('hs-legacy', 'Simulated');
    assert.deepEqual(s.migratedFrom, {
      definition: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend',
      backendFqn: 'pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend',
    });
    assert.equal(s.backend?.name, 'chatterbox');
    assert.equal(s.definition?.fqn, 'simops.simulated.HeaterShaker');
    assert.match(ready(s)!.message, /simops migrate machines/);
    await eventually('Migrated event', async () => {
      const list = await client().list(coreKind('Event'), 'default');
      return list.items.some(
        (e) => (e.involvedObject as { name: string }).name === 'hs-legacy' && e.reason === 'Migrated',
      );
    });
  });

  it('uses a category that a catalog ConfigMap committed to git adds', async () => {
    await sync({ 'machines/scope.yaml': machineYaml('scope-1', { category: 'Microscope' }) });
    const before = await waitFor('scope-1', 'UnknownCategory');
    assert.match(ready(before)!.message, /valid categories: LiquidHandler, .*SCARA$/);
    await sync({
      'catalog.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: simops-machine-catalog
data:
  catalog.yaml: |
    categories:
      Microscope:
        frontendFqn: acme.microscopy.Microscope
        backends:
          - acme.microscopy.MicroscopeSimulatorBackend
          - { name: replay, fqn: acme.microscopy.ReplayBackend }
`,
    });
    const s = await waitFor('scope-1', 'Simulated');
    assert.deepEqual(s.definition, {
      name: 'Simulated Microscope',
      fqn: 'simops.simulated.Microscope',
      frontendFqn: 'acme.microscopy.Microscope',
    });
    assert.deepEqual(s.backend, { name: 'simulator', fqn: 'acme.microscopy.MicroscopeSimulatorBackend' });
    // A broken catalog stalls the machines of the namespace, naming the ConfigMap and the field.
    await sync({
      'catalog.yaml': `apiVersion: v1
kind: ConfigMap
metadata:
  name: simops-machine-catalog
data:
  catalog.yaml: |
    categories:
      Microscope:
        backends: [acme.microscopy.MicroscopeSimulatorBackend]
`,
    });
    const broken = await waitFor('scope-1', 'InvalidCatalog');
    assert.equal(broken.backend, undefined, 'a stalled machine names no backend');
    assert.equal(broken.endpoint, undefined, 'and serves no endpoint');
    assert.equal(broken.phase, 'Failed');
    assert.match(
      ready(broken)!.message,
      /ConfigMap default\/simops-machine-catalog catalog\.yaml: categories\.Microscope\.frontendFqn: required/,
    );
    await sync({ 'catalog.yaml': null, 'machines/scope.yaml': null });
  });

  it('answers commands as a chatterbox, honours canned responses and keeps the trace', async () => {
    const s = await waitFor('reader', 'Simulated');
    const endpoint = s.endpoint!;
    const plate = await command(endpoint, { operation: 'read_absorbance', args: { wavelength: 450 } });
    assert.equal(plate.status, 200);
    const rows = plate.body.result as number[][];
    assert.equal(rows.length, 8);
    assert.ok(rows.every((r) => r.length === 12 && r.every((v) => v === 0)));
    assert.equal(plate.body.output, 'chatterbox: read_absorbance(wavelength=450)');
    const ack = await command(endpoint, { operation: 'setup' });
    assert.deepEqual([ack.body.ok, ack.body.result, ack.body.seq], [true, null, 2]);
    assert.deepEqual((await command(endpoint, { operation: 'read_luminescence' })).body.result, [[7, 7]]);
    const temps = [];
    for (let i = 0; i < 3; i++)
      temps.push((await command(endpoint, { operation: 'get_temperature' })).body.result);
    assert.deepEqual(temps, [20, 37, 37]);
    const jammed = await command(endpoint, { operation: 'open' });
    assert.deepEqual([jammed.status, jammed.body.ok, jammed.body.error], [200, false, 'door jammed']);
    assert.equal((await command(endpoint, '{not json')).status, 400);
    assert.equal((await command(endpoint, { args: {} })).status, 400);
    assert.equal(
      (await command(endpoint.replace('/reader/', '/nobody/'), { operation: 'setup' })).status,
      404,
    );
    assert.equal(
      (await command(endpoint.replace('/reader/', '/lh-unknown/'), { operation: 'setup' })).status,
      404,
    );

    const lines = readFileSync(tracePath(artifactDir, 'default', 'reader'), 'utf8')
      .trim()
      .split('\n');
    const trace = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.deepEqual(
      trace.map((t) => [t.seq, t.operation, t.ok]),
      [
        [1, 'read_absorbance', true],
        [2, 'setup', true],
        [3, 'read_luminescence', true],
        [4, 'get_temperature', true],
        [5, 'get_temperature', true],
        [6, 'get_temperature', true],
        [7, 'open', false],
      ],
    );
    assert.deepEqual(trace[0]!.args, { wavelength: 450 });
    assert.equal(trace[0]!.backendFqn, 'pylabrobot.plate_reading.chatterbox.PlateReaderChatterboxBackend');
    const served = await fetch(endpoint.replace(/commands$/, 'trace'));
    assert.equal(served.headers.get('content-type'), 'application/x-ndjson');
    assert.equal((await served.text()).trim().split('\n').length, 7);

    // A deleted machine no longer answers; its trace stays.
    await client().delete(MACHINE, 'default', 'lh-fqn');
    const lhEndpoint = `${running.healthUrl}/machines/default/lh-fqn/commands`;
    await eventually(
      'lh-fqn endpoint gone',
      async () => (await command(lhEndpoint, { operation: 'x' })).status === 404,
    );
  });

  describe('live mode', () => {
    let listening: Server;
    let openPort = 0;
    let closedPort = 0;
    const listen = (port = 0) =>
      new Promise<Server>((resolve, reject) => {
        const s = createServer((socket) => socket.end());
        s.once('error', reject);
        s.listen(port, '127.0.0.1', () => resolve(s));
      });
    const portOf = (s: Server) => (s.address() as { port: number }).port;
    const live = (name: string, port: number): KubeObject => ({
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name, namespace: 'default' },
      spec: {
        category: 'LiquidHandler',
        simulated: false,
        backend: 'pylabrobot.liquid_handling.backends.hamilton.STAR_backend.STARBackend',
        connectionInfo: { host: '127.0.0.1', port },
        checkIntervalSeconds: 1,
      },
    });

    before(async () => {
      listening = await listen();
      openPort = portOf(listening);
      const spare = await listen();
      closedPort = portOf(spare);
      await new Promise((r) => spare.close(r));
    });
    after(() => new Promise((r) => listening.close(r)));

    it('is Ready when the device accepts a connection, and writes nothing while that holds', async () => {
      await client().apply(live('lh-live', openPort), { fieldManager: 'test' });
      const s = await waitFor('lh-live', 'Reachable');
      assert.equal(s.mode, 'live');
      assert.equal(s.phase, 'Running');
      assert.equal(s.endpoint, undefined, 'a live machine has no simulated endpoint');
      assert.deepEqual(s.backend, {
        name: 'star',
        fqn: 'pylabrobot.liquid_handling.backends.hamilton.STAR_backend.STARBackend',
      });
      assert.equal(s.definition?.fqn, 'pylabrobot.liquid_handling.LiquidHandler');
      const rv = (await client().get(MACHINE, 'default', 'lh-live'))!.metadata.resourceVersion;
      await new Promise((r) => setTimeout(r, 2300)); // two re-checks at a 1 s interval
      assert.equal((await client().get(MACHINE, 'default', 'lh-live'))!.metadata.resourceVersion, rv);
    });

    it('is Unreachable on a closed port, and Ready once something listens there', async () => {
      await client().apply(live('lh-closed', closedPort), { fieldManager: 'test' });
      const s = await waitFor('lh-closed', 'Unreachable');
      assert.equal(ready(s)?.status, 'False');
      assert.equal(s.phase, 'Unreachable');
      assert.match(ready(s)!.message, new RegExp(`127\\.0\\.0\\.1:${closedPort}: .*ECONNREFUSED`));
      const late = await listen(closedPort);
      try {
        await waitFor('lh-closed', 'Reachable', 5000);
      } finally {
        await new Promise((r) => late.close(r));
      }
    });
  });

  it('shows Category, Backend, Mode, Ready and Age in kubectl get machines', async () => {
    const r = await kubectl(['get', 'machines'], { kubeconfig: api.kubeconfigPath });
    assert.equal(r.code, 0, r.stderr);
    const [header, ...rows] = r.stdout.trim().split('\n');
    assert.deepEqual(header!.trim().split(/\s{2,}/), ['NAME', 'CATEGORY', 'BACKEND', 'MODE', 'READY', 'AGE']);
    const row = (name: string) =>
      rows
        .find((l) => l.startsWith(`${name} `))
        ?.trim()
        .split(/\s+/)
        .slice(0, 5);
    assert.deepEqual(row('sim-liquidhandler'), [
      'sim-liquidhandler',
      'LiquidHandler',
      'chatterbox',
      'simulated',
      'True',
    ]);
    assert.deepEqual(row('lh-short'), ['lh-short', 'LiquidHandler', 'simulator', 'simulated', 'True']);
    assert.deepEqual(row('lh-live'), ['lh-live', 'LiquidHandler', 'star', 'live', 'True']);
    const wide = await kubectl(['get', 'mach', 'reader', '-o', 'wide'], { kubeconfig: api.kubeconfigPath });
    assert.match(wide.stdout.split('\n')[0]!, /PHASE\s+LOCATION\s+ENDPOINT\s+AGE/);
    assert.match(wide.stdout, /Running\s+.*http:\/\/127\.0\.0\.1:\d+\/machines\/default\/reader\/commands/);
  });
});

// Trace paths stay inside the artifact directory whatever the request says.
describe('command endpoint paths', () => {
  it('keeps traces under <artifactDir>/machines/<namespace>/<name>/', () => {
    assert.equal(
      tracePath('/a', 'default', 'reader'),
      join('/a', 'machines', 'default', 'reader', 'commands.jsonl'),
    );
  });
});
