// The inventory of what a GitSource applied, in Flux's id format `<namespace>_<name>_<group>_<kind>`.
import type { KubeObject } from '../../apiserver/types.ts';

export interface InventoryEntry {
  id: string;
  v: string;
}

export const groupOf = (apiVersion: string) => (apiVersion.includes('/') ? apiVersion.split('/')[0]! : '');
export const versionOf = (apiVersion: string) => apiVersion.split('/').at(-1)!;

export const inventoryId = (o: KubeObject): string =>
  `${o.metadata.namespace ?? ''}_${o.metadata.name}_${groupOf(o.apiVersion)}_${o.kind}`;

export const entryOf = (o: KubeObject): InventoryEntry => ({
  id: inventoryId(o),
  v: versionOf(o.apiVersion),
});

export const parseInventoryId = (id: string) => {
  const [namespace, name, group, kind] = id.split('_') as [string, string, string, string];
  return { namespace, name, group, kind };
};

/** Entries of the previous inventory that the new set of objects no longer has. */
export const staleEntries = (
  previous: readonly InventoryEntry[],
  current: readonly KubeObject[],
): InventoryEntry[] => {
  const keep = new Set(current.map(inventoryId));
  return previous.filter((e) => !keep.has(e.id));
};
