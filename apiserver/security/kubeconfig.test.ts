import assert from 'node:assert/strict';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { KubeConfig, VersionApi } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { tempDir } from '../../test/helpers/tmp.ts';
import { loadOrCreateCredentials, tokenMatches, writeKubeconfig } from './credentials.ts';

const version = { major: '1', minor: '32', gitVersion: 'v1.32.4' };

describe('writeKubeconfig', () => {
  it('writes a 0600 kubeconfig that client-node loads, replacing a looser existing file', async () => {
    const dir = tempDir();
    const path = join(dir, 'kube', 'config');
    const creds = await loadOrCreateCredentials(join(dir, 'data'));
    writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: creds.caPem, token: 'old' });
    assert.equal(statSync(path).mode & 0o777, 0o600);

    writeFileSync(path, 'stale', { mode: 0o644 });
    writeKubeconfig(path, { server: 'https://127.0.0.1:6443', caPem: creds.caPem, token: creds.token });
    assert.equal(statSync(path).mode & 0o777, 0o600);

    const kc = new KubeConfig();
    kc.loadFromFile(path);
    assert.equal(kc.getCurrentContext(), 'simops');
    assert.equal(kc.getCurrentCluster()?.name, 'simops');
    assert.equal(kc.getCurrentCluster()?.server, 'https://127.0.0.1:6443');
    assert.equal(kc.getCurrentUser()?.name, 'simops');
    assert.equal(kc.getCurrentUser()?.token, creds.token);
    assert.equal(kc.getContextObject('simops')?.namespace, 'default');
    const raw = parse(readFileSync(path, 'utf8')) as { clusters: { cluster: Record<string, string> }[] };
    assert.equal(
      Buffer.from(raw.clusters[0]!.cluster['certificate-authority-data']!, 'base64').toString(),
      creds.caPem,
    );
  });

  it('uses the given name for cluster, user and context', async () => {
    const path = join(tempDir(), 'config');
    writeKubeconfig(path, { server: 'https://localhost:1', caPem: 'x', token: 't', name: 'other' });
    const kc = new KubeConfig();
    kc.loadFromFile(path);
    assert.equal(kc.getCurrentContext(), 'other');
    assert.equal(kc.getCurrentCluster()?.name, 'other');
    assert.equal(kc.getCurrentUser()?.name, 'other');
  });

  it('lets client-node reach the server: trusts the CA and sends the token', async () => {
    const dir = tempDir();
    const creds = await loadOrCreateCredentials(join(dir, 'data'));
    const server = createServer({ key: creds.keyPem, cert: creds.certPem }, (req, res) => {
      if (!tokenMatches(req.headers.authorization, creds.token)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"kind":"Status","code":401}');
        return;
      }
      if (req.url !== '/version') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(version));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      const path = join(dir, 'kubeconfig');
      writeKubeconfig(path, { server: `https://127.0.0.1:${port}`, caPem: creds.caPem, token: creds.token });
      const kc = new KubeConfig();
      kc.loadFromFile(path);
      const info = await kc.makeApiClient(VersionApi).getCode();
      assert.equal(info.gitVersion, 'v1.32.4');
      assert.equal(info.major, '1');

      // A wrong token is refused, so the success above really came from sending the right one.
      writeKubeconfig(path, { server: `https://127.0.0.1:${port}`, caPem: creds.caPem, token: 'wrong' });
      const bad = new KubeConfig();
      bad.loadFromFile(path);
      await assert.rejects(bad.makeApiClient(VersionApi).getCode(), /401/);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
