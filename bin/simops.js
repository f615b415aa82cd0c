#!/usr/bin/env node
// Entry point of the `simops` command. SimOps runs its TypeScript directly on Node >= 22.19
// (type stripping); on an older system Node it re-runs itself with the Node the package pins.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const [major, minor] = process.versions.node.split('.').map(Number);
const tooOld = major < 22 || (major === 22 && minor < 19);

if (tooOld) {
  const pinned = join(here, '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned) || process.env.SIMOPS_REEXEC) {
    console.error(
      `simops needs Node >= 22.19 (this is ${process.version}); run \`npm ci\` to install the pinned Node.`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
    stdio: 'inherit',
    env: { ...process.env, SIMOPS_REEXEC: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else {
  await import('../controller/cli/main.ts');
}
