#!/usr/bin/env node
// Entry point of the `simops` command. SimOps runs its TypeScript directly on Node >= 22.19
// (type stripping); on an older system Node it re-runs itself with the Node the package pins.
// Long-running commands start with the V8 flags of node-flags.js; the built JavaScript in dist/ runs
// when it is fresh (entry.js).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { entryModule } from './entry.js';
import { startupOf } from './node-flags.js';

const here = dirname(fileURLToPath(import.meta.url));
const self = fileURLToPath(import.meta.url);
const args = process.argv.slice(2);
const [major, minor] = process.versions.node.split('.').map(Number);
const tooOld = major < 22 || (major === 22 && minor < 19);
const startup = startupOf(args[0]);
const flags = startup.flags;
const env = { ...startup.env, ...process.env };
const missing = flags.filter((f) => !process.execArgv.includes(f));

if (tooOld) {
  const pinned = join(here, '..', 'node_modules', 'node', 'bin', 'node');
  if (!existsSync(pinned) || process.env.SIMOPS_REEXEC) {
    console.error(
      `simops needs Node >= 22.19 (this is ${process.version}); run \`npm ci\` to install the pinned Node.`,
    );
    process.exit(1);
  }
  const child = spawn(pinned, [...flags, self, ...args], {
    stdio: 'inherit',
    env: { ...env, SIMOPS_REEXEC: '1' },
  });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
} else if (missing.length && typeof process.execve === 'function') {
  // Replace this process (same pid, no parent left behind) with one started with the flags.
  process.execve(
    process.execPath,
    [process.execPath, ...missing, ...process.execArgv, self, ...args],
    process.env,
  );
} else {
  await import(pathToFileURL(entryModule(join(here, '..'))).href);
}
