import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parseAllDocuments } from 'yaml';
import { crdFileName, crdFor } from './crd.ts';
import { staleFiles } from './generate.ts';
import { CATEGORY, kinds } from './index.ts';
import { structuralProblems } from './structural.ts';

describe('generated CRDs', () => {
  it('are up to date with the schemas (npm run gen:crds changes nothing)', () => {
    assert.deepEqual(staleFiles(), []);
  });

  for (const def of kinds) {
    describe(def.kind, () => {
      const text = readFileSync(new URL(crdFileName(def), import.meta.url), 'utf8');
      const docs = parseAllDocuments(text);
      const crd = crdFor(def);
      const version = crd.spec.versions[0]!;

      it('is one valid YAML document equal to the generated object', () => {
        assert.ok(Array.isArray(docs) && docs.length === 1);
        assert.deepEqual(docs[0]!.errors, []);
        assert.deepEqual(docs[0]!.toJS(), crd);
      });

      it('has a structural schema', () => {
        assert.deepEqual(structuralProblems(version.schema.openAPIV3Schema), []);
      });

      it('is in group simops.dev/v1alpha1 with the status subresource, category and short name', () => {
        assert.equal(crd.metadata.name, `${def.plural}.simops.dev`);
        assert.equal(version.name, 'v1alpha1');
        assert.deepEqual(version.subresources, { status: {} });
        assert.deepEqual(crd.spec.names.categories, [CATEGORY]);
        assert.ok(def.shortNames.length > 0);
      });

      it('has printer columns for Ready and Age', () => {
        const names = version.additionalPrinterColumns.map((c) => c.name);
        assert.ok(names.includes('Ready'));
        assert.equal(names.at(-1), 'Age');
        for (const c of version.additionalPrinterColumns) assert.match(c.jsonPath, /^\.[a-zA-Z]/);
      });
    });
  }

  it('use the short names the docs promise', () => {
    assert.deepEqual(kinds.map((k) => k.shortNames[0]).sort(), [
      'chaos',
      'gs',
      'mach',
      'sbx',
      'sim',
      'simrun',
    ]);
  });
});

describe('structuralProblems', () => {
  it('catches what a real API server rejects', () => {
    const bad = {
      type: 'object',
      properties: { a: { properties: {} }, b: { type: 'string', const: 'x' } },
      additionalProperties: false,
    };
    const problems = structuralProblems(bad);
    assert.ok(problems.some((p) => p.includes('[a]: type must be set')));
    assert.ok(problems.some((p) => p.includes('const is not allowed')));
    assert.ok(problems.some((p) => p.includes('mutually exclusive')));
  });
});
