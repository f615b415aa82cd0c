// Files a run reads besides its template (telemetry CSVs), named relative to the template's
// directory and never read from outside the source root: an absolute path, `..` past the root or a
// symlink leading out is refused, as the GitSource build refuses them.
import { readFile, realpath } from 'node:fs/promises';
import { isAbsolute, relative, resolve, sep } from 'node:path';

export class SourceFileError extends Error {}

export interface SourceFiles {
  read(path: string): Promise<Buffer>;
}

const within = (root: string, p: string) => p === root || p.startsWith(root + sep);

/** Files under `root`, paths relative to `base` (a directory inside root). */
export const directoryFiles = (root: string, base: string = root): SourceFiles => ({
  async read(path) {
    if (isAbsolute(path)) throw new SourceFileError(`${path}: the path must be relative`);
    const realRoot = await realpath(root);
    const wanted = resolve(base, path);
    if (!within(resolve(root), wanted)) throw new SourceFileError(`${path}: the path leaves the source`);
    let real: string;
    try {
      real = await realpath(wanted);
    } catch {
      throw new SourceFileError(`${relative(root, wanted) || path}: no such file in the source`);
    }
    if (!within(realRoot, real))
      throw new SourceFileError(`${path}: the path resolves outside the source (a symlink)`);
    return readFile(real);
  },
});

/** No files at all: a template that binds telemetry files needs a source to read them from. */
export const noFiles = (why: string): SourceFiles => ({
  read: async (path) => {
    throw new SourceFileError(`${path}: ${why}`);
  },
});
