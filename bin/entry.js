// Which build of SimOps to run: the JavaScript in dist/ (npm run build; made by `npm ci`) when it is
// at least as new as every source file, else the TypeScript sources themselves.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCE_DIRS = ['crds', 'apiserver', 'controller', 'reconcilers'];

const newestSource = (dir) => {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) newest = Math.max(newest, newestSource(path));
    else if (entry.name.endsWith('.ts')) newest = Math.max(newest, statSync(path).mtimeMs);
  }
  return newest;
};

/** The module to import: dist's main.js if fresh, else main.ts. */
export const entryModule = (root) => {
  const built = join(root, 'dist', 'controller', 'cli', 'main.js');
  const stamp = join(root, 'dist', '.built');
  if (existsSync(built) && existsSync(stamp)) {
    const builtAt = statSync(stamp).mtimeMs;
    if (SOURCE_DIRS.every((d) => !existsSync(join(root, d)) || newestSource(join(root, d)) <= builtAt))
      return built;
  }
  return join(root, 'controller', 'cli', 'main.ts');
};
