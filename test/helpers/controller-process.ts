// A child process running SimOps' controllers behind leader election, for tests that SIGKILL a
// leader: prints `LEADING` and `STOPPED` as its leadership changes, and `SYNCED <revision>` for
// every GitSource sync it performs; first `HEALTH <url>`, where its webhook receiver listens.
// Arguments: kubeconfig, identity, cache dir, lease duration, renew deadline, retry period (ms),
// and optionally the Lease's name (default simops-controller).
import { KubeConfig } from '@kubernetes/client-node';
import { runController } from '../../controller/run.ts';
import type { Log } from '../../controller/runtime/logger.ts';

const [kubeconfigPath, identity, cacheDir, lease, renew, retry, leaseName] = process.argv.slice(2);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath!);

const log = (bindings: object = {}): Log => ({
  info: (o, m) => {
    if (m === 'synced') console.log(`SYNCED ${(o as { revision?: string }).revision}`);
  },
  warn: (o, m) => console.error(JSON.stringify({ identity, level: 'warn', msg: m, ...bindings, ...o })),
  error: (o, m) => console.error(JSON.stringify({ identity, level: 'error', msg: m, ...bindings, ...o })),
  debug: () => {},
  child: (more) => log({ ...bindings, ...more }),
});

const running = await runController({
  kubeConfig,
  log: log(),
  cacheDir: cacheDir!,
  health: { host: '127.0.0.1', port: 0 },
  leaderElection: {
    namespace: 'default',
    name: leaseName ?? 'simops-controller',
    identity: identity!,
    leaseDurationMs: Number(lease),
    renewDeadlineMs: Number(renew),
    retryPeriodMs: Number(retry),
  },
});

console.log(`HEALTH ${running.healthUrl}`);

// Polled rather than hooked: what the test sees is what the manager reports.
let leading = false;
setInterval(() => {
  if (running.manager.isLeader() === leading) return;
  leading = !leading;
  console.log(leading ? 'LEADING' : 'STOPPED');
}, 20);

process.on('SIGTERM', () => {
  void running.stop().then(() => process.exit(0));
});
