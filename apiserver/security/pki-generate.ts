// Makes the CA and serving certificates (ECDSA P-256). Run in a worker thread by pki.ts.
import { createPrivateKey, KeyObject, type webcrypto as wc } from 'node:crypto';
import { isIP } from 'node:net';
import type { JsonGeneralName } from '@peculiar/x509';
import type { CertKeyPem } from './pki.ts';

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** Backdate notBefore a little: clients whose clock lags ours must not see a "not yet valid" cert. */
const BACKDATE_MS = 60 * 60 * 1000;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const webcrypto = globalThis.crypto;

const newKeys = (): Promise<wc.CryptoKeyPair> =>
  webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);

type X509Lib = typeof import('@peculiar/x509');
let x509Lib: Promise<X509Lib> | undefined;
/** Loaded only to make a certificate: it is large, and a restart with valid certificates never needs it. */
const loadX509 = (): Promise<X509Lib> => {
  x509Lib ??= import('reflect-metadata').then(() => import('@peculiar/x509'));
  return x509Lib;
};

const keyToPem = async (key: wc.CryptoKey): Promise<string> =>
  KeyObject.from(key).export({ format: 'pem', type: 'pkcs8' }).toString();

const pemToSigningKey = (pem: string): Promise<wc.CryptoKey> =>
  webcrypto.subtle.importKey(
    'pkcs8',
    createPrivateKey(pem).export({ format: 'der', type: 'pkcs8' }),
    EC_KEY,
    false,
    ['sign'],
  );

const validity = (days: number) => {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
};

export const makeCa = async (): Promise<CertKeyPem> => {
  const x509 = await loadX509();
  const keys = await newKeys();
  const cert = await x509.X509CertificateGenerator.createSelfSigned(
    {
      name: 'CN=simops-ca',
      keys,
      signingAlgorithm: EC_SIGN,
      ...validity(CA_DAYS),
      extensions: [
        new x509.BasicConstraintsExtension(true, 0, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
};

export const makeServing = async (ca: CertKeyPem, hosts: readonly string[]): Promise<CertKeyPem> => {
  const x509 = await loadX509();
  const keys = await newKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const names: JsonGeneralName[] = hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }));
  const cert = await x509.X509CertificateGenerator.create(
    {
      subject: 'CN=simops-apiserver',
      issuer: caCert.subject,
      publicKey: keys.publicKey,
      signingKey: await pemToSigningKey(ca.keyPem),
      signingAlgorithm: EC_SIGN,
      ...validity(SERVING_DAYS),
      extensions: [
        new x509.BasicConstraintsExtension(false, undefined, true),
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
        new x509.SubjectAlternativeNameExtension(names),
        await x509.SubjectKeyIdentifierExtension.create(keys.publicKey, false, webcrypto),
        await x509.AuthorityKeyIdentifierExtension.create(caCert.publicKey, false, webcrypto),
      ],
    },
    webcrypto,
  );
  return { certPem: cert.toString('pem'), keyPem: await keyToPem(keys.privateKey) };
};
