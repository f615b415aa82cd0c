import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { classifyGitFailure, FetchError, scrub } from './fetch-error.ts';
import { parseSourceUrl } from './source-url.ts';

describe('parseSourceUrl', () => {
  it('tells working trees from remotes', () => {
    assert.deepEqual(parseSourceUrl('/srv/repo'), { type: 'worktree', path: '/srv/repo' });
    assert.equal(parseSourceUrl('./examples').type, 'worktree');
    for (const [url, transport] of [
      ['file:///srv/repo.git', 'file'],
      ['https://github.com/o/r.git', 'http'],
      ['http://127.0.0.1:8080/r.git', 'http'],
      ['http://localhost/r.git', 'http'],
      ['http://[::1]:9/r.git', 'http'],
      ['ssh://git@github.com/o/r.git', 'ssh'],
      ['git@github.com:o/r.git', 'ssh'],
    ] as const) {
      const s = parseSourceUrl(url);
      assert.ok(s.type === 'remote' && s.transport === transport, `${url} → ${JSON.stringify(s)}`);
    }
  });

  it('moves userinfo of an http URL into credentials and out of the URL and cache key', () => {
    const a = parseSourceUrl('https://bot:pw@example.com/r.git');
    const b = parseSourceUrl('https://example.com/r.git');
    assert.ok(a.type === 'remote' && b.type === 'remote');
    assert.equal(a.url, 'https://example.com/r.git');
    assert.deepEqual(a.userinfo, { username: 'bot', password: 'pw' });
    assert.equal(a.cacheKey, b.cacheKey);
    assert.match(a.cacheKey, /^[0-9a-f]{32}$/);
  });

  it('refuses plain http off loopback, unknown schemes and git remote helpers', () => {
    for (const url of [
      'http://example.com/r.git',
      'http://10.0.0.1/r',
      'ftp://x/r',
      'ext::sh -c id',
      'fd::17',
      '',
    ]) {
      assert.throws(
        () => parseSourceUrl(url),
        (e) => e instanceof FetchError && e.reason === 'InvalidURL',
        url,
      );
    }
  });
});

describe('fetch errors', () => {
  it('classifies what git says', () => {
    assert.equal(classifyGitFailure("fatal: Authentication failed for 'https://x/'"), 'AuthenticationFailed');
    assert.equal(classifyGitFailure('git@x: Permission denied (publickey).'), 'AuthenticationFailed');
    assert.equal(classifyGitFailure('The requested URL returned error: 403'), 'AuthenticationFailed');
    assert.equal(classifyGitFailure("fatal: couldn't find remote ref refs/heads/x"), 'RefNotFound');
    assert.equal(classifyGitFailure('fatal: unable to access: Could not resolve host'), 'GitOperationFailed');
  });

  it('scrubs secrets and URL userinfo', () => {
    assert.equal(
      scrub('fatal: https://u:hunter2@h/r failed; header hunter2', ['hunter2']),
      'fatal: https://***@h/r failed; header ***',
    );
  });
});
