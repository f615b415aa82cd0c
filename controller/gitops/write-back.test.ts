import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRepo, type TestRepo } from '../../test/helpers/git.ts';
import { type GitHttpServer, startGitHttpServer } from '../../test/helpers/git-http-server.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { type WriteBackRequest, writeBack } from './write-back.ts';

const rejectsWith = async (p: Promise<unknown>, reason: string): Promise<Error> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof Error && 'reason' in err, `a WriteBackError, not ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected a ${reason} WriteBackError`);
};

/** Another clone that commits to a branch directly, as a person or another controller would. */
const pushFromElsewhere = (repo: TestRepo, branch: string, edit: (dir: string) => void) => {
  const dir = tempDir('simops-other-');
  const env = {
    PATH: process.env.PATH,
    HOME: process.env.HOME,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'Someone',
    GIT_AUTHOR_EMAIL: 'someone@example.com',
    GIT_COMMITTER_NAME: 'Someone',
    GIT_COMMITTER_EMAIL: 'someone@example.com',
  };
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, env, encoding: 'utf8' }).trim();
  git('clone', '--quiet', '--branch', branch, repo.url, '.');
  edit(dir);
  git('add', '--all');
  git('commit', '--quiet', '-m', 'by hand');
  git('push', '--quiet', 'origin', branch);
};

describe('writeBack', () => {
  let repo: TestRepo;
  let main: string;
  const cacheDir = tempDir('simops-wb-cache-');
  const write = (files: Record<string, string>, over: Partial<WriteBackRequest> = {}) =>
    writeBack({
      url: repo.url,
      cacheDir,
      branch: 'status',
      path: 'status/',
      files,
      message: 'status report',
      timeoutMs: 10_000,
      ...over,
    });
  const tree = (ref = 'status') => repo.git('ls-tree', '-r', '--name-only', ref).split('\n').filter(Boolean);
  const show = (file: string, ref = 'status') => repo.git('show', `${ref}:${file}`);
  const head = (ref = 'status') => repo.git('rev-parse', ref);
  const count = (ref = 'status') => Number(repo.git('rev-list', '--count', ref));

  before(() => {
    repo = createRepo();
    main = repo.commit({ 'manifests/m.yaml': 'kind: Machine\n', 'README.md': '# lab\n' });
  });

  it('creates the branch as an orphan with exactly the report, and leaves main alone', async () => {
    const r = await write({ 'default/a.yaml': 'a: 1\n', 'index.yaml': 'objects: 1\n' });
    assert.equal(r.committed, true);
    assert.equal(r.commit, head());
    assert.deepEqual(tree(), ['status/default/a.yaml', 'status/index.yaml']);
    assert.equal(show('status/default/a.yaml'), 'a: 1');
    assert.equal(count(), 1, 'an orphan: no history of main');
    assert.equal(
      repo.git('log', '-1', '--format=%an <%ae> %s', 'status'),
      'SimOps <simops@simops.dev> status report',
    );
    assert.equal(head('main'), main);
    assert.equal(repo.git('status', '--porcelain'), '', "main's working tree untouched");
  });

  it('commits nothing when the files are the same', async () => {
    const before = head();
    const r = await write({ 'index.yaml': 'objects: 1\n', 'default/a.yaml': 'a: 1\n' });
    assert.deepEqual(r, { committed: false });
    assert.equal(head(), before);
  });

  it('commits a changed file once, on top of the last report', async () => {
    const before = head();
    const r = await write(
      { 'default/a.yaml': 'a: 2\n', 'index.yaml': 'objects: 1\n' },
      { author: { name: 'Bot', email: 'bot@example.com' }, message: 'a changed' },
    );
    assert.equal(r.committed, true);
    assert.equal(repo.git('rev-parse', `${r.commit}^`), before);
    assert.equal(show('status/default/a.yaml'), 'a: 2');
    assert.equal(repo.git('log', '-1', '--format=%an <%ae> %s', 'status'), 'Bot <bot@example.com> a changed');
    assert.deepEqual(await write({ 'default/a.yaml': 'a: 2\n', 'index.yaml': 'objects: 1\n' }), {
      committed: false,
    });
    assert.equal(head('main'), main);
  });

  it("removes a gone object's file and keeps what others put outside the path", async () => {
    await write({ 'default/a.yaml': 'a: 2\n', 'default/b.yaml': 'b: 1\n', 'index.yaml': 'objects: 2\n' });
    pushFromElsewhere(repo, 'status', (dir) => {
      execFileSync('sh', ['-c', 'echo "# reports" > README.md'], { cwd: dir });
    });
    const r = await write({ 'default/b.yaml': 'b: 1\n', 'index.yaml': 'objects: 1\n' });
    assert.equal(r.committed, true);
    assert.deepEqual(tree(), ['README.md', 'status/default/b.yaml', 'status/index.yaml']);
  });

  it('rejects a path or file name that leaves the repository, before touching anything', async () => {
    const before = head();
    for (const path of ['../x', '/tmp/x', 'status/../../x', '.git/hooks', 'C:/x']) {
      await rejectsWith(write({ 'a.yaml': 'a\n' }, { path }), 'InvalidPath');
    }
    for (const name of ['../a.yaml', '/etc/passwd', 'x/../../a.yaml', '.git/config', '']) {
      await rejectsWith(write({ [name]: 'a\n' }), 'InvalidPath');
    }
    await rejectsWith(write({ a: '1', 'a/b': '2' }), 'InvalidPath');
    await rejectsWith(write({ 'a.yaml': '1' }, { branch: '../main' }), 'InvalidPath');
    assert.equal(head(), before);
    assert.equal(head('main'), main);
  });

  it('refuses a report path that is a symlink on the branch', async () => {
    const other = createRepo();
    other.commit({ 'm.yaml': 'm: 1\n' });
    await writeBack({
      url: other.url,
      cacheDir,
      branch: 'status',
      path: 'status/',
      files: { 'a.yaml': 'a\n' },
      message: 'report',
      timeoutMs: 10_000,
    });
    pushFromElsewhere(other, 'status', (dir) => {
      execFileSync('rm', ['-rf', 'status'], { cwd: dir });
      symlinkSync('/tmp', join(dir, 'status'));
    });
    const e = await rejectsWith(
      writeBack({
        url: other.url,
        cacheDir,
        branch: 'status',
        path: 'status/',
        files: { 'a.yaml': 'b\n' },
        message: 'report',
        timeoutMs: 10_000,
      }),
      'InvalidPath',
    );
    assert.match(e.message, /symlink/);
  });

  it('creates the branch again after it was deleted on the remote', async () => {
    const other = createRepo();
    other.commit({ 'm.yaml': 'm: 1\n' });
    const req = {
      url: other.url,
      cacheDir,
      branch: 'reports/ci',
      path: '',
      message: 'report',
      timeoutMs: 10_000,
    };
    assert.equal((await writeBack({ ...req, files: { 'a.yaml': 'a\n' } })).committed, true);
    other.git('branch', '-D', 'reports/ci');
    const r = await writeBack({ ...req, files: { 'a.yaml': 'a\n' } });
    assert.equal(r.committed, true);
    assert.equal(other.git('ls-tree', '-r', '--name-only', 'reports/ci'), 'a.yaml');
    assert.equal(other.git('rev-list', '--count', 'reports/ci'), '1');
  });

  it('creates no empty orphan branch for an empty report', async () => {
    const r = await write({}, { branch: 'empty' });
    assert.deepEqual(r, { committed: false });
    assert.equal(repo.git('branch', '--list', 'empty'), '');
  });

  it('retries once when the branch moved between fetch and push: two writers both land', async () => {
    const other = createRepo();
    other.commit({ 'm.yaml': 'm: 1\n' });
    for (let round = 0; round < 3; round++) {
      const writes = ['one', 'two'].map((who) =>
        writeBack({
          url: other.url,
          cacheDir: tempDir('simops-wb-race-'), // separate checkouts: not serialized with each other
          branch: 'status',
          path: `status/${who}`,
          files: { 'r.yaml': `round: ${round}\n` },
          message: `${who} ${round}`,
          timeoutMs: 10_000,
        }),
      );
      const results = await Promise.all(writes);
      assert.ok(
        results.every((r) => r.committed),
        JSON.stringify(results),
      );
      for (const who of ['one', 'two'])
        assert.equal(other.git('show', `status:status/${who}/r.yaml`), `round: ${round}`);
    }
    // Linear history: nothing was overwritten by a force push.
    assert.equal(other.git('rev-list', '--count', '--merges', 'status'), '0');
    assert.equal(other.git('rev-list', '--count', 'status'), '6');
  });

  it('does nothing for a local working tree', async () => {
    const dir = tempDir('simops-wb-worktree-');
    assert.deepEqual(await write({ 'a.yaml': 'a\n' }, { url: dir }), { committed: false });
    assert.deepEqual(readdirSync(dir), []);
  });
});

describe('writeBack over authenticated HTTP', () => {
  let server: GitHttpServer;
  let repo: TestRepo;
  const password = 'wb-s3cret-Pa55';

  before(async () => {
    const root = tempDir('simops-wb-http-');
    repo = createRepo(join(root, 'lab.git'));
    repo.commit({ 'm.yaml': 'm: 1\n' });
    server = await startGitHttpServer({ root, username: 'bot', password });
  });
  after(() => server.close());

  it('pushes with the credentials and writes them nowhere on disk', async () => {
    const cacheDir = tempDir('simops-wb-cache-');
    const r = await writeBack({
      url: `${server.url}/lab.git`,
      credentials: { username: 'bot', password },
      cacheDir,
      branch: 'status',
      path: 'status',
      files: { 'a.yaml': 'a: 1\n' },
      message: 'report',
      timeoutMs: 10_000,
    });
    assert.equal(r.committed, true);
    assert.equal(repo.git('show', 'status:status/a.yaml'), 'a: 1');
    const [checkout] = readdirSync(join(cacheDir, 'write-back'));
    const config = readFileSync(join(cacheDir, 'write-back', checkout!, '.git', 'config'), 'utf8');
    assert.ok(
      !config.includes(password) && !config.includes('Authorization') && !config.includes('http'),
      config,
    );
  });

  it('fails with AuthenticationFailed on a wrong password, which the message does not contain', async () => {
    const e = await rejectsWith(
      writeBack({
        url: `${server.url}/lab.git`,
        credentials: { username: 'bot', password: 'wr0ng-pass-w0rd' },
        cacheDir: tempDir('simops-wb-cache-'),
        branch: 'status',
        path: 'status',
        files: { 'a.yaml': 'a: 2\n' },
        message: 'report',
        timeoutMs: 10_000,
      }),
      'AuthenticationFailed',
    );
    assert.doesNotMatch(e.message, /wr0ng-pass-w0rd|Authorization/);
  });
});
