import assert from 'node:assert/strict';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { loadOrCreateToken, newToken, tokenMatches } from './token.ts';

describe('tokenMatches', () => {
  const token = newToken();

  it('accepts exactly "Bearer <token>", case-insensitive scheme', () => {
    assert.equal(tokenMatches(`Bearer ${token}`, token), true);
    assert.equal(tokenMatches(`bearer ${token}`, token), true);
  });

  it('rejects everything else', () => {
    for (const header of [
      undefined,
      '',
      'Bearer',
      'Bearer ',
      token,
      `Basic ${token}`,
      `Bearer ${token}x`,
      `Bearer ${token.slice(1)}`,
      `Bearer ${newToken()}`,
      `Bearer ${token} extra`,
    ]) {
      assert.equal(tokenMatches(header, token), false, String(header));
    }
  });

  it('never matches an empty token', () => {
    assert.equal(tokenMatches('Bearer ', ''), false);
  });
});

describe('loadOrCreateToken', () => {
  it('creates 32 random bytes base64url, mode 0600, and reuses it', () => {
    const path = join(tempDir(), 'token');
    const token = loadOrCreateToken(path);
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal(Buffer.from(token, 'base64url').length, 32);
    assert.equal(statSync(path).mode & 0o777, 0o600);
    assert.equal(loadOrCreateToken(path), token);
  });

  it('replaces a malformed token and tightens a loosened mode', () => {
    const path = join(tempDir(), 'token');
    writeFileSync(path, 'not a token\n');
    const token = loadOrCreateToken(path);
    assert.notEqual(token, 'not a token');
    assert.equal(readFileSync(path, 'utf8').trim(), token);
    chmodSync(path, 0o644);
    assert.equal(loadOrCreateToken(path), token);
    assert.equal(statSync(path).mode & 0o777, 0o600);
  });
});
