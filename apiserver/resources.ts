// The resources the embedded server serves: the six SimOps kinds from crds/ and the core kinds a
// controller needs. One record per resource carries everything discovery, OpenAPI, validation,
// tables and storage need.

import { coreKinds } from '../crds/core-kinds.ts';
import { API_VERSION, CATEGORY, GROUP, kinds, VERSION } from '../crds/index.ts';
import { ageOf } from './age.ts';
import { evaluateJsonPath, parseJsonPath } from './jsonpath.ts';
import type { KubeObject } from './types.ts';

export interface Column {
  name: string;
  type: string;
  format: string;
  priority: number;
  description: string;
  cell: (o: KubeObject) => unknown;
}

export interface ResourceInfo {
  /** '' for the legacy core group. */
  group: string;
  version: string;
  apiVersion: string;
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  categories: string[];
  namespaced: boolean;
  hasStatus: boolean;
  /** Custom resource semantics: generation, status dropped on create, no strategic merge patch. */
  custom: boolean;
  /** Field selectors beyond metadata.name and metadata.namespace. */
  fieldSelectors: Record<string, (o: KubeObject) => unknown>;
  /** Table columns after Name. */
  columns: Column[];
}

const jsonPathColumn = (c: {
  name: string;
  type: string;
  jsonPath: string;
  priority?: number;
  format?: string;
  description?: string;
}): Column => {
  const steps = parseJsonPath(c.jsonPath);
  return {
    name: c.name,
    type: c.type,
    format: c.format ?? '',
    priority: c.priority ?? 0,
    description: c.description ?? '',
    cell: (o) => {
      const values = evaluateJsonPath(steps, o);
      if (values.length === 0) return null;
      if (c.type === 'date') return ageOf(values[0]);
      if (values.length === 1 && typeof values[0] !== 'object') return values[0];
      return values.map((v) => (typeof v === 'object' ? JSON.stringify(v) : String(v))).join(',');
    },
  };
};

const column = (name: string, cell: (o: KubeObject) => unknown, type = 'string', priority = 0): Column => ({
  name,
  type,
  format: '',
  priority,
  description: '',
  cell,
});

const age = jsonPathColumn({ name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' });
const size = (v: unknown) => (v && typeof v === 'object' ? Object.keys(v).length : 0);
const get = (o: KubeObject, ...path: string[]): unknown =>
  path.reduce<unknown>(
    (v, k) => (v && typeof v === 'object' ? (v as Record<string, unknown>)[k] : undefined),
    o,
  );

const coreColumns: Record<string, Column[]> = {
  Namespace: [column('Status', (o) => get(o, 'status', 'phase') ?? 'Active'), age],
  ConfigMap: [column('Data', (o) => size(o.data) + size(o.binaryData), 'integer'), age],
  Secret: [column('Type', (o) => o.type ?? 'Opaque'), column('Data', (o) => size(o.data), 'integer'), age],
  Event: [
    column('Last Seen', (o) => ageOf(o.lastTimestamp ?? o.eventTime ?? o.metadata.creationTimestamp)),
    column('Type', (o) => o.type ?? null),
    column('Reason', (o) => o.reason ?? null),
    column(
      'Object',
      (o) =>
        `${String(get(o, 'involvedObject', 'kind') ?? '').toLowerCase()}/${get(o, 'involvedObject', 'name') ?? ''}`,
    ),
    column('Message', (o) => o.message ?? null),
  ],
  Lease: [column('Holder', (o) => get(o, 'spec', 'holderIdentity') ?? null), age],
  Pod: [column('Status', (o) => get(o, 'status', 'phase') ?? 'Pending'), age],
  Service: [
    column('Type', (o) => get(o, 'spec', 'type') ?? 'ClusterIP'),
    column('Ports', (o) => {
      const ports = get(o, 'spec', 'ports');
      return Array.isArray(ports)
        ? ports.map((p: { port?: number; protocol?: string }) => `${p.port}/${p.protocol ?? 'TCP'}`).join(',')
        : null;
    }),
    age,
  ],
};

const eventFieldSelectors: ResourceInfo['fieldSelectors'] = Object.fromEntries([
  ...['kind', 'namespace', 'name', 'uid', 'apiVersion', 'resourceVersion', 'fieldPath'].map((f) => [
    `involvedObject.${f}`,
    (o: KubeObject) => get(o, 'involvedObject', f),
  ]),
  ['reason', (o: KubeObject) => o.reason],
  ['type', (o: KubeObject) => o.type],
  ['source', (o: KubeObject) => get(o, 'source', 'component') ?? o.reportingComponent],
  ['reportingComponent', (o: KubeObject) => o.reportingComponent],
]);

const coreFieldSelectors: Record<string, ResourceInfo['fieldSelectors']> = {
  Event: eventFieldSelectors,
  Secret: { type: (o) => o.type },
  Namespace: { 'status.phase': (o) => get(o, 'status', 'phase') ?? 'Active' },
};

const PLURAL_SHORT: Record<string, string[]> = {
  namespaces: ['ns'],
  configmaps: ['cm'],
  events: ['ev'],
  pods: ['po'],
  services: ['svc'],
};

export const resources: ResourceInfo[] = [
  ...kinds.map(
    (k): ResourceInfo => ({
      group: GROUP,
      version: VERSION,
      apiVersion: API_VERSION,
      kind: k.kind,
      plural: k.plural,
      singular: k.singular,
      shortNames: k.shortNames,
      categories: [CATEGORY],
      namespaced: true,
      hasStatus: true,
      custom: true,
      fieldSelectors: {},
      columns: k.printerColumns.map(jsonPathColumn),
    }),
  ),
  ...coreKinds.map((k): ResourceInfo => {
    const [group, version] = k.apiVersion.includes('/') ? k.apiVersion.split('/') : ['', k.apiVersion];
    return {
      group: group!,
      version: version!,
      apiVersion: k.apiVersion,
      kind: k.kind,
      plural: k.plural,
      singular: k.kind.toLowerCase(),
      shortNames: PLURAL_SHORT[k.plural] ?? [],
      categories: [],
      namespaced: k.namespaced,
      hasStatus: k.hasStatus ?? k.kind === 'Namespace',
      custom: false,
      fieldSelectors: coreFieldSelectors[k.kind] ?? {},
      columns: coreColumns[k.kind] ?? [age],
    };
  }),
];

export const findResource = (group: string, version: string, plural: string): ResourceInfo | undefined =>
  resources.find((r) => r.group === group && r.version === version && r.plural === plural);

export const groupVersions = (): { group: string; version: string; resources: ResourceInfo[] }[] => {
  const out = new Map<string, { group: string; version: string; resources: ResourceInfo[] }>();
  for (const r of resources) {
    const key = `${r.group}/${r.version}`;
    if (!out.has(key)) out.set(key, { group: r.group, version: r.version, resources: [] });
    out.get(key)!.resources.push(r);
  }
  return [...out.values()];
};

/** The store key prefix of a resource, optionally within one namespace. */
export const storePrefix = (r: ResourceInfo, namespace?: string): string =>
  `/${r.group || 'core'}/${r.plural}/${namespace === undefined ? '' : `${namespace}/`}`;

export const storeKey = (r: ResourceInfo, namespace: string, name: string): string =>
  `/${r.group || 'core'}/${r.plural}/${r.namespaced ? namespace : ''}/${name}`;
