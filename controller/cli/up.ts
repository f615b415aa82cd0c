// `simops up [REPO]`: the embedded control plane on loopback, state in REPO/.simops by default.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pino } from 'pino';
import { startEmbedded } from '../../apiserver/embedded.ts';

export interface UpOptions {
  dataDir?: string;
  host: string;
  port: string;
  logLevel: string;
}

export const upCommand = async (repo: string, opts: UpOptions): Promise<void> => {
  if (!existsSync(repo) || !statSync(repo).isDirectory()) {
    console.error(`${repo}: not a directory`);
    process.exitCode = 1;
    return;
  }
  const dataDir = resolve(opts.dataDir ?? join(repo, '.simops'));
  // Logs go to stderr so stdout carries only what a person copies (the export line).
  const logger = pino({ level: opts.logLevel, base: { component: 'simops' } }, pino.destination(2));
  const embedded = await startEmbedded({ dataDir, host: opts.host, port: Number(opts.port), logger });
  console.log(`SimOps API server on ${embedded.server.url} (data in ${dataDir})`);
  console.log(`export KUBECONFIG=${embedded.kubeconfigPath}`);
  console.log('then: kubectl get simops');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping');
    await embedded.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};
