// What SimOps applies for an object from git: the object, labelled with its GitSource (and its
// GitSource's shard) and carrying a digest of itself, so an unchanged object needs no request and a
// changed one is re-applied.
import { createHash } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { KubeObject } from '../../apiserver/types.ts';
import { canonicalJson } from '../../controller/runtime/canonical-json.ts';
import { SHARD_LABEL } from '../../controller/runtime/sharding.ts';

export const SOURCE_NAME_LABEL = 'simops.dev/source-name';
export const SOURCE_NAMESPACE_LABEL = 'simops.dev/source-namespace';
export const DIGEST_ANNOTATION = 'simops.dev/digest';
/** `simops.dev/prune: disabled` on a live object keeps it when it leaves git. */
export const PRUNE_ANNOTATION = 'simops.dev/prune';

export const sourceSelector = (namespace: string, name: string) =>
  `${SOURCE_NAME_LABEL}=${name},${SOURCE_NAMESPACE_LABEL}=${namespace}`;

/** Label selectors that together select every object not labelled as the source's. */
export const foreignSelectors = (namespace: string, name: string) => [
  `${SOURCE_NAME_LABEL}!=${name}`,
  `${SOURCE_NAME_LABEL}=${name},${SOURCE_NAMESPACE_LABEL}!=${namespace}`,
];

export const digestOf = (o: KubeObject): string =>
  createHash('sha256').update(canonicalJson(o)).digest('hex').slice(0, 32);

/** The shard of a GitSource: what it applies is in the same shard unless the manifest names one. */
export const shardOf = (source: KubeObject): string | undefined => source.metadata.labels?.[SHARD_LABEL];

export const labelled = (
  o: KubeObject,
  source: { namespace: string; name: string; shard?: string },
): KubeObject => {
  const base: KubeObject = {
    ...o,
    metadata: {
      ...o.metadata,
      labels: {
        ...(source.shard !== undefined ? { [SHARD_LABEL]: source.shard } : {}),
        ...o.metadata.labels,
        [SOURCE_NAME_LABEL]: source.name,
        [SOURCE_NAMESPACE_LABEL]: source.namespace,
      },
    },
  };
  return {
    ...base,
    metadata: {
      ...base.metadata,
      annotations: { ...o.metadata.annotations, [DIGEST_ANNOTATION]: digestOf(base) },
    },
  };
};

/** Every field the desired object sets has that value live (lists element by element). */
export const isSubset = (desired: unknown, live: unknown): boolean => {
  if (Array.isArray(desired)) {
    return (
      Array.isArray(live) && live.length === desired.length && desired.every((d, i) => isSubset(d, live[i]))
    );
  }
  if (desired && typeof desired === 'object') {
    if (!live || typeof live !== 'object' || Array.isArray(live)) return false;
    return Object.entries(desired).every(([k, v]) => isSubset(v, (live as Record<string, unknown>)[k]));
  }
  return isDeepStrictEqual(desired, live);
};

/** Up to date: same digest (nothing changed in git) and no drift in the fields we set. */
export const upToDate = (desired: KubeObject, live: KubeObject | undefined): boolean =>
  !!live &&
  live.metadata.annotations?.[DIGEST_ANNOTATION] === desired.metadata.annotations?.[DIGEST_ANNOTATION] &&
  isSubset(desired, live);

export const ownedBy = (live: KubeObject, source: { namespace: string; name: string }) =>
  live.metadata.labels?.[SOURCE_NAME_LABEL] === source.name &&
  live.metadata.labels?.[SOURCE_NAMESPACE_LABEL] === source.namespace;

export const pruneDisabled = (live: KubeObject) =>
  live.metadata.annotations?.[PRUNE_ANNOTATION] === 'disabled';
