// The files a GitSource applied, for the objects it applied (a Simulator's repository, a
// SimulationRun's template): the commit of its last applied revision (else its ref), fetched with
// its credentials into a cache directory of the caller's.
import { FetchError, type FetchResult, fetchSource, type GitRef } from '../../controller/gitops/fetch.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { GitSourceSpec, GitSourceStatus } from '../../crds/git-source.ts';
import { gitCredentials, MissingSecretError } from './credentials.ts';
import { GITSOURCE } from './reconciler.ts';

export interface AppliedSource {
  spec: GitSourceSpec;
  /** Fetches (and checks out) the revision; a failed fetch or a missing Secret is `fetchFailed`'s. */
  fetch(): Promise<FetchResult>;
}

const commitOf = (revision: string | undefined): string | undefined =>
  /sha1:([0-9a-f]{40})$/.exec(revision ?? '')?.[1];

/** Undefined when the GitSource is gone. */
export const appliedSource = async (
  client: KubeClient,
  source: { namespace: string; name: string },
  opts: { cacheDir: string; signal?: AbortSignal; fetchFailed: (message: string) => Error },
): Promise<AppliedSource | undefined> => {
  const gs = await client.get(GITSOURCE, source.namespace, source.name);
  if (!gs) return undefined;
  const spec = gs.spec as GitSourceSpec;
  const commit = commitOf(((gs.status ?? {}) as GitSourceStatus).lastAppliedRevision);
  const ref: GitRef | undefined = commit ? { commit } : spec.ref;
  return {
    spec,
    fetch: async () => {
      try {
        const credentials = spec.secretRef
          ? await gitCredentials(client, source.namespace, spec.secretRef.name)
          : undefined;
        return await fetchSource({
          url: spec.url,
          ref,
          timeoutMs: 60_000,
          credentials,
          cacheDir: opts.cacheDir,
          signal: opts.signal,
        });
      } catch (err) {
        if (err instanceof FetchError || err instanceof MissingSecretError)
          throw opts.fetchFailed(err.message);
        throw err;
      }
    },
  };
};
