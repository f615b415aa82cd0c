// The repository of the GitSource that applied a SimulationRun, checked out at the revision that
// GitSource last applied, in a cache of SimulationRun's own (the GitSource's checkout may move while
// a run reads). Each read re-checks the commit out under a lock per repository, so runs pinned to
// different revisions of one repository never read each other's files. A local working tree (as
// `simops up` uses) is read as it is.
import { join } from 'node:path';
import { serialized } from '../../controller/gitops/keyed-lock.ts';
import { parseSourceUrl } from '../../controller/gitops/source-url.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import { appliedSource } from '../git-source/applied-source.ts';
import { directoryFiles, type SourceFiles } from './source-files.ts';

export class TemplateSourceError extends Error {
  readonly reason: string;
  /** True when only a change of the SimulationRun can help (Stalled); false when retrying can. */
  readonly terminal: boolean;
  constructor(reason: string, message: string, terminal: boolean) {
    super(message);
    this.reason = reason;
    this.terminal = terminal;
  }
}

export interface Checkout {
  /** The files of the repository, paths relative to `base` (a directory relative to the root). */
  files(base: string): SourceFiles;
  revision: string;
}

export const checkoutSource = async (
  client: KubeClient,
  source: { namespace: string; name: string },
  cacheDir: string,
  signal?: AbortSignal,
): Promise<Checkout> => {
  const dir = join(cacheDir, 'simulation-runs');
  const applied = await appliedSource(client, source, {
    cacheDir: dir,
    signal,
    fetchFailed: (message) => new TemplateSourceError('FetchFailed', message, false),
  });
  if (!applied) {
    throw new TemplateSourceError(
      'TemplateNotFound',
      `GitSource ${source.namespace}/${source.name}, which applied this SimulationRun, was not found`,
      false,
    );
  }
  const { spec, fetch } = applied;
  // Every fetch (which checks out) and every read of the checkout holds the lock of its directory.
  let parsed: ReturnType<typeof parseSourceUrl>;
  try {
    parsed = parseSourceUrl(spec.url);
  } catch (err) {
    throw new TemplateSourceError('FetchFailed', (err as Error).message, false);
  }
  const lock = `simulation-run:${parsed.type === 'remote' ? join(dir, parsed.cacheKey) : parsed.path}`;
  const first = await serialized(lock, fetch);
  const isWorktree = first.commit === undefined;
  return {
    revision: first.revision,
    files: (base) => ({
      read: (path) =>
        isWorktree
          ? directoryFiles(first.dir, join(first.dir, base)).read(path)
          : serialized(lock, async () => {
              const current = await fetch();
              return directoryFiles(current.dir, join(current.dir, base)).read(path);
            }),
    }),
  };
};
