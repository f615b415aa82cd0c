import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { loadOrCreateCredentials, tokenMatches, writeKubeconfig } from '../apiserver/security/credentials.ts';
import { kubectl } from './helpers/kubectl.ts';
import { tempDir } from './helpers/tmp.ts';

type Version = { major?: string; minor?: string; gitVersion?: string };
type VersionOutput = { clientVersion?: Version; serverVersion?: Version };

describe('.tools/bin/kubectl', () => {
  it('is the real kubectl, version 1.x', async () => {
    // No server is needed for --client; the kubeconfig path only has to be set, not to exist.
    const r = await kubectl(['version', '--client', '-o', 'json'], { kubeconfig: '/nonexistent/kubeconfig' });
    assert.equal(r.code, 0, r.stderr);
    const out = JSON.parse(r.stdout) as VersionOutput;
    assert.equal(out.clientVersion?.major, '1');
    assert.match(out.clientVersion?.gitVersion ?? '', /^v1\.\d+\.\d+/);
  });

  it('trusts our CA and sends our token (Go TLS is stricter than Node about certificates)', async () => {
    const dir = tempDir();
    const creds = await loadOrCreateCredentials(join(dir, 'data'));
    const server = createServer({ key: creds.keyPem, cert: creds.certPem }, (req, res) => {
      if (!tokenMatches(req.headers.authorization, creds.token)) {
        res.writeHead(401).end();
        return;
      }
      res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ major: '1', minor: '32', gitVersion: 'v1.32.4' }));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    try {
      for (const host of ['127.0.0.1', 'localhost']) {
        const kubeconfig = join(dir, `kubeconfig-${host}`);
        writeKubeconfig(kubeconfig, {
          server: `https://${host}:${port}`,
          caPem: creds.caPem,
          token: creds.token,
        });
        const r = await kubectl(['version', '-o', 'json'], { kubeconfig });
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as VersionOutput).serverVersion?.gitVersion, 'v1.32.4');
      }
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });
});
