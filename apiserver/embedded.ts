// The embedded control plane as one unit: credentials, durable store, API server and kubeconfig
// in a data directory. `simops up` and the tests start it the same way.
import { join, resolve } from 'node:path';
import { loadOrCreateCredentials, writeKubeconfig } from './security/credentials.ts';
import { type ApiServer, type Logger, startApiServer } from './server.ts';
import { openFileStore } from './store/file-store.ts';

export interface EmbeddedOptions {
  dataDir: string;
  host?: string;
  port?: number;
  logger?: Logger;
  bookmarkIntervalMs?: number;
  compactBytes?: number;
  /** How long Events are kept after their last occurrence (default 1 h). */
  eventTtlMs?: number;
}

export interface Embedded {
  server: ApiServer;
  kubeconfigPath: string;
  caPem: string;
  token: string;
  stop(): Promise<void>;
}

export const startEmbedded = async (opts: EmbeddedOptions): Promise<Embedded> => {
  const dataDir = resolve(opts.dataDir);
  const host = opts.host ?? '127.0.0.1';
  const creds = await loadOrCreateCredentials(dataDir, { hosts: [host] });
  const store = openFileStore({
    dir: join(dataDir, 'store'),
    compactBytes: opts.compactBytes,
    logger: opts.logger,
  });
  let server: ApiServer;
  try {
    server = await startApiServer({
      store,
      tls: creds,
      token: creds.token,
      host,
      port: opts.port,
      logger: opts.logger,
      bookmarkIntervalMs: opts.bookmarkIntervalMs,
      eventTtlMs: opts.eventTtlMs,
    });
  } catch (err) {
    store.close();
    throw err;
  }
  const kubeconfigPath = join(dataDir, 'kubeconfig');
  writeKubeconfig(kubeconfigPath, { server: server.url, caPem: creds.caPem, token: creds.token });
  return {
    server,
    kubeconfigPath,
    caPem: creds.caPem,
    token: creds.token,
    stop: async () => {
      await server.close();
      store.close();
    },
  };
};
