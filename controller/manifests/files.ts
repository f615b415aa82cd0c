// Finds the manifest files under a directory, in a stable order.
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const SKIP_DIRS = new Set(['node_modules', '.git', '.simops']);

/** Every `.yaml`/`.yml` file under `root` (or `root` itself when it is a file), sorted. */
export const findManifestFiles = (root: string): string[] => {
  if (statSync(root).isFile()) return [root];
  const out: string[] = [];
  const walk = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (entry.isFile() && /\.ya?ml$/.test(entry.name)) out.push(path);
    }
  };
  walk(root);
  return out.sort((a, b) => relative(root, a).localeCompare(relative(root, b)));
};
