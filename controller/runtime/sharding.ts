// Sharding, as Flux does it: each controller instance watches only the objects a label selector
// picks (`--watch-label-selector`), and `--shard NAME` is short for the objects labelled
// `simops.dev/shard=NAME`. Each shard elects its own leader on its own Lease.
import { labelMatcher, parseLabelSelector } from '../../apiserver/selectors.ts';
import type { KubeObject } from '../../apiserver/types.ts';

/** The label that assigns an object to a shard; a GitSource passes its own on to what it applies. */
export const SHARD_LABEL = 'simops.dev/shard';

/** The Lease of the unsharded controller (and of a controller that only has a selector). */
export const DEFAULT_LEASE = 'simops-controller';

export interface Sharding {
  /** Reconcile only objects labelled `simops.dev/shard=<shard>`. */
  shard?: string;
  /** Reconcile only objects this label selector picks (Flux's `--watch-label-selector`). */
  watchLabelSelector?: string;
}

// A shard name is a label value and part of a Lease's and a Deployment's name: a DNS label.
const SHARD_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const MAX_SHARD_NAME = 63;

/** Why a sharding configuration cannot work, or undefined when it can. */
export const shardingError = (s: Sharding): string | undefined => {
  if (s.shard !== undefined) {
    if (!SHARD_NAME.test(s.shard) || s.shard.length > MAX_SHARD_NAME)
      return `--shard ${JSON.stringify(s.shard)}: a shard name is lower-case letters, digits and '-', at most ${MAX_SHARD_NAME} characters`;
  }
  if (s.watchLabelSelector !== undefined) {
    try {
      parseLabelSelector(s.watchLabelSelector);
    } catch (err) {
      return `--watch-label-selector ${JSON.stringify(s.watchLabelSelector)}: ${(err as Error).message}`;
    }
  }
  return undefined;
};

/** The label selector every informer of this instance lists and watches with (undefined: all objects). */
export const watchSelector = (s: Sharding): string | undefined =>
  [s.shard === undefined ? undefined : `${SHARD_LABEL}=${s.shard}`, s.watchLabelSelector]
    .filter((p): p is string => !!p?.trim())
    .join(',') || undefined;

/** The leader election Lease: one per shard, so every shard has its own leader. */
export const leaseName = (shard: string | undefined): string =>
  shard === undefined ? DEFAULT_LEASE : `${DEFAULT_LEASE}-${shard}`;

/** Whether an object belongs to the instance watching with `selector`. */
export const inShard = (selector: string | undefined): ((o: KubeObject) => boolean) =>
  labelMatcher(selector ?? null);
