import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { migrateManifestText } from './migrate-manifest.ts';

const legacy = `# Legacy machines, kept for the audit.
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: hs-legacy # the name
  namespace: default
spec:
  category: HeaterShaker
  # bound to a specific simulated definition
  definition: pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend
  connectionInfo:
    backend_fqn: pylabrobot.heating_shaking.backends.HeaterShakerChatterboxBackend
  location: bench-b # by the window
---
# Untouched: already in the category form.
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata: {name: fan-1}
spec: {category: Fan, backend: chatterbox}
---
apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: lh-old
spec:
  category: LiquidHandler
  connectionInfo:
    backend_fqn: pylabrobot.liquid_handling.backends.simulation.SimulatorBackend
    baud: 9600
`;

describe('migrateManifestText', () => {
  it('rewrites legacy Machines into the category form and keeps comments and other documents', () => {
    const r = migrateManifestText(legacy);
    assert.deepEqual(r.problems, []);
    assert.deepEqual(
      r.migrated.map((m) => [m.machine, m.backend, m.line]),
      [
        ['default/hs-legacy', 'chatterbox', 10],
        ['lh-old', 'simulator', 28],
      ],
    );
    const text = r.text;
    for (const kept of [
      '# Legacy machines, kept for the audit.',
      '# bound to a specific simulated definition',
      'location: bench-b # by the window',
      '# Untouched: already in the category form.',
      'metadata: {name: fan-1}\nspec: {category: Fan, backend: chatterbox}\n',
    ])
      assert.ok(text.includes(kept), `keeps ${JSON.stringify(kept)}:\n${text}`);
    assert.doesNotMatch(text, /definition:|backend_fqn/);
    assert.match(
      text,
      /category: HeaterShaker\n {2}# bound to a specific simulated definition\n {2}backend: chatterbox # migrated from pylabrobot\.heating_shaking\.backends\.HeaterShakerChatterboxBackend\n {2}location: bench-b/,
    );
    const docs = text.split(/^---$/m).map((d) => parse(d));
    assert.deepEqual(docs[2].spec, {
      category: 'LiquidHandler',
      backend: 'simulator',
      connectionInfo: { baud: 9600 },
    });
    assert.equal(migrateManifestText(text).migrated.length, 0, 'migrating twice changes nothing');
    assert.equal(migrateManifestText(text).text, text);
  });

  it('reports a legacy backend it cannot map, and leaves that document alone', () => {
    const text =
      'apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: x\nspec:\n  category: Fan\n  definition: acme.FanReplay\n';
    const r = migrateManifestText(text);
    assert.equal(r.text, text);
    assert.equal(r.problems.length, 1);
    assert.equal(r.problems[0]!.line, 7);
    assert.equal(r.problems[0]!.field, 'spec.definition');
    assert.match(r.problems[0]!.message, /acme\.FanReplay maps to no short name/);
  });

  it('leaves live machines, other kinds and broken YAML alone', () => {
    for (const text of [
      'apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata: {name: x}\nspec:\n  category: Fan\n  simulated: false\n  connectionInfo: {host: h, port: 1, backend_fqn: a.FanChatterbox}\n',
      'apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\ndata: {definition: a}\n',
      'a: [\n',
    ]) {
      const r = migrateManifestText(text);
      assert.equal(r.text, text);
      assert.equal(r.migrated.length + r.problems.length, 0);
    }
  });
});
