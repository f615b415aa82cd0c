// The API server's TLS material: a private CA and a serving certificate it signs, kept under
// <dataDir>/pki and reused across restarts so kubeconfigs handed out earlier stay valid.
import 'reflect-metadata';
import { createPrivateKey, X509Certificate as NodeX509, type webcrypto as wc } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import * as x509 from '@peculiar/x509';
import { ensurePrivateDir, readPrivateFile, writePrivateFile } from './private-file.ts';

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export type CertKeyPem = { certPem: string; keyPem: string };
export type Pki = { ca: CertKeyPem; serving: CertKeyPem };

const DAY_MS = 86_400_000;
const CA_DAYS = 3650;
const SERVING_DAYS = 365;
/** Renew when a certificate has less than this left, so a long-running server never hits expiry. */
const RENEW_BEFORE_MS = 30 * DAY_MS;
/** Backdate notBefore a little: clients whose clock lags ours must not see a "not yet valid" cert. */
const BACKDATE_MS = 60 * 60 * 1000;

const EC_KEY = { name: 'ECDSA', namedCurve: 'P-256' } as const;
const EC_SIGN = { name: 'ECDSA', hash: 'SHA-256' } as const;
const webcrypto = globalThis.crypto;

/** Always served, whatever extra hosts are asked for. */
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

const newKeys = (): Promise<wc.CryptoKeyPair> =>
  webcrypto.subtle.generateKey(EC_KEY, true, ['sign', 'verify']);

const keyToPem = async (key: wc.CryptoKey): Promise<string> =>
  x509.PemConverter.encode(await webcrypto.subtle.exportKey('pkcs8', key), 'PRIVATE KEY');

const pemToSigningKey = (pem: string): Promise<wc.CryptoKey> =>
  webcrypto.subtle.importKey('pkcs8', x509.PemConverter.decodeFirst(pem), EC_KEY, false, ['sign']);

const validity = (days: number) => {
  const now = Date.now();
  return { notBefore: new Date(now - BACKDATE_MS), notAfter: new Date(now + days * DAY_MS) };
};

/** Trims, unbrackets IPv6 literals (`[::1]`), drops empties and duplicates; defaults first. */
export const normalizeHosts = (extra: readonly string[] = []): string[] => {
  const all = [...DEFAULT_HOSTS, ...extra].map((h) =>
    h
      .trim()
      .replace(/^\[(.*)\]$/, '$1')
      .toLowerCase(),
  );
  return [...new Set(all.filter((h) => h !== ''))];
};

export const generateCa = async (): Promise<CertKeyPem> => {
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

export const generateServing = async (ca: CertKeyPem, hosts: readonly string[]): Promise<CertKeyPem> => {
  const keys = await newKeys();
  const caCert = new x509.X509Certificate(ca.certPem);
  const names: x509.JsonGeneralName[] = hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }));
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

/** Parses a stored pair; undefined if it is unreadable or the key does not belong to the cert. */
const parsePair = (pair: Partial<CertKeyPem>): NodeX509 | undefined => {
  if (pair.certPem === undefined || pair.keyPem === undefined) return undefined;
  try {
    const cert = new NodeX509(pair.certPem);
    return cert.checkPrivateKey(createPrivateKey(pair.keyPem)) ? cert : undefined;
  } catch {
    return undefined;
  }
};

const fresh = (cert: NodeX509, now: number): boolean =>
  cert.validFromDate.getTime() <= now && cert.validToDate.getTime() - now > RENEW_BEFORE_MS;

const covers = (cert: NodeX509, host: string): boolean =>
  isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { subject: 'never' }) !== undefined;

/** Whether a stored CA can keep signing: well-formed, a CA, and not close to expiry. */
export const caUsable = (ca: Partial<CertKeyPem>, now = Date.now()): ca is CertKeyPem => {
  const cert = parsePair(ca);
  return cert?.ca === true && fresh(cert, now);
};

/** Whether a stored serving cert can be reused: signed by `caPem`, not close to expiry, every host. */
export const servingUsable = (
  serving: Partial<CertKeyPem>,
  caPem: string,
  hosts: readonly string[],
  now = Date.now(),
): serving is CertKeyPem => {
  const cert = parsePair(serving);
  if (cert === undefined || !fresh(cert, now)) return false;
  if (!cert.verify(new NodeX509(caPem).publicKey)) return false;
  return hosts.every((h) => covers(cert, h));
};

const readPair = (dir: string, base: string): Partial<CertKeyPem> => ({
  certPem: readPrivateFile(join(dir, `${base}.crt`)),
  keyPem: readPrivateFile(join(dir, `${base}.key`)),
});

const writePair = (dir: string, base: string, pair: CertKeyPem): void => {
  // Key first: if we crash between the two, the old cert no longer matches and both get redone.
  writePrivateFile(join(dir, `${base}.key`), pair.keyPem);
  writePrivateFile(join(dir, `${base}.crt`), pair.certPem);
};

/**
 * Loads the CA and serving certificate from `dir`, creating what is missing, broken or about to expire.
 * A new CA always brings a new serving certificate; a serving certificate is also redone when it lacks
 * one of `hosts` (on top of localhost, 127.0.0.1 and ::1).
 */
export const loadOrCreatePki = async (dir: string, hosts: readonly string[] = []): Promise<Pki> => {
  ensurePrivateDir(dir);
  const wanted = normalizeHosts(hosts);
  const storedCa = readPair(dir, 'ca');
  let ca: CertKeyPem;
  if (caUsable(storedCa)) {
    ca = storedCa;
  } else {
    ca = await generateCa();
    writePair(dir, 'ca', ca);
  }
  const storedServing = readPair(dir, 'server');
  if (servingUsable(storedServing, ca.certPem, wanted)) return { ca, serving: storedServing };
  const serving = await generateServing(ca, wanted);
  writePair(dir, 'server', serving);
  return { ca, serving };
};
