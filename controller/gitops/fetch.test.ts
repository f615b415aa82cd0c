import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { createRepo, type TestRepo } from '../../test/helpers/git.ts';
import { type GitHttpServer, startGitHttpServer } from '../../test/helpers/git-http-server.ts';
import { keyPair, sshdAvailable, startSshd, type TestSshd } from '../../test/helpers/sshd.ts';
import { tempDir } from '../../test/helpers/tmp.ts';
import { FetchError, type FetchRequest, fetchSource } from './fetch.ts';

const rejectsWith = async (p: Promise<unknown>, reason: FetchError['reason']): Promise<FetchError> => {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof FetchError, `a FetchError, not ${String(err)}`);
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected a ${reason} FetchError`);
};

describe('fetchSource from file://', () => {
  let repo: TestRepo;
  const shas: Record<string, string> = {};
  const cacheDir = tempDir();
  const fetch = (ref?: FetchRequest['ref']) =>
    fetchSource({ url: repo.url, ref, timeoutMs: 10_000, cacheDir });

  before(() => {
    repo = createRepo();
    shas.one = repo.commit({ 'app.yaml': 'v: 1\n' });
    repo.tag('v1.0.0');
    shas.two = repo.commit({ 'app.yaml': 'v: 2\n' });
    repo.tag('v1.2.0', { message: 'annotated: the commit, not the tag object, is the revision' });
    shas.three = repo.commit({ 'app.yaml': 'v: 3\n' });
    repo.tag('2.0.0');
    repo.tag('v1.3.0-rc.1');
    repo.branch('staging', shas.one);
  });

  it('checks out the default branch main, with a Flux revision', async () => {
    const r = await fetch();
    assert.equal(r.revision, `main@sha1:${shas.three}`);
    assert.equal(r.commit, shas.three);
    assert.equal(readFileSync(join(r.dir, 'app.yaml'), 'utf8'), 'v: 3\n');
    assert.ok(r.dir.startsWith(cacheDir));
  });

  it('checks out a branch, a tag, and a pinned commit (abbreviated too)', async () => {
    assert.equal((await fetch({ branch: 'staging' })).revision, `staging@sha1:${shas.one}`);
    const tag = await fetch({ tag: 'v1.2.0' });
    assert.equal(tag.revision, `v1.2.0@sha1:${shas.two}`);
    assert.equal(readFileSync(join(tag.dir, 'app.yaml'), 'utf8'), 'v: 2\n');
    assert.equal((await fetch({ commit: shas.one })).revision, `sha1:${shas.one}`);
    assert.equal((await fetch({ commit: shas.two!.slice(0, 8) })).revision, `sha1:${shas.two}`);
  });

  it('picks the highest tag in a semver range, with or without v, skipping prereleases', async () => {
    assert.equal((await fetch({ semver: '^1.0.0' })).revision, `v1.2.0@sha1:${shas.two}`);
    assert.equal((await fetch({ semver: '>=1.0.0' })).revision, `2.0.0@sha1:${shas.three}`);
    assert.equal((await fetch({ semver: '~1.0' })).revision, `v1.0.0@sha1:${shas.one}`);
  });

  it('follows Flux precedence: commit > semver > tag > branch', async () => {
    const all = { branch: 'staging', tag: 'v1.0.0', semver: '^1', commit: shas.three };
    assert.equal((await fetch(all)).revision, `sha1:${shas.three}`);
    assert.equal((await fetch({ ...all, commit: undefined })).revision, `v1.2.0@sha1:${shas.two}`);
    assert.equal((await fetch({ branch: 'staging', tag: 'v1.0.0' })).revision, `v1.0.0@sha1:${shas.one}`);
  });

  it('reports an unknown branch, tag, range or commit as RefNotFound', async () => {
    await rejectsWith(fetch({ branch: 'nope' }), 'RefNotFound');
    await rejectsWith(fetch({ tag: 'v9.9.9' }), 'RefNotFound');
    await rejectsWith(fetch({ semver: '>=5' }), 'RefNotFound');
    await rejectsWith(fetch({ semver: 'not a range' }), 'RefNotFound');
    await rejectsWith(fetch({ commit: 'deadbeefdeadbeefdeadbeefdeadbeefdeadbeef' }), 'RefNotFound');
    await rejectsWith(fetch({ branch: '--upload-pack=touch /tmp/x' }), 'RefNotFound');
  });

  it('fetches again into the same directory and sees a new commit', async () => {
    const first = await fetch();
    const four = repo.commit({ 'app.yaml': 'v: 4\n', 'new.yaml': 'n: 1\n' });
    const second = await fetch();
    assert.equal(second.dir, first.dir);
    assert.equal(second.revision, `main@sha1:${four}`);
    assert.equal(readFileSync(join(second.dir, 'new.yaml'), 'utf8'), 'n: 1\n');
    // Going back to an older commit removes the file it did not have.
    await fetch({ commit: shas.one });
    assert.deepEqual(
      readdirSync(first.dir).filter((f) => f !== '.git'),
      ['app.yaml'],
    );
  });

  it('serializes concurrent fetches of one URL', async () => {
    const results = await Promise.all([fetch({ tag: 'v1.0.0' }), fetch(), fetch({ tag: 'v1.2.0' })]);
    assert.deepEqual(
      results.map((r) => r.revision.split('@')[0]),
      ['v1.0.0', 'main', 'v1.2.0'],
    );
  });

  it('refuses URLs it must not fetch', async () => {
    const bad = (url: string) => rejectsWith(fetchSource({ url, timeoutMs: 1000, cacheDir }), 'InvalidURL');
    await bad('http://example.com/repo.git');
    await bad('ftp://example.com/repo.git');
    await bad('ext::sh -c touch% /tmp/pwned');
    await bad('file://host/repo');
    await bad('/does/not/exist');
  });
});

describe('fetchSource over smart HTTP with basic auth', () => {
  const password = 's3cr3t-Pa55word';
  let server: GitHttpServer;
  let repo: TestRepo;
  let sha: string;
  const cacheDir = tempDir();

  before(async () => {
    const root = tempDir();
    repo = createRepo(join(root, 'lab.git'));
    sha = repo.commit({ 'm.yaml': 'a: 1\n' });
    server = await startGitHttpServer({ root, username: 'robot', password });
  });
  after(() => server.close());

  it('clones with the right credentials and writes them nowhere on disk', async () => {
    const r = await fetchSource({
      url: `${server.url}/lab.git`,
      timeoutMs: 10_000,
      cacheDir,
      credentials: { username: 'robot', password },
    });
    assert.equal(r.revision, `main@sha1:${sha}`);
    const config = readFileSync(join(r.dir, '.git', 'config'), 'utf8');
    assert.ok(!config.includes(password) && !config.includes('Authorization'), config);
    assert.ok(!r.dir.includes('robot'));
    const basic = Buffer.from(`robot:${password}`).toString('base64');
    for (const file of readdirSync(cacheDir, { recursive: true, encoding: 'utf8' })) {
      const path = join(cacheDir, file);
      if (!statSync(path).isFile()) continue;
      const text = readFileSync(path, 'latin1');
      assert.ok(!text.includes(password) && !text.includes(basic), `credentials written to ${file}`);
    }
  });

  it('takes user:password from the URL as credentials and keeps them out of the path', async () => {
    const url = `${server.url.replace('//', `//robot:${password}@`)}/lab.git`;
    const r = await fetchSource({ url, timeoutMs: 10_000, cacheDir });
    assert.equal(r.revision, `main@sha1:${sha}`);
    assert.ok(!r.dir.includes(password));
  });

  it('fails fast with AuthenticationFailed on a wrong password, which no message contains', async () => {
    const wrong = 'wr0ng-Pa55word-XYZ';
    const started = performance.now();
    const err = await rejectsWith(
      fetchSource({
        url: `${server.url}/lab.git`,
        timeoutMs: 10_000,
        cacheDir: tempDir(),
        credentials: { username: 'robot', password: wrong },
      }),
      'AuthenticationFailed',
    );
    assert.ok(performance.now() - started < 3000, 'no prompt waited for');
    const seen = `${err.message}\n${err.stack}\n${JSON.stringify(err)}`;
    assert.ok(!seen.includes(wrong), seen);
    assert.ok(!seen.includes(Buffer.from(`robot:${wrong}`).toString('base64')), seen);
    assert.match(err.message, /127\.0\.0\.1/);
  });

  it('scrubs a wrong password given in the URL too', async () => {
    const wrong = 'url-pw-QQQ';
    const url = `${server.url.replace('//', `//robot:${wrong}@`)}/lab.git`;
    const err = await rejectsWith(
      fetchSource({ url, timeoutMs: 10_000, cacheDir: tempDir() }),
      'AuthenticationFailed',
    );
    assert.ok(!`${err.message}${err.stack}`.includes(wrong));
  });

  it('answers AuthenticationFailed without credentials, and for a wrong bearer token', async () => {
    await rejectsWith(
      fetchSource({ url: `${server.url}/lab.git`, timeoutMs: 10_000, cacheDir: tempDir() }),
      'AuthenticationFailed',
    );
    const token = 'tok-ABCDEFGHIJKLMNOP';
    const err = await rejectsWith(
      fetchSource({
        url: `${server.url}/lab.git`,
        timeoutMs: 10_000,
        cacheDir: tempDir(),
        credentials: { bearerToken: token },
      }),
      'AuthenticationFailed',
    );
    assert.ok(!`${err.message}${err.stack}`.includes(token));
  });
});

describe('fetchSource timeouts and aborts', () => {
  it('gives up on a server that never answers with Timeout', async () => {
    const server = createServer(() => {}); // accepts, never responds
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const started = performance.now();
      await rejectsWith(
        fetchSource({ url: `http://127.0.0.1:${port}/r.git`, timeoutMs: 400, cacheDir: tempDir() }),
        'Timeout',
      );
      assert.ok(performance.now() - started < 2500);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it("rejects with the caller's abort reason when the caller aborts", async () => {
    const repo = createRepo();
    repo.commit({ 'a.yaml': 'a: 1\n' });
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await assert.rejects(
      fetchSource({ url: repo.url, timeoutMs: 5000, cacheDir: tempDir(), signal: controller.signal }),
      /shutting down/,
    );
  });
});

describe('fetchSource of a local working tree', () => {
  it('names the content: an edit changes the revision, no edit keeps it', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
    const fetch = () => fetchSource({ url: dir, timeoutMs: 1000, cacheDir: tempDir() });
    const first = await fetch();
    assert.match(first.revision, /^worktree@sha256:[0-9a-f]{64}$/);
    assert.equal(first.dir, dir);
    assert.equal(first.commit, undefined);
    assert.equal((await fetch()).revision, first.revision);
    writeFileSync(join(dir, 'a.yaml'), 'a: 2\n');
    const edited = await fetch();
    assert.notEqual(edited.revision, first.revision);
    writeFileSync(join(dir, 'a.yaml'), 'a: 1\n');
    assert.equal((await fetch()).revision, first.revision, 'the same content is the same revision');
  });

  it('does not count .git, node_modules, .simops or dot-directories', async () => {
    const repo = createRepo();
    repo.commit({ 'a.yaml': 'a: 1\n' });
    const fetch = () => fetchSource({ url: repo.dir, timeoutMs: 1000, cacheDir: tempDir() });
    const first = await fetch();
    repo.commit({ 'node_modules/x/index.js': '1', '.simops/state': 'x', '.cache/y': 'y' }); // also moves .git
    assert.equal((await fetch()).revision, first.revision);
    writeFileSync(join(repo.dir, 'b.yaml'), 'b: 1\n');
    assert.notEqual((await fetch()).revision, first.revision);
  });
});

describe('fetchSource over ssh', { skip: !sshdAvailable() && 'no sshd (Debian openssh-server) here' }, () => {
  let sshd: TestSshd;
  let repo: TestRepo;
  let sha: string;

  before(async () => {
    sshd = (await startSshd())!;
    repo = createRepo();
    sha = repo.commit({ 'm.yaml': 'a: 1\n' });
  });
  after(() => sshd?.close());

  const sshTemps = () => readdirSync(tmpdir()).filter((f) => f.startsWith('simops-ssh-'));

  it('clones with the identity and known_hosts of the Secret, and removes them afterwards', async () => {
    const before = sshTemps();
    const r = await fetchSource({
      url: sshd.urlFor(repo.dir),
      timeoutMs: 10_000,
      cacheDir: tempDir(),
      credentials: { identity: sshd.identity, knownHosts: sshd.knownHosts },
    });
    assert.equal(r.revision, `main@sha1:${sha}`);
    assert.deepEqual(sshTemps(), before);
  });

  it('fails with AuthenticationFailed for a key the server does not know, without leaking it', async () => {
    const other = keyPair(tempDir(), 'stranger');
    const err = await rejectsWith(
      fetchSource({
        url: sshd.urlFor(repo.dir),
        timeoutMs: 10_000,
        cacheDir: tempDir(),
        credentials: { identity: other.privateKey, knownHosts: sshd.knownHosts },
      }),
      'AuthenticationFailed',
    );
    assert.match(err.message, /Permission denied/);
    const body = other.privateKey.split('\n')[1]!;
    assert.ok(!`${err.message}${err.stack}`.includes(body));
  });

  it('trusts no host that known_hosts does not list', async () => {
    const err = await rejectsWith(
      fetchSource({
        url: sshd.urlFor(repo.dir),
        timeoutMs: 10_000,
        cacheDir: tempDir(),
        credentials: { identity: sshd.identity },
      }),
      'AuthenticationFailed',
    );
    assert.match(err.message, /Host key verification failed/);
  });
});
