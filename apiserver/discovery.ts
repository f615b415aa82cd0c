// Discovery documents: aggregated (apidiscovery.k8s.io/v2) and legacy (APIGroupList, APIResourceList).
import { groupVersions, type ResourceInfo } from './resources.ts';

export const AGGREGATED_CONTENT_TYPE = 'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList';
const VERBS = ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'];
const SUBRESOURCE_VERBS = ['get', 'patch', 'update'];

/** Whether the client asked for the aggregated discovery format. */
export const wantsAggregated = (accept: string | undefined): boolean =>
  !!accept && /g=apidiscovery\.k8s\.io;v=v2(beta1)?;as=APIGroupDiscoveryList/.test(accept);

const aggregatedResource = (r: ResourceInfo) => ({
  resource: r.plural,
  responseKind: { group: r.group, version: r.version, kind: r.kind },
  scope: r.namespaced ? 'Namespaced' : 'Cluster',
  singularResource: r.singular,
  verbs: VERBS,
  ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
  ...(r.categories.length ? { categories: r.categories } : {}),
  ...(r.hasStatus
    ? {
        subresources: [
          {
            subresource: 'status',
            responseKind: { group: r.group, version: r.version, kind: r.kind },
            verbs: SUBRESOURCE_VERBS,
          },
        ],
      }
    : {}),
});

/** `/api` (legacy: true) or `/apis` (legacy: false) in the aggregated format. */
export const aggregatedDiscovery = (legacy: boolean) => ({
  kind: 'APIGroupDiscoveryList',
  apiVersion: 'apidiscovery.k8s.io/v2',
  metadata: {},
  items: groupVersions()
    .filter((gv) => (gv.group === '') === legacy)
    .map((gv) => ({
      metadata: { name: gv.group },
      versions: [
        { version: gv.version, resources: gv.resources.map(aggregatedResource), freshness: 'Current' },
      ],
    })),
});

export const apiVersions = (serverAddress: string) => ({
  kind: 'APIVersions',
  versions: ['v1'],
  serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress }],
});

export const apiGroupList = () => ({
  kind: 'APIGroupList',
  apiVersion: 'v1',
  groups: groupVersions()
    .filter((gv) => gv.group !== '')
    .map((gv) => {
      const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
      return { name: gv.group, versions: [v], preferredVersion: v };
    }),
});

export const apiGroup = (group: string) => {
  const gv = groupVersions().find((g) => g.group === group);
  if (!gv) return undefined;
  const v = { groupVersion: `${gv.group}/${gv.version}`, version: gv.version };
  return { kind: 'APIGroup', apiVersion: 'v1', name: group, versions: [v], preferredVersion: v };
};

export const apiResourceList = (group: string, version: string) => {
  const gv = groupVersions().find((g) => g.group === group && g.version === version);
  if (!gv) return undefined;
  return {
    kind: 'APIResourceList',
    apiVersion: 'v1',
    groupVersion: group ? `${group}/${version}` : version,
    resources: gv.resources.flatMap((r) => [
      {
        name: r.plural,
        singularName: r.singular,
        namespaced: r.namespaced,
        kind: r.kind,
        verbs: VERBS,
        ...(r.shortNames.length ? { shortNames: r.shortNames } : {}),
        ...(r.categories.length ? { categories: r.categories } : {}),
      },
      ...(r.hasStatus
        ? [
            {
              name: `${r.plural}/status`,
              singularName: '',
              namespaced: r.namespaced,
              kind: r.kind,
              verbs: SUBRESOURCE_VERBS,
            },
          ]
        : []),
    ]),
  };
};
