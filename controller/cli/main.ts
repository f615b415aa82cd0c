// The `simops` command line.
import { Command } from 'commander';
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

await program.parseAsync(process.argv);
