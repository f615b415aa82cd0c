// Server-side printing: `kubectl get` asks for a meta.k8s.io Table and prints its cells as sent.
import type { ResourceInfo } from './resources.ts';
import type { KubeObject } from './types.ts';

export type IncludeObject = 'None' | 'Metadata' | 'Object';

/** The Table version the client asked for in Accept, if any. */
export const tableVersion = (accept: string | undefined): 'v1' | 'v1beta1' | undefined => {
  if (!accept) return undefined;
  for (const part of accept.split(',')) {
    if (!/as=Table/.test(part) || !/g=meta\.k8s\.io/.test(part)) continue;
    if (/v=v1beta1/.test(part)) return 'v1beta1';
    if (/v=v1(;|$)/.test(part)) return 'v1';
  }
  return undefined;
};

const rowObject = (o: KubeObject, include: IncludeObject, version: string) => {
  if (include === 'None') return undefined;
  if (include === 'Object') return o;
  return { kind: 'PartialObjectMetadata', apiVersion: `meta.k8s.io/${version}`, metadata: o.metadata };
};

export const toTable = (
  r: ResourceInfo,
  objects: KubeObject[],
  opts: { version: 'v1' | 'v1beta1'; include: IncludeObject; resourceVersion: string },
) => ({
  kind: 'Table',
  apiVersion: `meta.k8s.io/${opts.version}`,
  metadata: { resourceVersion: opts.resourceVersion },
  columnDefinitions: [
    { name: 'Name', type: 'string', format: 'name', description: 'Name of the object.', priority: 0 },
    ...r.columns.map((c) => ({
      name: c.name,
      type: c.type === 'date' ? 'date' : c.type,
      format: c.format,
      description: c.description,
      priority: c.priority,
    })),
  ],
  rows: objects.map((o) => {
    const object = rowObject(o, opts.include, opts.version);
    return { cells: [o.metadata.name, ...r.columns.map((c) => c.cell(o))], ...(object ? { object } : {}) };
  }),
});
