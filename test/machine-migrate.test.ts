// `simops migrate machines PATH` on a real git working tree: the legacy manifests are rewritten in
// place, comments kept, nothing else touched, and the tree validates afterwards.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { createRepo } from './helpers/git.ts';
import { tempDir } from './helpers/tmp.ts';

const root = new URL('..', import.meta.url).pathname;
const simops = (args: string[], cwd: string) =>
  spawnSync(process.execPath, [join(root, 'bin', 'simops.js'), ...args], { cwd, encoding: 'utf8' });

const legacyBench = `# Bench C, as the old UI wrote it.
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: lh-old
  namespace: default
spec:
  category: LiquidHandler
  # the specific simulated definition the old UI bound it to
  definition: pylabrobot.liquid_handling.backends.simulation.SimulatorBackend
  connectionInfo:
    backend_fqn: pylabrobot.liquid_handling.backends.simulation.SimulatorBackend
    timeout: 5 # seconds
  location: bench-c # by the door
---
# A new-style machine in the same file stays as it is.
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata: {name: fan-2, namespace: default}
spec: {category: Fan}
`;

describe('simops migrate machines', () => {
  it('rewrites the legacy manifests of a working tree; the result keeps comments and validates', () => {
    const dir = tempDir('simops-migrate-');
    cpSync(join(root, 'examples'), dir, { recursive: true, filter: (src) => !src.includes('/.simops') });
    const repo = createRepo(dir);
    repo.commit({ 'manifests/machines/bench-c.yaml': legacyBench }, 'lab with legacy machines');

    const dry = simops(['migrate', 'machines', '--dry-run', '.'], dir);
    assert.equal(dry.status, 0, dry.stderr);
    assert.match(dry.stdout, /would migrate 2 Machine\(s\) in 2 file\(s\)/);
    assert.equal(repo.git('status', '--porcelain'), '', 'a dry run writes nothing');

    const r = simops(['migrate', 'machines', '.'], dir);
    assert.equal(r.status, 0, r.stderr);
    assert.match(
      r.stdout,
      /manifests\/machines\/bench-c\.yaml:10: Machine default\/lh-old: .*SimulatorBackend → backend simulator/,
    );
    assert.match(
      r.stdout,
      /manifests\/machines\/legacy-heater-shaker\.yaml:10: Machine default\/hs-legacy: .* → backend chatterbox/,
    );
    assert.deepEqual(repo.git('diff', '--name-only').split('\n').sort(), [
      'manifests/machines/bench-c.yaml',
      'manifests/machines/legacy-heater-shaker.yaml',
    ]);

    const bench = readFileSync(join(dir, 'manifests/machines/bench-c.yaml'), 'utf8');
    for (const comment of [
      '# Bench C, as the old UI wrote it.',
      '# the specific simulated definition the old UI bound it to',
      'timeout: 5 # seconds',
      'location: bench-c # by the door',
      '# A new-style machine in the same file stays as it is.',
      'metadata: {name: fan-2, namespace: default}\nspec: {category: Fan}\n',
    ])
      assert.ok(bench.includes(comment), `kept ${JSON.stringify(comment)}:\n${bench}`);
    const [lh] = parseAllDocuments(bench) as unknown as { toJS(): { spec: Record<string, unknown> } }[];
    assert.deepEqual(lh!.toJS().spec, {
      category: 'LiquidHandler',
      backend: 'simulator',
      connectionInfo: { timeout: 5 },
      location: 'bench-c',
    });
    const hs = readFileSync(join(dir, 'manifests/machines/legacy-heater-shaker.yaml'), 'utf8');
    assert.match(hs, /^# The legacy form/);
    assert.match(
      hs,
      /\n {2}backend: chatterbox # migrated from pylabrobot\.heating_shaking\.backends\.HeaterShakerChatterboxBackend\n$/,
    );
    assert.doesNotMatch(hs, /^\s+(definition|backend_fqn|connectionInfo):/m);

    const valid = simops(['validate', '.'], dir);
    assert.equal(valid.status, 0, valid.stderr);
  });

  it('exits 1 and names file:line for a legacy backend it cannot map', () => {
    const dir = tempDir('simops-migrate-');
    const repo = createRepo(dir);
    repo.commit({
      'm.yaml':
        'apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: x\nspec:\n  category: Fan\n  definition: acme.FanReplay\n',
    });
    const r = simops(['migrate', 'machines', 'm.yaml'], dir);
    assert.equal(r.status, 1);
    assert.match(
      r.stderr,
      /^m\.yaml:7:3 spec\.definition: Machine x: the legacy backend acme\.FanReplay maps to no short name/m,
    );
    assert.equal(repo.git('status', '--porcelain'), '');
  });
});
