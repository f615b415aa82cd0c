// A child process campaigning for a Lease, for tests that SIGKILL a leader: prints `LEADING` and
// `STOPPED` as its leadership changes.
import { KubeConfig } from '@kubernetes/client-node';
import { startLeaderElection } from '../../controller/runtime/leader-election.ts';

const [kubeconfigPath, namespace, name, identity, lease, renew, retry] = process.argv.slice(2);
const kubeConfig = new KubeConfig();
kubeConfig.loadFromFile(kubeconfigPath!);
startLeaderElection({
  kubeConfig,
  namespace: namespace!,
  name: name!,
  identity: identity!,
  leaseDurationMs: Number(lease),
  renewDeadlineMs: Number(renew),
  retryPeriodMs: Number(retry),
  onStartedLeading: () => console.log('LEADING'),
  onStoppedLeading: () => console.log('STOPPED'),
});
