import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { type ManifestError, validateManifests } from '../controller/manifests/validate.ts';
import { validateObject } from '../crds/validate.ts';
import { tempDir } from './helpers/tmp.ts';

const examples = new URL('../examples/manifests/', import.meta.url).pathname;

const one = (file: string, text: string): ManifestError[] => {
  const dir = tempDir();
  writeFileSync(join(dir, file), text);
  return validateManifests(dir).errors.map((e) => ({ ...e, file: e.file.slice(dir.length + 1) }));
};

const sandbox = (specLines: string) => `apiVersion: simops.dev/v1alpha1
kind: Sandbox
metadata:
  name: s1
spec:
${specLines}`;

describe('manifest validation', () => {
  it('accepts every example, one manifest of every kind at least', () => {
    const report = validateManifests(examples);
    assert.deepEqual(report.errors, []);
    const kinds = new Set(report.documents.map((d) => d.object.kind));
    for (const k of ['Simulator', 'Sandbox', 'Machine', 'SimulationRun', 'ChaosScenario', 'GitSource']) {
      assert.ok(kinds.has(k), `examples/ has a ${k}`);
    }
  });

  it('names file, line, column and field of a wrong type', () => {
    const errors = one('s.yaml', sandbox('  simulatorRef: {name: sim}\n  timeoutSeconds: soon\n'));
    assert.deepEqual(
      errors.map((e) => [e.file, e.position.line, e.position.col, e.field]),
      [['s.yaml', 7, 3, 'spec.timeoutSeconds']],
    );
    assert.match(errors[0]!.message, /must be of type integer/);
  });

  it('rejects an unknown field at the key that is unknown', () => {
    const errors = one('s.yaml', sandbox('  simulatorRef:\n    name: sim\n    nmae: typo\n'));
    assert.deepEqual(
      errors.map((e) => [e.position.line, e.position.col, e.field, e.message]),
      [[8, 5, 'spec.simulatorRef.nmae', 'unknown field']],
    );
  });

  it('reports a missing required field on its parent', () => {
    const errors = one('s.yaml', sandbox('  dataset: base\n'));
    assert.deepEqual(
      errors.map((e) => [e.position.line, e.field, e.message]),
      [[5, 'spec.simulatorRef', 'Required value']],
    );
  });

  it('lists the supported values of a bad enum', () => {
    const errors = one('s.yaml', sandbox('  simulatorRef: {name: sim}\n  runtime: docker\n'));
    assert.equal(errors.length, 1);
    assert.equal(errors[0]!.field, 'spec.runtime');
    assert.equal(errors[0]!.position.line, 7);
    assert.match(
      errors[0]!.message,
      /Unsupported value: "docker": supported values: "process", "kubernetes"/,
    );
  });

  it('reports broken YAML with its line and column, and keeps checking other files', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n data: [\n');
    writeFileSync(join(dir, 'b.yaml'), sandbox('  simulatorRef: {name: sim}\n  bogus: 1\n'));
    const errors = validateManifests(dir).errors;
    assert.equal(errors.filter((e) => e.file.endsWith('a.yaml') && e.field === '').length > 0, true);
    const parseError = errors.find((e) => e.file.endsWith('a.yaml'))!;
    assert.equal(parseError.position.line, 5);
    assert.ok(errors.some((e) => e.file.endsWith('b.yaml') && e.field === 'spec.bogus'));
  });

  it('finds errors in later documents of a multi-document file with their own lines', () => {
    const text = `${sandbox('  simulatorRef: {name: a}\n')}---\n${sandbox('  simulatorRef: {name: b}\n  flows: nope\n').replace('name: s1', 'name: s2')}`;
    const errors = one('multi.yaml', text);
    assert.deepEqual(
      errors.map((e) => [e.position.line, e.field]),
      [[14, 'spec.flows']],
    );
  });

  it('checks cross-field rules (exactly one source)', () => {
    const errors = one(
      's.yaml',
      sandbox('  simulatorRef: {name: sim}\n  source:\n    tag: prod-latest\n    artifact: art-1\n'),
    );
    assert.deepEqual(
      errors.map((e) => [e.position.line, e.field, e.message]),
      [[7, 'spec.source', 'exactly one of config, artifact, tag must be set']],
    );
  });

  it('rejects unknown kinds, duplicate objects and missing names', () => {
    const errors = one(
      'x.yaml',
      'apiVersion: simops.dev/v1alpha1\nkind: Sandbx\nmetadata: {name: a}\nspec: {}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {}\n',
    );
    assert.deepEqual(
      errors.map((e) => [e.position.line, e.field]),
      [
        [2, 'kind'],
        [12, 'metadata.name'],
        [16, 'metadata.name'],
      ],
    );
    assert.match(errors[1]!.message, /Duplicate value: also defined in .*x\.yaml:8/);
  });

  it('skips YAML that is not a Kubernetes object, as Flux does', () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'compose.yaml'), 'services:\n  web:\n    image: x\n');
    const report = validateManifests(dir);
    assert.deepEqual(report.errors, []);
    assert.equal(report.documents.length, 0);
  });
});

describe('validateObject', () => {
  it('fills in schema defaults without changing its input', () => {
    const input = {
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'm' },
      spec: { category: 'Fan' },
    };
    const { errors, object } = validateObject(input);
    assert.deepEqual(errors, []);
    assert.deepEqual(object.spec, { category: 'Fan', simulated: true, checkIntervalSeconds: 30 });
    assert.deepEqual(input.spec, { category: 'Fan' });
  });

  it('prunes unknown fields instead of rejecting them when asked', () => {
    const input = {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'c' },
      data: { a: 'b' },
      extra: 1,
    };
    assert.equal(validateObject(input, 'reject').errors[0]?.reason, 'FieldValueUnknown');
    const pruned = validateObject(input, 'prune');
    assert.deepEqual(pruned.errors, []);
    assert.equal('extra' in pruned.object, false);
  });

  it('requires connection info for a live machine', () => {
    const { errors } = validateObject({
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Machine',
      metadata: { name: 'm' },
      spec: { category: 'Fan', simulated: false },
    });
    assert.deepEqual(
      errors.map((e) => e.field),
      ['spec'],
    );
  });
});
