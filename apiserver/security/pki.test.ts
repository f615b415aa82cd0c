import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { describe, it } from 'node:test';
import { caUsable, generateCa, generateServing, normalizeHosts, servingUsable } from './pki.ts';

const DAY_MS = 86_400_000;

describe('pki', () => {
  it('makes a CA and a serving certificate that chain, with the right extensions', async () => {
    const ca = await generateCa();
    const hosts = normalizeHosts(['simops.example', '10.1.2.3']);
    const serving = await generateServing(ca, hosts);
    const caCert = new X509Certificate(ca.certPem);
    const cert = new X509Certificate(serving.certPem);

    assert.equal(caCert.ca, true);
    assert.equal(caCert.verify(caCert.publicKey), true);
    assert.equal(caCert.publicKey.asymmetricKeyDetails?.namedCurve, 'prime256v1');
    assert.ok(caCert.validToDate.getTime() - Date.now() > 9 * 365 * DAY_MS);

    assert.equal(cert.ca, false);
    assert.equal(cert.verify(caCert.publicKey), true);
    assert.equal(cert.checkIssued(caCert), true);
    assert.deepEqual(cert.keyUsage, ['1.3.6.1.5.5.7.3.1']);
    assert.equal(cert.checkHost('localhost'), 'localhost');
    assert.equal(cert.checkHost('simops.example'), 'simops.example');
    assert.equal(cert.checkIP('127.0.0.1'), '127.0.0.1');
    assert.equal(cert.checkIP('::1'), '::1');
    assert.equal(cert.checkIP('10.1.2.3'), '10.1.2.3');
    assert.equal(cert.checkHost('other.example'), undefined);
    const lifetime = cert.validToDate.getTime() - Date.now();
    assert.ok(lifetime > 360 * DAY_MS && lifetime < 367 * DAY_MS);
  });

  it('normalizes hosts: defaults first, IPv6 brackets stripped, no duplicates', () => {
    assert.deepEqual(normalizeHosts([' Example.COM ', '[fe80::1]', 'localhost', '']), [
      'localhost',
      '127.0.0.1',
      '::1',
      'example.com',
      'fe80::1',
    ]);
  });

  it('judges stored material: expiry window, issuer, hosts, key match', async () => {
    const ca = await generateCa();
    const serving = await generateServing(ca, normalizeHosts());
    const hosts = normalizeHosts();
    assert.equal(caUsable(ca), true);
    assert.equal(servingUsable(serving, ca.certPem, hosts), true);
    // Within 30 days of expiry the serving cert is renewed; the CA still has years.
    assert.equal(servingUsable(serving, ca.certPem, hosts, Date.now() + 340 * DAY_MS), false);
    assert.equal(caUsable(ca, Date.now() + 340 * DAY_MS), true);
    assert.equal(caUsable(ca, Date.now() + 3640 * DAY_MS), false);
    assert.equal(servingUsable(serving, ca.certPem, normalizeHosts(['new.example'])), false);
    const otherCa = await generateCa();
    assert.equal(servingUsable(serving, otherCa.certPem, hosts), false);
    assert.equal(servingUsable({ certPem: serving.certPem, keyPem: ca.keyPem }, ca.certPem, hosts), false);
    assert.equal(servingUsable({ certPem: 'garbage', keyPem: serving.keyPem }, ca.certPem, hosts), false);
    assert.equal(caUsable({ certPem: serving.certPem, keyPem: serving.keyPem }), false);
    assert.equal(caUsable({}), false);
  });
});
