// The one entry point for the API server's security material: TLS certificates and the bearer token.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { loadOrCreatePki } from './pki.ts';
import { loadOrCreateToken } from './token.ts';

export { type KubeconfigOptions, writeKubeconfig } from './kubeconfig.ts';
export { tokenMatches } from './token.ts';

export type Credentials = {
  /** PEM of the CA clients must trust (goes into the kubeconfig). */
  caPem: string;
  /** PEM of the serving certificate, for `https.createServer({ cert })`. */
  certPem: string;
  /** PKCS#8 PEM of the serving key, for `https.createServer({ key })`. */
  keyPem: string;
  /** Bearer token every request must carry. */
  token: string;
};

export type CredentialsOptions = {
  /** Extra DNS names or IPs the serving certificate must cover, besides localhost, 127.0.0.1 and ::1. */
  hosts?: string[];
};

/**
 * Loads the credentials from `dataDir` (`pki/` and `token`), creating them on first start and
 * renewing the serving certificate when it nears expiry or misses a requested host.
 */
export const loadOrCreateCredentials = async (
  dataDir: string,
  opts: CredentialsOptions = {},
): Promise<Credentials> => {
  // 0700 only when we create it: an existing data directory's mode is the operator's choice.
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const { ca, serving } = await loadOrCreatePki(join(dataDir, 'pki'), opts.hosts ?? []);
  const token = loadOrCreateToken(join(dataDir, 'token'));
  return { caPem: ca.certPem, certPem: serving.certPem, keyPem: serving.keyPem, token };
};
