// The API server's TLS material: a private CA and a serving certificate it signs, kept under
// <dataDir>/pki and reused across restarts so kubeconfigs handed out earlier stay valid.

import { fork } from 'node:child_process';
import { createPrivateKey, X509Certificate as NodeX509 } from 'node:crypto';
import { isIP } from 'node:net';
import { join } from 'node:path';
import { ensurePrivateDir, readPrivateFile, writePrivateFile } from './private-file.ts';

/** A certificate and its private key, both PEM (the key as PKCS#8). */
export type CertKeyPem = { certPem: string; keyPem: string };
export type Pki = { ca: CertKeyPem; serving: CertKeyPem };

const DAY_MS = 86_400_000;
/** Renew when a certificate has less than this left, so a long-running server never hits expiry. */
const RENEW_BEFORE_MS = 30 * DAY_MS;

/** Always served, whatever extra hosts are asked for. */
export const DEFAULT_HOSTS: readonly string[] = ['localhost', '127.0.0.1', '::1'];

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

/**
 * Certificates are made in a short-lived child process: the X.509 library takes ~20 MB that a
 * long-running server would otherwise keep after start-up (a worker thread's memory is not given
 * back to the system either). Only the first start and renewals pay for it.
 */
const inWorker = (job: { kind: 'ca' } | { kind: 'serving'; ca: CertKeyPem; hosts: readonly string[] }) =>
  new Promise<CertKeyPem>((resolve, reject) => {
    // `.ts` from the sources, `.js` from the build in dist/.
    const worker = new URL(
      `./pki-worker${import.meta.url.slice(import.meta.url.lastIndexOf('.'))}`,
      import.meta.url,
    );
    const child = fork(worker, [], {
      execArgv: [],
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    let pair: CertKeyPem | undefined;
    child.once('message', (message: CertKeyPem) => {
      pair = message;
    });
    child.once('error', reject);
    child.once('exit', (code) =>
      pair ? resolve(pair) : reject(new Error(`certificate process exited with ${code}`)),
    );
    child.send(job);
  });

export const generateCa = (): Promise<CertKeyPem> => inWorker({ kind: 'ca' });
export const generateServing = (ca: CertKeyPem, hosts: readonly string[]): Promise<CertKeyPem> =>
  inWorker({ kind: 'serving', ca, hosts });

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
