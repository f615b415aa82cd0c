import assert from 'node:assert/strict';
import {
  chmodSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ArchiveError, archiveDirectory, extractArchive } from './archive.ts';

const tree = async () => {
  const dir = await mkdtemp(join(tmpdir(), 'simops-archive-'));
  mkdirSync(join(dir, 'src', 'data', 'deep'), { recursive: true });
  writeFileSync(join(dir, 'src', 'a.txt'), 'hello');
  writeFileSync(join(dir, 'src', 'run.sh'), '#!/bin/sh\necho hi\n');
  chmodSync(join(dir, 'src', 'run.sh'), 0o755);
  writeFileSync(join(dir, 'src', 'data', 'deep', `${'n'.repeat(120)}.json`), '[1,2,3]');
  symlinkSync('a.txt', join(dir, 'src', 'link'));
  symlinkSync('/etc/passwd', join(dir, 'src', 'outside'));
  return dir;
};

describe('snapshot archives', () => {
  it('are deterministic: the same content gives the same digest', async () => {
    const dir = await tree();
    const a = await archiveDirectory(join(dir, 'src'), join(dir, 'out1'));
    writeFileSync(join(dir, 'src', 'a.txt'), 'hello'); // rewritten, new mtime, same content
    const b = await archiveDirectory(join(dir, 'src'), join(dir, 'out2'));
    assert.equal(a.digest, b.digest);
    assert.match(a.digest, /^sha256:[0-9a-f]{64}$/);
    writeFileSync(join(dir, 'src', 'a.txt'), 'hello!');
    const c = await archiveDirectory(join(dir, 'src'), join(dir, 'out3'));
    assert.notEqual(c.digest, a.digest);
  });

  it('restore files, modes, long names and inner links; outward links are not archived', async () => {
    const dir = await tree();
    const a = await archiveDirectory(join(dir, 'src'), join(dir, 'out'), {
      extra: [{ path: '.manifest.json', content: Buffer.from('{"x":1}') }],
    });
    const taken = await extractArchive(a.path, join(dir, 'restored'), a.digest, ['.manifest.json']);
    assert.equal(taken['.manifest.json']?.toString(), '{"x":1}');
    const r = join(dir, 'restored');
    assert.equal(readFileSync(join(r, 'a.txt'), 'utf8'), 'hello');
    assert.equal(statSync(join(r, 'run.sh')).mode & 0o777, 0o755);
    assert.equal(readFileSync(join(r, 'data', 'deep', `${'n'.repeat(120)}.json`), 'utf8'), '[1,2,3]');
    assert.equal(readlinkSync(join(r, 'link')), 'a.txt');
    assert.throws(() => statSync(join(r, 'outside')));
    assert.throws(() => statSync(join(r, '.manifest.json')));
  });

  it('refuse an archive whose digest is not the expected one, and entries outside the root', async () => {
    const dir = await tree();
    const a = await archiveDirectory(join(dir, 'src'), join(dir, 'out'));
    await assert.rejects(extractArchive(a.path, join(dir, 'x'), 'sha256:00'), ArchiveError);
    // A crafted archive with ../escape.
    const raw = gunzipSync(readFileSync(a.path));
    const bad = Buffer.from(raw);
    bad.write('../escape.txt\u0000', 0, 'utf8');
    let sum = 0;
    bad.fill(' ', 148, 156);
    for (const byte of bad.subarray(0, 512)) sum += byte;
    bad.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 8, 'ascii');
    const badPath = join(dir, 'bad.tar.gz');
    writeFileSync(badPath, gzipSync(bad));
    const { createHash } = await import('node:crypto');
    const digest = `sha256:${createHash('sha256').update(bad).digest('hex')}`;
    await assert.rejects(extractArchive(badPath, join(dir, 'y'), digest), /outside the archive root/);
  });
});
