// The `simops` command line.
import { Command } from 'commander';
import { type ChaosRunOptions, chaosRunCommand } from './chaos.ts';
import { controllerCommand } from './controller.ts';
import { migrateMachinesCommand } from './migrate.ts';
import { planCommand } from './plan.ts';
import { collectParam, type RunCommandOptions, runCommand } from './run.ts';
import { upCommand } from './up.ts';
import { validateCommand } from './validate.ts';
import { workerCommand } from './worker.ts';

const program = new Command()
  .name('simops')
  .description('GitOps controller for simulation environments')
  .version('0.1.0')
  .showHelpAfterError();

program
  .command('validate')
  .description('parse and validate every manifest under PATH (exit 0 valid, 1 invalid)')
  .argument('<path>', 'a manifest file or a directory of them')
  .option('-q, --quiet', 'print errors only')
  .action((path: string, opts: { quiet?: boolean }) => {
    process.exitCode = validateCommand(path, opts);
  });

program
  .command('plan')
  .description('validate PATH and show what applying it would change (exit 0 none, 1 changes, 2 invalid)')
  .argument('<path>', 'a directory of manifests (overlays/<environment>/ included)')
  .option('--kubeconfig <path>', 'compare with the live objects of this cluster (default: KUBECONFIG)')
  .option('--environment <env>', 'the overlay to build', 'simulation')
  .option('--namespace <ns>', 'namespace of objects that name none', 'default')
  .option('--source <namespace/name>', 'the GitSource that applies PATH, to show what would be pruned')
  .action(
    async (
      path: string,
      opts: { kubeconfig?: string; environment: string; namespace: string; source?: string },
    ) => {
      process.exitCode = await planCommand(path, opts);
    },
  );

program
  .command('migrate')
  .description('rewrite legacy manifests in a working tree')
  .command('machines')
  .description('rewrite legacy Machine manifests (definition, connectionInfo.backend_fqn) to spec.backend')
  .argument('<path>', 'a manifest file or a directory of them')
  .option('--dry-run', 'print what would change, write nothing')
  .action((path: string, opts: { dryRun?: boolean }) => {
    process.exitCode = migrateMachinesCommand(path, opts);
  });

program
  .command('run')
  .description(
    'one simulation run of a FlowTime template, as a SimulationRun makes it (exit 0 done, 2 invalid, 1 failed)',
  )
  .argument('<template>', 'the template file (YAML or JSON)')
  .option('--param <name=value>', 'a parameter value (repeatable)', collectParam, [])
  .option('--seed <n>', 'the rng seed (default: the template rng seed, else 0)')
  .option('--out <dir>', 'the artifact root: runs are written to DIR/runs/<runId>/', 'data')
  .option(
    '--mode <mode>',
    'simulation, or telemetry (series from the CSV files the template binds)',
    'simulation',
  )
  .option('--template-id <id>', "the expected template id (default: the template's metadata.id)")
  .option('--run-id <id>', 'the run id (default: deterministic from the inputs)')
  .option('--no-deterministic-run-id', 'a new timestamped run id rather than one derived from the inputs')
  .option('--overwrite', 'replace an existing run with the same id rather than reuse it')
  .option('--dry-run', 'validate and report the plan, write nothing')
  .option(
    '--root <dir>',
    "telemetry files may be read from anywhere under DIR (default: the template's directory)",
  )
  .option('--json', 'print the run report as JSON')
  .option('--log-level <level>', 'pino log level (logs go to stderr)', 'error')
  .action(async (template: string, opts: RunCommandOptions) => {
    process.exitCode = await runCommand(template, opts);
  });

program
  .command('chaos')
  .description('chaos scenarios')
  .command('run')
  .description(
    'apply a ChaosScenario (or name one), run it afresh and wait for its verdict: the CI gate (exit 0 passed, 1 failed, 2 no verdict)',
  )
  .argument('<file-or-name>', 'a file holding one ChaosScenario, or the name of one in the cluster')
  .option('--kubeconfig <path>', 'the cluster (default: KUBECONFIG, ~/.kube/config)')
  .option('-n, --namespace <ns>', 'namespace of a scenario that names none', 'default')
  .option('--timeout <duration>', 'give up waiting after this long (exit 2)', '30m')
  .option('--json', 'print the final status as JSON')
  .option('-q, --quiet', 'no progress lines on stderr')
  .action(async (what: string, opts: ChaosRunOptions) => {
    process.exitCode = await chaosRunCommand(what, opts);
  });

program
  .command('up')
  .description('run the embedded API server (and SimOps) on loopback for REPO; prints the KUBECONFIG line')
  .argument('[repo]', 'the repository of manifests', 'examples')
  .option('--data-dir <dir>', 'state, credentials and kubeconfig (default: REPO/.simops)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0: any free port)', '6443')
  .option('--health-port <port>', 'metrics, health and webhook port (0: any free port)', '0')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(upCommand);

program
  .command('controller')
  .description('run SimOps against a real cluster (kubeconfig or in-cluster), with leader election')
  .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
  .option(
    '--namespace <ns>',
    'namespace of the leader election Lease',
    process.env.POD_NAMESPACE ?? 'simops-system',
  )
  .option('--no-leader-elect', 'run without leader election (one replica only)')
  .option(
    '--shard <name>',
    'reconcile only objects labelled simops.dev/shard=NAME; the leader Lease is simops-controller-NAME',
  )
  .option(
    '--watch-label-selector <selector>',
    "reconcile only objects this label selector picks, e.g. '!simops.dev/shard' for the main instance",
  )
  .option('--health-bind <host:port>', 'metrics, health and webhook address', '127.0.0.1:8080')
  .option('--cache-dir <dir>', 'where git clones are kept', '/tmp/simops-git')
  .option(
    '--artifact-dir <dir>',
    'where artifacts are written (a mounted volume)',
    '/var/lib/simops/artifacts',
  )
  .option(
    '--enable-process-runtime',
    'let Sandboxes run commands from git as local processes (also SIMOPS_PROCESS_RUNTIME=true); off by default in a cluster',
  )
  .option('--log-level <level>', 'pino log level', 'info')
  .action(controllerCommand);

program
  .command('worker')
  .description(
    'run the long jobs the controller queues on Redis (REDIS_URL): simulation evaluations, chaos runs, browser flows, snapshot archives',
  )
  .option('--redis-url <url>', 'the job queue (default: REDIS_URL)')
  .option('--kubeconfig <path>', 'kubeconfig (default: KUBECONFIG, ~/.kube/config, or in-cluster)')
  .option('--health-bind <host:port>', 'metrics and health address', '127.0.0.1:8080')
  .option('--cache-dir <dir>', 'where git clones are kept', '/tmp/simops-git')
  .option(
    '--artifact-dir <dir>',
    "where artifacts are written (the controller's volume)",
    '/var/lib/simops/artifacts',
  )
  .option('--concurrency <n>', 'jobs run at once per queue (evaluations use one core each)', '1')
  .option('--lock-duration <ms>', 'a dead worker gives its jobs back after at most this long', '30000')
  .option('--stalled-interval <ms>', 'how often jobs of dead workers are looked for', '30000')
  .option('--progress-interval <ms>', 'how often progress is reported', '250')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(workerCommand);

await program.parseAsync(process.argv);
