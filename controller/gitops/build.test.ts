import assert from 'node:assert/strict';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { formatManifestError } from '../manifests/validate.ts';
import { type BuildRequest, buildManifests } from './build.ts';

const tree = (files: Record<string, string>): string => {
  const dir = tempDir();
  for (const [rel, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), text);
  }
  return dir;
};

const build = (dir: string, over: Partial<BuildRequest> = {}) =>
  buildManifests({ dir, path: './', environment: 'simulation', defaultNamespace: 'lab', ...over });

const names = (r: ReturnType<typeof buildManifests>) =>
  r.objects.map((o) => `${o.object.kind}/${o.object.metadata.namespace ?? ''}/${o.object.metadata.name}`);

const machine = (name: string, extra = '') => `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: ${name}
spec:
  category: LiquidHandler
  simulated: true
  backend: chatterbox
${extra}`;

const namespace = (name: string) => `apiVersion: v1
kind: Namespace
metadata:
  name: ${name}
`;

const configMap = (name: string, ns?: string) => `apiVersion: v1
kind: ConfigMap
metadata:
  name: ${name}
${ns ? `  namespace: ${ns}\n` : ''}data:
  k: v
`;

// One base, two environments: the live overlay binds the real device and adds a live-only object.
const labRepo = () =>
  tree({
    'machines/lh.yaml': machine('lh-1'),
    'namespaces.yaml': namespace('lab'),
    'overlays/live/lh.yaml': `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: lh-1
spec:
  simulated: false
  backend: null
  connectionInfo:
    host: 10.0.0.7
    port: 9000
`,
    'overlays/live/monitor.yaml': configMap('live-monitor'),
    'overlays/simulation/seed.yaml': configMap('sim-seed'),
    'overlays/staging/broken.yaml': 'this: [is not, valid', // another environment's: never read
  });

describe('buildManifests', () => {
  it('builds the base alone when the environment has no overlay, namespaces first and defaulted', () => {
    const r = build(
      tree({
        'a/m.yaml': `${machine('m1')}---\n${configMap('cm', 'other')}`,
        'z.yaml': namespace('lab'),
        'notes.yaml': 'title: not a kubernetes object\n',
        '.pre-commit-config.yaml': 'repos: [unclosed', // tooling, not read
        'readme.md': '# ignored',
      }),
      { environment: 'prod' },
    );
    assert.deepEqual(r.errors, []);
    assert.deepEqual(names(r), ['Namespace//lab', 'Machine/lab/m1', 'ConfigMap/other/cm']);
    assert.deepEqual(
      r.objects.map((o) => o.file),
      ['z.yaml', 'a/m.yaml', 'a/m.yaml'],
    );
    assert.equal(r.skipped, 1);
    const spec = r.objects[1]!.object.spec as Record<string, unknown>;
    assert.equal(spec.checkIntervalSeconds, undefined, 'schema defaults are left to the API server');
  });

  it('gives simulation and live different objects from one base', () => {
    const dir = labRepo();
    const sim = build(dir, { environment: 'simulation' });
    const live = build(dir, { environment: 'live' });
    assert.deepEqual(sim.errors, []);
    assert.deepEqual(live.errors, []);
    assert.deepEqual(names(sim), ['Namespace//lab', 'Machine/lab/lh-1', 'ConfigMap/lab/sim-seed']);
    assert.deepEqual(names(live), ['Namespace//lab', 'Machine/lab/lh-1', 'ConfigMap/lab/live-monitor']);
    const simSpec = sim.objects[1]!.object.spec;
    const liveSpec = live.objects[1]!.object.spec;
    assert.deepEqual(simSpec, { category: 'LiquidHandler', simulated: true, backend: 'chatterbox' });
    assert.deepEqual(liveSpec, {
      category: 'LiquidHandler',
      simulated: false,
      connectionInfo: { host: '10.0.0.7', port: 9000 },
    });
    assert.equal(live.objects[1]!.file, 'machines/lh.yaml', 'a patched object keeps its base file');
    assert.equal(live.objects[2]!.file, 'overlays/live/monitor.yaml');
  });

  it('matches an overlay to its base object after namespace defaulting', () => {
    const dir = tree({
      'm.yaml': machine('m1'),
      'overlays/live/m.yaml': `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: m1
  namespace: lab
spec:
  location: bench-b
`,
    });
    const r = build(dir, { environment: 'live' });
    assert.deepEqual(r.errors, []);
    assert.equal(r.objects.length, 1);
    assert.equal((r.objects[0]!.object.spec as { location: string }).location, 'bench-b');
  });

  it('points an error the overlay caused at the overlay line, and one of the base at the base', () => {
    const dir = tree({
      'machines/lh.yaml': machine('lh-1', '  nmae: typo\n'),
      'overlays/live/lh.yaml': `apiVersion: simops.dev/v1alpha1
kind: Machine
metadata:
  name: lh-1
spec:
  simulated: false
`,
    });
    const r = build(dir, { environment: 'live' });
    assert.deepEqual(r.objects, []);
    assert.deepEqual(r.errors.map(formatManifestError), [
      'machines/lh.yaml:9:3 spec.nmae: unknown field',
      'overlays/live/lh.yaml:5:1 spec: a live machine (simulated: false) needs connectionInfo',
    ]);
  });

  it('returns no objects at all when one document is invalid, naming file, line and field', () => {
    const dir = tree({
      'good.yaml': machine('ok'),
      'bad/sbx.yaml': `apiVersion: simops.dev/v1alpha1
kind: Sandbox
metadata:
  name: s1
spec:
  simulatorRef: {name: sim}
  timeoutSeconds: soon
`,
      'broken.yaml': 'kind: [unclosed\n',
    });
    const r = build(dir);
    assert.deepEqual(r.objects, []);
    const byFile = Object.fromEntries(r.errors.map((e) => [e.file, e]));
    assert.equal(byFile['bad/sbx.yaml']?.position.line, 7);
    assert.equal(byFile['bad/sbx.yaml']?.field, 'spec.timeoutSeconds');
    assert.ok(byFile['broken.yaml'], 'a YAML syntax error is an error too');
  });

  it('builds a file parsed before (unchanged) the same, errors at the same lines, and sees an edit', () => {
    const dir = tree({
      'a.yaml': `${machine('m1')}---\n${machine('m2', '  nmae: typo\n')}`,
      'b.yaml': machine('m3'),
    });
    const first = build(dir);
    const again = build(dir); // a.yaml and b.yaml come from the parse cache now
    assert.deepEqual(again.errors.map(formatManifestError), ['a.yaml:18:3 spec.nmae: unknown field']);
    assert.deepEqual(again, first);

    writeFileSync(join(dir, 'a.yaml'), `${machine('m1')}---\n${machine('m2', '  location: b\n')}`);
    const fixed = build(dir);
    assert.deepEqual(fixed.errors, []);
    assert.deepEqual(names(fixed), ['Machine/lab/m1', 'Machine/lab/m2', 'Machine/lab/m3']);
    assert.equal((fixed.objects[1]!.object.spec as { location?: string }).location, 'b');
    // What a build returns is the caller's own: a change to it does not reach a later build.
    (fixed.objects[2]!.object.spec as { location?: string }).location = 'x';
    assert.equal((build(dir).objects[2]!.object.spec as { location?: string }).location, undefined);
  });

  it('builds a value JSON cannot carry (.inf) the same from the parse cache', () => {
    const dir = tree({
      'a.yaml': machine('m1', '  simulation:\n    responses:\n      read_volume:\n        result: .inf\n'),
    });
    const result = (r: ReturnType<typeof build>) =>
      (r.objects[0]!.object.spec as { simulation: { responses: { read_volume: { result: unknown } } } })
        .simulation.responses.read_volume.result;
    const first = build(dir);
    assert.deepEqual(first.errors, []);
    assert.equal(result(first), Number.POSITIVE_INFINITY);
    assert.equal(result(build(dir)), Number.POSITIVE_INFINITY, 'not null, as JSON would have it');
  });

  it('reports duplicates, in the base and between overlay additions', () => {
    const dir = tree({
      'a.yaml': configMap('cm'),
      'b.yaml': configMap('cm', 'lab'), // the same object once defaulted
      'overlays/live/x.yaml': `${configMap('extra')}---\n${configMap('extra')}`,
    });
    const r = build(dir, { environment: 'live' });
    assert.deepEqual(r.objects, []);
    assert.deepEqual(
      r.errors.map((e) => [e.file, e.position.line, e.field, e.message]),
      [
        ['b.yaml', 4, 'metadata.name', 'Duplicate value: also defined in a.yaml:4'],
        [
          'overlays/live/x.yaml',
          11,
          'metadata.name',
          'Duplicate value: also defined in overlays/live/x.yaml:4',
        ],
      ],
    );
  });

  it('skips files matched by ignore patterns and by .sourceignore, relative to the path', () => {
    const dir = tree({
      'deploy/keep.yaml': configMap('keep'),
      'deploy/drafts/wip.yaml': 'not: [valid',
      'deploy/secret-test.yaml': configMap('secret-test'),
      'deploy/.sourceignore': '# local only\n*-test.yaml\n',
      'deploy/overlays/live/skip.yaml': configMap('skipped-overlay'),
      'other/outside.yaml': configMap('outside'),
    });
    const r = build(dir, {
      path: 'deploy',
      ignore: 'drafts/\n/overlays/live/skip.yaml\n',
      environment: 'live',
    });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(names(r), ['ConfigMap/lab/keep']);
  });

  it('rejects paths that escape the source: .., absolute, symlinks out', () => {
    const outside = tree({ 'evil.yaml': configMap('evil') });
    const dir = tree({ 'ok/a.yaml': configMap('a') });
    symlinkSync(outside, join(dir, 'linked-dir'));
    symlinkSync(join(outside, 'evil.yaml'), join(dir, 'ok', 'evil.yaml'));
    for (const path of ['../', 'ok/../../x', '/etc', 'linked-dir']) {
      const r = build(dir, { path });
      assert.deepEqual(r.objects, [], path);
      assert.equal(r.errors.length, 1, path);
      assert.match(r.errors[0]!.message, /relative|\.\.|outside/, path);
    }
    const r = build(dir, { path: 'ok' });
    assert.deepEqual(r.objects, []);
    assert.deepEqual(
      r.errors.map((e) => [e.file, e.message]),
      [['ok/evil.yaml', 'a symlink that points outside the source is not followed']],
    );
    const whole = build(dir);
    assert.ok(
      whole.errors.some((e) => e.file === 'linked-dir'),
      'a directory symlink out is an error too',
    );
  });

  it('follows symlinks that stay inside, and survives a symlink loop', () => {
    const dir = tree({ 'shared/cm.yaml': configMap('shared'), 'app/own.yaml': configMap('own') });
    symlinkSync('../shared', join(dir, 'app', 'shared'));
    symlinkSync('.', join(dir, 'app', 'loop'));
    const r = build(dir, { path: 'app' });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(names(r), ['ConfigMap/lab/own', 'ConfigMap/lab/shared']);
  });

  it('reports a missing path and a bad environment name as errors', () => {
    const dir = tree({ 'a.yaml': configMap('a') });
    assert.match(build(dir, { path: 'nope' }).errors[0]!.message, /does not exist/);
    assert.match(build(dir, { environment: '../x' }).errors[0]!.message, /environment/);
  });
});
