import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { relativeToArtifacts, segmentOf, underArtifacts } from './artifact-path.ts';

const DIR = '/data/artifacts';

describe('artifact paths', () => {
  it('resolves a relative path under the artifact directory', () => {
    assert.equal(underArtifacts(DIR, 'sandboxes/default/a/flows/r1'), `${DIR}/sandboxes/default/a/flows/r1`);
    assert.equal(underArtifacts(DIR, './snapshots'), `${DIR}/snapshots`);
    assert.equal(relativeToArtifacts(DIR, `${DIR}/sandboxes/default/a`), 'sandboxes/default/a');
  });

  it('refuses the artifact directory itself: a job would empty it', () => {
    for (const rel of ['', '.', './', './.', 'a/..', 'a/./..'])
      assert.throws(() => underArtifacts(DIR, rel), /not a path under the artifact directory/, rel);
    assert.throws(() => relativeToArtifacts(DIR, DIR), /not a path under the artifact directory/);
    assert.throws(() => relativeToArtifacts(DIR, `${DIR}/`), /not a path under the artifact directory/);
  });

  it('refuses a path that leaves it', () => {
    for (const rel of ['..', '../x', 'a/../..', 'a/../../etc', '/etc', '/data/artifacts/x', '..\\x'])
      assert.throws(() => underArtifacts(DIR, rel), /not a path under the artifact directory/, rel);
    assert.throws(() => relativeToArtifacts(DIR, '/data'), /not a path under the artifact directory/);
    assert.throws(() => relativeToArtifacts(DIR, '/data/other'), /not a path under the artifact directory/);
  });

  it('makes a flow name one directory of its own', () => {
    assert.equal(segmentOf('login'), 'login');
    assert.equal(segmentOf('../../x'), '.._.._x');
    assert.equal(segmentOf('a/b c'), 'a_b_c');
    assert.equal(segmentOf(''), '_');
    for (const name of ['../../x', '/etc', 'a/../..'])
      assert.ok(
        underArtifacts(DIR, `sandboxes/ns/s/flows/${segmentOf(name)}-1`).startsWith(
          `${DIR}/sandboxes/ns/s/flows/`,
        ),
      );
  });
});
