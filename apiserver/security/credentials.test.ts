import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer, get as httpsGet } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { loadOrCreateCredentials } from './credentials.ts';

const mode = (path: string): number => statSync(path).mode & 0o777;

/** GET `url` trusting only `caPem`; resolves the body. `family: 4` so `localhost` reaches 127.0.0.1. */
const getTrusting = (url: string, caPem: string): Promise<string> =>
  new Promise((resolve, reject) => {
    httpsGet(url, { ca: caPem, family: 4, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (s: string) => {
        body += s;
      });
      res.on('end', () => resolve(body));
    }).on('error', reject);
  });

describe('loadOrCreateCredentials', () => {
  it('creates a CA-signed serving cert for localhost and loopback, and a token', async () => {
    const creds = await loadOrCreateCredentials(tempDir());
    const ca = new X509Certificate(creds.caPem);
    const cert = new X509Certificate(creds.certPem);
    assert.equal(cert.verify(ca.publicKey), true);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.match(creds.keyPem, /^-----BEGIN PRIVATE KEY-----/);
    assert.match(creds.token, /^[A-Za-z0-9_-]{43}$/);
  });

  it('keeps secrets owner-only: dir 0700, files 0600', async () => {
    const dataDir = join(tempDir(), 'data');
    await loadOrCreateCredentials(dataDir);
    const pki = join(dataDir, 'pki');
    assert.equal(mode(pki), 0o700);
    assert.deepEqual(readdirSync(pki).sort(), ['ca.crt', 'ca.key', 'server.crt', 'server.key']);
    for (const file of readdirSync(pki)) assert.equal(mode(join(pki, file)), 0o600, file);
    assert.equal(mode(join(dataDir, 'token')), 0o600);
  });

  it('reuses the CA, serving cert and token on a later start', async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateCredentials(dataDir);
    const second = await loadOrCreateCredentials(dataDir);
    assert.deepEqual(second, first);
  });

  it('reissues only the serving cert when a new host is asked for', async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateCredentials(dataDir);
    const second = await loadOrCreateCredentials(dataDir, { hosts: ['simops.internal', '192.0.2.7'] });
    assert.equal(second.caPem, first.caPem);
    assert.equal(second.token, first.token);
    assert.notEqual(second.certPem, first.certPem);
    const cert = new X509Certificate(second.certPem);
    assert.equal(cert.checkHost('simops.internal'), 'simops.internal');
    assert.equal(cert.checkIP('192.0.2.7'), '192.0.2.7');
    assert.equal(cert.checkHost('localhost'), 'localhost');
    // Asking again for a subset keeps the new cert.
    assert.equal(
      (await loadOrCreateCredentials(dataDir, { hosts: ['simops.internal'] })).certPem,
      second.certPem,
    );
  });

  it('starts over from a damaged CA key', async () => {
    const dataDir = tempDir();
    const first = await loadOrCreateCredentials(dataDir);
    writeFileSync(join(dataDir, 'pki', 'ca.key'), 'garbage');
    const second = await loadOrCreateCredentials(dataDir);
    assert.notEqual(second.caPem, first.caPem);
    assert.equal(
      new X509Certificate(second.certPem).verify(new X509Certificate(second.caPem).publicKey),
      true,
    );
    assert.equal(readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8'), second.caPem);
  });

  it('serves HTTPS that a client trusting only the CA accepts on 127.0.0.1 and localhost', async () => {
    const creds = await loadOrCreateCredentials(tempDir());
    const server = createServer({ key: creds.keyPem, cert: creds.certPem }, (_req, res) => res.end('ok'));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      assert.equal(await getTrusting(`https://127.0.0.1:${port}/`, creds.caPem), 'ok');
      assert.equal(await getTrusting(`https://localhost:${port}/`, creds.caPem), 'ok');
      // And a client that trusts some other CA refuses it.
      const other = await loadOrCreateCredentials(tempDir());
      await assert.rejects(getTrusting(`https://127.0.0.1:${port}/`, other.caPem), /certificate/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
