// OpenAPI v3 documents: kubectl reads them to decide on server-side field validation (a
// `fieldValidation` parameter on patch) and `kubectl explain` reads the schemas.
import { createHash } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { coreKindSchema, coreKinds } from '../crds/core-kinds.ts';
import { objectSchema, toStructural } from '../crds/crd.ts';
import { kinds } from '../crds/index.ts';
import { groupVersions, type ResourceInfo } from './resources.ts';

type Schema = Record<string, unknown>;

const OBJECT_META = 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta';
const STATUS = 'io.k8s.apimachinery.pkg.apis.meta.v1.Status';
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const objectMetaSchema: Schema = {
  type: 'object',
  description: 'Standard object metadata.',
  properties: Object.fromEntries(
    [
      ['name', 'string', 'Name, unique within a namespace.'],
      ['namespace', 'string', 'The namespace the object is in.'],
      ['generateName', 'string', 'Prefix of a name the server generates.'],
      ['uid', 'string', 'Unique id set by the server.'],
      ['resourceVersion', 'string', 'Opaque version of the object, for optimistic concurrency.'],
      ['generation', 'integer', 'Sequence number of the desired state (spec) changes.'],
      ['creationTimestamp', 'string', 'When the object was created.'],
      ['deletionTimestamp', 'string', 'When deletion was requested.'],
    ].map(([name, type, description]) => [name, { type, description }]),
  ),
};
objectMetaSchema.properties = {
  ...(objectMetaSchema.properties as Schema),
  labels: { type: 'object', additionalProperties: { type: 'string' }, description: 'Labels for selection.' },
  annotations: { type: 'object', additionalProperties: { type: 'string' }, description: 'Annotations.' },
  finalizers: { type: 'array', items: { type: 'string' }, description: 'Must be empty before deletion.' },
  ownerReferences: { type: 'array', items: { type: 'object' }, description: 'Owners of this object.' },
  managedFields: { type: 'array', items: { type: 'object' }, description: 'Field ownership.' },
};

export const schemaName = (r: ResourceInfo): string =>
  r.custom
    ? `${r.group.split('.').reverse().join('.')}.${r.version}.${r.kind}`
    : `io.k8s.api.${r.group ? r.group.split('.')[0] : 'core'}.${r.version}.${r.kind}`;

const kindSchema = (r: ResourceInfo): Schema => {
  const gvk = [{ group: r.group, version: r.version, kind: r.kind }];
  const base = (() => {
    const def = kinds.find((k) => k.kind === r.kind);
    if (r.custom && def) return objectSchema(def);
    const core = coreKinds.find((k) => k.kind === r.kind)!;
    const fields = toStructural(coreKindSchema(core)) as Schema;
    return {
      type: 'object',
      properties: {
        apiVersion: { type: 'string' },
        kind: { type: 'string' },
        ...(fields.properties as Schema),
      },
    };
  })();
  const props = base.properties as Schema;
  return {
    ...base,
    properties: {
      ...props,
      apiVersion: { type: 'string', description: 'APIVersion of this representation of the object.' },
      kind: { type: 'string', description: 'The REST resource this object represents.' },
      metadata: { ...ref(OBJECT_META), description: 'Standard object metadata.' },
    },
    'x-kubernetes-group-version-kind': gvk,
  };
};

const param = (name: string, location: 'query' | 'path', description: string) => ({
  name,
  in: location,
  description,
  ...(location === 'path' ? { required: true } : {}),
  schema: { type: 'string', uniqueItems: true },
});

const writeParams = [
  param('dryRun', 'query', 'When present, the change is not persisted. The only valid value is All.'),
  param('fieldManager', 'query', 'Name of the actor making the change.'),
  param('fieldValidation', 'query', 'Ignore, Warn or Strict: what to do with unknown or duplicate fields.'),
];

const operation = (r: ResourceInfo, action: string, id: string, body: boolean, extra: object[] = []) => ({
  operationId: id,
  parameters: [...(body ? writeParams : []), ...extra],
  ...(body
    ? {
        requestBody: {
          content: Object.fromEntries(
            (action === 'patch'
              ? [
                  'application/apply-patch+yaml',
                  'application/json-patch+json',
                  'application/merge-patch+json',
                ]
              : ['application/json']
            ).map((t) => [t, { schema: action === 'patch' ? { type: 'object' } : ref(schemaName(r)) }]),
          ),
          required: true,
        },
      }
    : {}),
  responses: { '200': { content: { 'application/json': { schema: ref(schemaName(r)) } } } },
  'x-kubernetes-action': action,
  'x-kubernetes-group-version-kind': { group: r.group, version: r.version, kind: r.kind },
});

const pathsFor = (r: ResourceInfo): Schema => {
  const base = r.group ? `/apis/${r.group}/${r.version}` : `/api/${r.version}`;
  const coll = r.namespaced ? `${base}/namespaces/{namespace}/${r.plural}` : `${base}/${r.plural}`;
  const pathParams = r.namespaced ? [param('namespace', 'path', 'The namespace.')] : [];
  const nameParam = param('name', 'path', 'The name of the object.');
  const id = (verb: string) => `${verb}${r.kind}`;
  const paths: Schema = {
    [coll]: {
      parameters: pathParams,
      get: operation(r, 'list', id('list'), false),
      post: operation(r, 'post', id('create'), true),
      delete: operation(r, 'deletecollection', id('deleteCollection'), false),
    },
    [`${coll}/{name}`]: {
      parameters: [...pathParams, nameParam],
      get: operation(r, 'get', id('read'), false),
      put: operation(r, 'put', id('replace'), true),
      patch: operation(r, 'patch', id('patch'), true, [param('force', 'query', 'Force an apply.')]),
      delete: operation(r, 'delete', id('delete'), false),
    },
  };
  if (r.hasStatus) {
    paths[`${coll}/{name}/status`] = {
      parameters: [...pathParams, nameParam],
      get: operation(r, 'get', id('readStatus'), false),
      put: operation(r, 'put', id('replaceStatus'), true),
      patch: operation(r, 'patch', id('patchStatus'), true, [param('force', 'query', 'Force an apply.')]),
    };
  }
  if (r.namespaced)
    paths[`${base}/${r.plural}`] = { get: operation(r, 'list', id('listAllNamespaces'), false) };
  return paths;
};

const statusSchema = toStructural(
  Type.Object({
    kind: Type.String(),
    apiVersion: Type.String(),
    message: Type.String(),
    reason: Type.String(),
    code: Type.Integer(),
  }),
);

export interface OpenApiDocs {
  index: { paths: Record<string, { serverRelativeURL: string }> };
  /** Keyed by `api/v1` or `apis/<group>/<version>`: the body and its hash. */
  documents: Map<string, { body: string; hash: string }>;
}

/** Builds every document once: they only change with a new release. */
export const buildOpenApi = (): OpenApiDocs => {
  const documents = new Map<string, { body: string; hash: string }>();
  for (const gv of groupVersions()) {
    const key = gv.group ? `apis/${gv.group}/${gv.version}` : `api/${gv.version}`;
    const doc = {
      openapi: '3.0.0',
      info: { title: 'Kubernetes', version: 'v1.32.4' },
      paths: Object.assign({}, ...gv.resources.map(pathsFor)),
      components: {
        schemas: {
          [OBJECT_META]: objectMetaSchema,
          [STATUS]: statusSchema,
          ...Object.fromEntries(gv.resources.map((r) => [schemaName(r), kindSchema(r)])),
        },
      },
    };
    const body = JSON.stringify(doc);
    const hash = createHash('sha512').update(body).digest('hex').slice(0, 32).toUpperCase();
    documents.set(key, { body, hash });
  }
  const index = {
    paths: Object.fromEntries(
      [...documents].map(([key, { hash }]) => [
        key,
        { serverRelativeURL: `/openapi/v3/${key}?hash=${hash}` },
      ]),
    ),
  };
  return { index, documents };
};
