// `simops up [REPO]`: the embedded control plane on loopback, SimOps' controllers, and a GitSource
// that applies REPO's working tree (edits are applied within a second). State in REPO/.simops.
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { KubeConfig } from '@kubernetes/client-node';
import { pino } from 'pino';
import { startEmbedded } from '../../apiserver/embedded.ts';
import { GITSOURCE } from '../../reconcilers/git-source/reconciler.ts';
import { runController } from '../run.ts';
import { KubeClient } from '../runtime/kube-client.ts';

export interface UpOptions {
  dataDir?: string;
  host: string;
  port: string;
  healthPort: string;
  logLevel: string;
}

export const BOOTSTRAP_NAME = 'simops-repo';

export const upCommand = async (repo: string, opts: UpOptions): Promise<void> => {
  if (!existsSync(repo) || !statSync(repo).isDirectory()) {
    console.error(`${repo}: not a directory`);
    process.exitCode = 1;
    return;
  }
  const repoDir = resolve(repo);
  const dataDir = resolve(opts.dataDir ?? join(repoDir, '.simops'));
  // Logs go to stderr so stdout carries only what a person copies (the export line).
  const logger = pino({ level: opts.logLevel, base: { component: 'simops' } }, pino.destination(2));
  const embedded = await startEmbedded({ dataDir, host: opts.host, port: Number(opts.port), logger });
  const kc = new KubeConfig();
  kc.loadFromFile(embedded.kubeconfigPath);
  await new KubeClient(kc).apply(
    {
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'GitSource',
      metadata: { name: BOOTSTRAP_NAME, namespace: 'default' },
      spec: { url: repoDir, path: './', interval: '1m', environment: 'simulation', prune: true },
    },
    { fieldManager: 'simops-up', force: true },
  );
  const running = await runController({
    kubeConfig: kc,
    log: logger,
    cacheDir: join(dataDir, 'git'),
    artifactDir: join(dataDir, 'artifacts'),
    redisUrl: process.env.REDIS_URL || undefined,
    // Embedded mode runs the repository a person points it at: sandboxes run as local processes.
    processRuntime: true,
    health: { host: opts.host, port: Number(opts.healthPort) },
  });
  console.log(
    `SimOps API server on ${embedded.server.url}; applying ${repoDir} (GitSource ${GITSOURCE.kind.toLowerCase()}/${BOOTSTRAP_NAME})`,
  );
  console.log(`metrics and health on ${running.healthUrl}/metrics; data in ${dataDir}`);
  console.log(`export KUBECONFIG=${embedded.kubeconfigPath}`);
  console.log('then: kubectl get simops');
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'stopping: draining in-flight work');
    await running.stop();
    await embedded.stop();
    process.exit(0);
  };
  process.on('SIGINT', () => void stop('SIGINT'));
  process.on('SIGTERM', () => void stop('SIGTERM'));
};
