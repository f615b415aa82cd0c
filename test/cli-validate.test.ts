import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from './helpers/tmp.ts';

const root = new URL('..', import.meta.url).pathname;
const bin = join(root, 'bin', 'simops.js');

const simops = (args: string[], cwd = root, node = process.execPath) =>
  spawnSync(node, [bin, ...args], { cwd, encoding: 'utf8' });

describe('simops validate', () => {
  it('exits 0 on examples/', () => {
    const r = simops(['validate', 'examples/']);
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /valid/);
  });

  it('exits 1 on a broken copy and prints file:line:col field: message', () => {
    const dir = tempDir();
    cpSync(join(root, 'examples'), dir, { recursive: true });
    const file = join(dir, 'manifests', 'sandboxes', 'booking-dev.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('runtime: process', 'runtime: docker'));
    writeFileSync(join(dir, 'broken.yaml'), 'apiVersion: v1\nkind: [\n');
    const r = simops(['validate', '.'], dir);
    assert.equal(r.status, 1);
    const lines = r.stderr.trim().split('\n');
    assert.ok(
      lines.some((l) =>
        /^manifests\/sandboxes\/booking-dev\.yaml:13:3 spec\.runtime: Unsupported value: "docker"/.test(l),
      ),
      r.stderr,
    );
    assert.ok(
      lines.some((l) => /^broken\.yaml:\d+:\d+: /.test(l)),
      r.stderr,
    );
  });

  it('exits 1 for a path that does not exist', () => {
    const r = simops(['validate', 'no/such/dir']);
    assert.equal(r.status, 1);
    assert.match(r.stderr, /no such file or directory/);
  });

  it('prints help', () => {
    const r = simops(['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout, /validate/);
  });
});

describe('runtime', () => {
  it('npm scripts run on Node >= 22.19', () => {
    const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
    assert.ok(major > 22 || (major === 22 && minor >= 19), process.version);
  });

  it('the simops command works from an older system Node by re-running on the pinned one', () => {
    const system = ['/usr/bin/node', '/usr/local/bin/node'].find(existsSync);
    if (!system) return; // no system Node here: nothing older to start from
    const version = execFileSync(system, ['--version'], { encoding: 'utf8' }).trim();
    const r = simops(['validate', 'examples/'], root, system);
    assert.equal(r.status, 0, `${version}: ${r.stderr}`);
  });
});
