// What the runtime needs to address a kind over the API: group, version, plural.
import { API_VERSION, GROUP, kinds, VERSION } from '../../crds/index.ts';

export interface KindRef {
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  namespaced: boolean;
}

export const simopsKind = (kind: string): KindRef => {
  const def = kinds.find((k) => k.kind === kind);
  if (!def) throw new Error(`unknown SimOps kind ${kind}`);
  return {
    group: GROUP,
    version: VERSION,
    apiVersion: API_VERSION,
    kind,
    plural: def.plural,
    namespaced: true,
  };
};

export const allSimopsKinds = (): KindRef[] => kinds.map((k) => simopsKind(k.kind));

export const coreKind = (kind: 'ConfigMap' | 'Secret' | 'Namespace' | 'Event'): KindRef => ({
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  kind,
  plural: `${kind.toLowerCase()}s`,
  namespaced: kind !== 'Namespace',
});

/** The REST path of a kind's collection (namespace omitted: all namespaces). */
export const collectionPath = (k: KindRef, namespace?: string): string => {
  const base = k.group ? `/apis/${k.group}/${k.version}` : `/api/${k.version}`;
  return k.namespaced && namespace !== undefined
    ? `${base}/namespaces/${namespace}/${k.plural}`
    : `${base}/${k.plural}`;
};

/** The KindRef of any kind SimOps applies from git (its own and the core kinds it knows). */
export const kindOf = (apiVersion: string, kind: string): KindRef | undefined => {
  if (apiVersion === API_VERSION && kinds.some((k) => k.kind === kind)) return simopsKind(kind);
  if (apiVersion === 'v1' && ['ConfigMap', 'Secret', 'Namespace', 'Event'].includes(kind)) {
    return coreKind(kind as 'ConfigMap' | 'Secret' | 'Namespace' | 'Event');
  }
  return undefined;
};
