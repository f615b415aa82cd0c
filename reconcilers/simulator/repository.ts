// The repository of the GitSource that applied a Simulator (or Sandbox), at the revision that
// GitSource last applied: the approach of SimulationRun's git-checkout.ts (a cache of our own, the
// commit re-checked-out under a per-directory lock for every use, a working tree used as it is),
// with one more use besides reading a file: copying the whole tree into a sandbox's working
// directory. Paths never leave the repository (`..`, absolute paths and outward symlinks refused).
import { cp, lstat, mkdir, readdir, realpath } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import type { KubeObject } from '../../apiserver/types.ts';
import { serialized } from '../../controller/gitops/keyed-lock.ts';
import { isSkippedDir } from '../../controller/gitops/worktree-revision.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import { appliedSource } from '../git-source/applied-source.ts';
import { SOURCE_NAME_LABEL, SOURCE_NAMESPACE_LABEL } from '../git-source/desired.ts';
import { directoryFiles, SourceFileError } from '../simulation-run/source-files.ts';

export { SourceFileError };

/** The repository cannot be read now (no GitSource, fetch failed): retried, not terminal. */
export class SourceUnavailableError extends Error {
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

export interface Repository {
  /** `main@sha1:<sha>` or `worktree@sha256:<hex>`. */
  revision: string;
  /** A file, relative to the repository root. */
  read(path: string): Promise<Buffer>;
  /** Copies the tree into `dest`, without .git, node_modules, .simops and other dot-directories. */
  copyTo(dest: string): Promise<void>;
}

export interface SourceRef {
  namespace: string;
  name: string;
}

/** The GitSource that applied an object, from the labels GitSource sets. */
export const sourceOf = (o: KubeObject): SourceRef | undefined => {
  const labels = o.metadata.labels ?? {};
  const name = labels[SOURCE_NAME_LABEL];
  return name
    ? { name, namespace: labels[SOURCE_NAMESPACE_LABEL] ?? o.metadata.namespace ?? 'default' }
    : undefined;
};

const within = (root: string, p: string) => p === root || p.startsWith(root + sep);

export const openRepository = async (
  client: KubeClient,
  source: SourceRef,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<Repository> => {
  const applied = await appliedSource(client, source, {
    cacheDir: join(cacheDir, 'simulators'),
    signal,
    fetchFailed: (message) => new SourceUnavailableError('FetchFailed', message),
  });
  if (!applied) {
    throw new SourceUnavailableError(
      'SourceNotFound',
      `GitSource ${source.namespace}/${source.name}, which applied this object, was not found`,
    );
  }
  const { fetch } = applied;
  const first = await fetch();
  const isWorktree = first.commit === undefined;
  /** Runs fn on a directory holding the wanted revision, for as long as fn runs. */
  const withTree = <T>(fn: (root: string) => Promise<T>): Promise<T> =>
    isWorktree ? fn(first.dir) : serialized(`simulator:${first.dir}`, async () => fn((await fetch()).dir));
  return {
    revision: first.revision,
    read: (path) => withTree((root) => directoryFiles(root).read(path)),
    copyTo: (dest) =>
      withTree(async (root) => {
        const realRoot = await realpath(root);
        await mkdir(dest, { recursive: true });
        const realDest = await realpath(dest);
        const filter = async (src: string) => {
          if (isSkippedDir(basename(src)) && (await lstat(src)).isDirectory()) return false;
          // A symlink leading out of the repository is not copied (it would be followed later).
          const real = await realpath(src).catch(() => undefined);
          return (
            real !== undefined &&
            within(realRoot, real) &&
            !relative(realRoot, src).startsWith('..') &&
            // Nor the destination, when it is inside the tree (`simops up examples/` keeps its data
            // in examples/.simops), nor what holds it.
            !within(real, realDest) &&
            !within(realDest, real)
          );
        };
        // Entry by entry: fs.cp refuses a destination inside its source even where the filter
        // leaves that part out.
        for (const entry of await readdir(realRoot)) {
          const src = join(realRoot, entry);
          if (await filter(src))
            await cp(src, join(dest, entry), { recursive: true, verbatimSymlinks: true, filter });
        }
      }),
  };
};
