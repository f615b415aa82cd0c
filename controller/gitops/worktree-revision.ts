// The revision of a working tree that is not a commit: a digest of its files, so an edit changes
// it and no edit keeps it. Paths are hashed in sorted order with their bytes; symlinks by target.
import { createHash, type Hash } from 'node:crypto';
import { readdir, readFile, readlink } from 'node:fs/promises';
import { join } from 'node:path';

export const SKIP_DIRS: ReadonlySet<string> = new Set(['.git', 'node_modules', '.simops']);

/** True for directories the working tree's content never includes. */
export const isSkippedDir = (name: string): boolean => SKIP_DIRS.has(name) || name.startsWith('.');

const walk = async (root: string, rel: string, hash: Hash): Promise<void> => {
  const entries = await readdir(join(root, rel), { withFileTypes: true });
  // Code-point order, not locale order: the same tree must hash the same on every machine.
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  for (const entry of entries) {
    const path = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) {
      if (!isSkippedDir(entry.name)) await walk(root, path, hash);
    } else if (entry.isSymbolicLink()) {
      const target = await readlink(join(root, path));
      hash.update(`L\0${path}\0${target}\0`);
    } else if (entry.isFile()) {
      const bytes = await readFile(join(root, path));
      hash.update(`F\0${path}\0${bytes.length}\0`);
      hash.update(bytes);
    }
  }
};

/** `worktree@sha256:<hex>` of everything under `dir` but `.git`, `node_modules`, `.simops` and dot-dirs. */
export const worktreeRevision = async (dir: string): Promise<string> => {
  const hash = createHash('sha256');
  await walk(dir, '', hash);
  return `worktree@sha256:${hash.digest('hex')}`;
};
