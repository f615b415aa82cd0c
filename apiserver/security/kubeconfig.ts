// A kubeconfig that points kubectl and client libraries at the embedded API server.
import { closeSync, fchmodSync, mkdirSync, openSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

export type KubeconfigOptions = {
  /** https URL of the API server, e.g. `https://127.0.0.1:6443`. */
  server: string;
  /** PEM of the CA that signed the serving certificate. */
  caPem: string;
  token: string;
  /** Name of the cluster, user and context; `simops` unless given. */
  name?: string;
};

export const kubeconfigYaml = (opts: KubeconfigOptions): string => {
  const name = opts.name ?? 'simops';
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [
      {
        name,
        cluster: {
          server: opts.server,
          'certificate-authority-data': Buffer.from(opts.caPem).toString('base64'),
        },
      },
    ],
    users: [{ name, user: { token: opts.token } }],
    contexts: [{ name, context: { cluster: name, user: name, namespace: 'default' } }],
    'current-context': name,
    preferences: {},
  });
};

/**
 * Writes the kubeconfig at `path` with mode 0600. The mode is set on creation and again on the open
 * descriptor before any byte of the token is written, so a pre-existing 0644 file never exposes it.
 */
export const writeKubeconfig = (path: string, opts: KubeconfigOptions): void => {
  mkdirSync(dirname(path), { recursive: true });
  const fd = openSync(path, 'w', 0o600);
  try {
    fchmodSync(fd, 0o600);
    writeSync(fd, kubeconfigYaml(opts));
  } finally {
    closeSync(fd);
  }
};
