// The `simops` command line.
import { Command } from 'commander';
import { upCommand } from './up.ts';
import { validateCommand } from './validate.ts';

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
  .command('up')
  .description('run the embedded API server (and SimOps) on loopback for REPO; prints the KUBECONFIG line')
  .argument('[repo]', 'the repository of manifests', 'examples')
  .option('--data-dir <dir>', 'state, credentials and kubeconfig (default: REPO/.simops)')
  .option('--host <host>', 'address to listen on', '127.0.0.1')
  .option('--port <port>', 'port to listen on (0: any free port)', '6443')
  .option('--log-level <level>', 'pino log level', 'info')
  .action(upCommand);

await program.parseAsync(process.argv);
