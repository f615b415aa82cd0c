// A Simulator's resolved config, read from the repository of the GitSource that applied it at the
// revision that GitSource applied; cached per (object, generation, revision) so that reconciles
// that change nothing read nothing. Shared by the Simulator and Sandbox reconcilers.
import type { KubeObject } from '../../apiserver/types.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { GitSourceStatus } from '../../crds/git-source.ts';
import type { SimulatorSpec } from '../../crds/simulator.ts';
import { GITSOURCE } from '../git-source/reconciler.ts';
import { type ConfigResult, type ReadFile, resolveConfig } from './config.ts';
import { openRepository, type Repository, SourceUnavailableError, sourceOf } from './repository.ts';

export { SourceUnavailableError };

export type Loaded = ConfigResult & { revision?: string };

const cache = new Map<string, Loaded>();
const MAX_CACHED = 200;

/** True when the config names a file of the repository. */
const readsFiles = (spec: SimulatorSpec) =>
  Object.values(spec.datasets).some(
    (d) =>
      d.metadata?.flowsPath !== undefined ||
      Object.values(d.services ?? {}).some((s) => s.type === 'compose'),
  );

const noRepository: ReadFile = async (path) => {
  throw new Error(
    `${path} is a file of the GitSource repository, but no GitSource applied this Simulator (it has no simops.dev/source-name label)`,
  );
};

export const loadConfig = async (
  client: KubeClient,
  simulator: KubeObject,
  cacheDir: string,
  signal?: AbortSignal,
): Promise<Loaded> => {
  const spec = simulator.spec as SimulatorSpec;
  const source = sourceOf(simulator);
  let applied = '';
  if (source && readsFiles(spec)) {
    const gs = await client.get(GITSOURCE, source.namespace, source.name);
    applied = ((gs?.status ?? {}) as GitSourceStatus).lastAppliedRevision ?? '';
  }
  const key = `${simulator.metadata.uid}:${simulator.metadata.generation}:${applied}`;
  const hit = cache.get(key);
  if (hit) return hit;
  let repo: Repository | undefined;
  if (source && readsFiles(spec)) repo = await openRepository(client, source, cacheDir, signal);
  const result = await resolveConfig(spec, repo ? (p) => repo.read(p) : noRepository);
  const loaded: Loaded = { ...result, ...(repo ? { revision: repo.revision } : {}) };
  cache.set(key, loaded);
  if (cache.size > MAX_CACHED) cache.delete(cache.keys().next().value as string);
  return loaded;
};
