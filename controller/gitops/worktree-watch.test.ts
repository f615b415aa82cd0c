import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { tempDir } from '../../test/helpers/tmp.ts';
import { watchWorktree } from './worktree-watch.ts';

const watched = async (dir: string, opts?: { debounceMs?: number }) => {
  const calls: number[] = [];
  const started = Date.now();
  const w = watchWorktree(dir, () => calls.push(Date.now() - started), opts);
  await w.ready;
  return { calls, close: () => w.close() };
};

const waitFor = async (check: () => boolean, ms: number) => {
  const until = Date.now() + ms;
  while (!check() && Date.now() < until) await sleep(10);
  return check();
};

describe('watchWorktree', () => {
  it('calls once, within a second, for an edited file', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
    const w = await watched(dir);
    try {
      const editedAt = Date.now();
      writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
      assert.ok(await waitFor(() => w.calls.length > 0, 1000), 'called within 1 s');
      assert.ok(Date.now() - editedAt < 1000);
      await sleep(250);
      assert.equal(w.calls.length, 1);
    } finally {
      await w.close();
    }
  });

  it('calls once for a burst of edits, new files and directories', async () => {
    const dir = tempDir();
    const w = await watched(dir);
    try {
      for (let i = 0; i < 10; i++) writeFileSync(join(dir, `f${i}.yaml`), `i: ${i}\n`);
      mkdirSync(join(dir, 'sub'));
      writeFileSync(join(dir, 'sub', 'x.yaml'), 'x: 1\n');
      assert.ok(await waitFor(() => w.calls.length > 0, 1000));
      await sleep(300);
      assert.equal(w.calls.length, 1);
    } finally {
      await w.close();
    }
  });

  it('ignores .git, node_modules, .simops and dot-directories, and nothing fires after close', async () => {
    const dir = tempDir();
    for (const d of ['.git', 'node_modules', '.simops', '.cache']) mkdirSync(join(dir, d));
    const w = await watched(dir, { debounceMs: 20 });
    try {
      for (const d of ['.git', 'node_modules', '.simops', '.cache']) writeFileSync(join(dir, d, 'x'), 'x');
      await sleep(300);
      assert.deepEqual(w.calls, []);
      writeFileSync(join(dir, '.sourceignore'), '*.md\n'); // a dot-file changes the build: it counts
      assert.ok(await waitFor(() => w.calls.length === 1, 1000));
    } finally {
      await w.close();
    }
    writeFileSync(join(dir, 'late.yaml'), 'l: 1\n');
    await sleep(150);
    assert.equal(w.calls.length, 1);
  });
});
