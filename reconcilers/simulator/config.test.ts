import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { SimulatorSpec } from '../../crds/simulator.ts';
import { cpuQuantity, memoryQuantity, parseCompose, splitCommand } from './compose.ts';
import { parseFlowsFile, resolveConfig } from './config.ts';

const files = (map: Record<string, string>) => async (path: string) => {
  if (!(path in map)) throw new Error(`${path}: no such file in the source`);
  return Buffer.from(map[path]!);
};

const spec = (extra: Partial<SimulatorSpec['datasets'][string]> = {}): SimulatorSpec => ({
  service: 'booking',
  datasets: {
    base: {
      compute: { cpus: 1, memoryMiB: 512, diskMiB: 1024, appPort: 8080 },
      ...extra,
    },
  },
});

describe('compose files', () => {
  it('reads image, command, entrypoint, environment (list or map), ports and resources', () => {
    const r = parseCompose(`services:
  web:
    image: node:24-slim
    command: node /app/server.mjs --name "a b"
    entrypoint: ["/bin/sh", "-c"]
    environment: [PORT=8080, "GREETING=a=b"]
    ports: ["80:8080", 9090, "127.0.0.1:7000:7001/tcp", {target: 7002, published: 1}]
    network_mode: host
    deploy: {resources: {limits: {cpus: "0.5", memory: 512m}, reservations: {memory: 1g}}}
  db:
    image: postgres:16
    environment: {POSTGRES_PASSWORD: x, EMPTY: null}
`);
    assert.ok(r.ok);
    const [web, db] = r.services;
    assert.deepEqual(web?.command, ['node', '/app/server.mjs', '--name', 'a b']);
    assert.deepEqual(web?.entrypoint, ['/bin/sh', '-c']);
    assert.deepEqual(web?.environment, { PORT: '8080', GREETING: 'a=b' });
    assert.deepEqual(web?.ports, [8080, 9090, 7001, 7002]);
    assert.equal(web?.networkMode, 'host');
    assert.deepEqual(web?.limits, { cpu: '500m', memory: '512Mi' });
    assert.deepEqual(web?.requests, { memory: '1Gi' });
    assert.deepEqual(db?.environment, { POSTGRES_PASSWORD: 'x', EMPTY: '' });
  });

  it('names the field of an error', () => {
    const r = parseCompose('services:\n  web:\n    ports: ["http"]\n    environment: [NOPE]\n');
    assert.ok(!r.ok);
    assert.deepEqual(r.errors, [
      'services.web.environment[0]: expected NAME=value, got "NOPE"',
      'services.web.ports[0]: "http" is not a port',
    ]);
    assert.deepEqual(parseCompose('version: 3').ok, false);
  });

  it('converts sizes and CPU counts to Kubernetes quantities', () => {
    assert.equal(memoryQuantity('256M'), '256Mi');
    assert.equal(memoryQuantity('2g'), '2Gi');
    assert.equal(memoryQuantity('100b'), '100');
    assert.equal(memoryQuantity('lots'), undefined);
    assert.equal(cpuQuantity('2'), '2');
    assert.equal(cpuQuantity(0.25), '250m');
    assert.deepEqual(splitCommand(`sh -c 'echo hi'`), ['sh', '-c', 'echo hi']);
  });
});

describe('simulator config', () => {
  it('reads the flows file next to inline flows and hashes everything', async () => {
    const s: SimulatorSpec = {
      ...spec({ metadata: { startUrl: '/', flowsPath: 'flows/flows.yaml' } }),
      flows: [{ name: 'smoke', steps: [{ type: 'navigate', url: '/' }] }],
    };
    const flowsFile = 'flows:\n  - name: login\n    steps:\n      - {type: navigate, url: /login}\n';
    const r = await resolveConfig(s, files({ 'flows/flows.yaml': flowsFile }));
    assert.ok(r.ok);
    assert.deepEqual(
      r.config.datasets.base!.flows.map((f) => f.name),
      ['smoke', 'login'],
    );
    const again = await resolveConfig(
      s,
      files({ 'flows/flows.yaml': flowsFile.replace('/login', '/signin') }),
    );
    assert.ok(again.ok);
    assert.notEqual(again.config.configHash, r.config.configHash, 'a flows edit changes the config hash');
    assert.equal(
      again.config.datasets.base!.envHash,
      r.config.datasets.base!.envHash,
      'but not what the sandbox runs',
    );
  });

  it('rejects a path that leaves the repository, and names the file and field of a bad flow', async () => {
    const outside = await resolveConfig(
      spec({ metadata: { startUrl: '/', flowsPath: '../outside.yaml' } }),
      files({}),
    );
    assert.ok(!outside.ok);
    assert.match(
      outside.errors[0]!,
      /spec\.datasets\.base\.metadata\.flowsPath: "\.\.\/outside\.yaml": the path must not contain "\.\." segments/,
    );
    const abs = await resolveConfig(
      spec({ services: { web: { type: 'process', command: '/bin/sh' } } }),
      files({}),
    );
    assert.ok(!abs.ok);
    assert.match(abs.errors[0]!, /services\.web\.command: "\/bin\/sh": the path must be relative/);
    const bad = parseFlowsFile(
      'f.yaml',
      'flows:\n  - name: x\n    steps:\n      - {type: fill, selector: "#a"}\n',
    );
    assert.deepEqual(bad, { errors: ['f.yaml: flows[0].steps[0]: a fill step needs selector and value'] });
  });

  it('reads compose services from the file a compose service names', async () => {
    const r = await resolveConfig(
      spec({
        services: {
          app: { type: 'compose', file: 'docker-compose.yml', envFrom: [{ secretRef: { name: 'app' } }] },
        },
      }),
      files({ 'docker-compose.yml': 'services:\n  web:\n    image: nginx:1.27\n' }),
    );
    assert.ok(r.ok);
    assert.equal(r.config.datasets.base!.composeServices[0]?.image, 'nginx:1.27');
    assert.deepEqual(r.config.datasets.base!.composeServices[0]?.envFrom, [{ secretRef: { name: 'app' } }]);
    const missing = await resolveConfig(
      spec({ services: { app: { type: 'compose', file: 'nope.yml' } } }),
      files({}),
    );
    assert.ok(!missing.ok);
    assert.match(missing.errors[0]!, /services\.app\.file: nope\.yml: no such file/);
  });
});
