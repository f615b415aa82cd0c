// Kubernetes object semantics over the store: identity, resourceVersion preconditions, generation,
// the status subresource, validation and defaulting, field ownership, finalizers and deletion.
// The HTTP layer translates requests into these calls; the garbage collector uses them too.
import { type FieldError, formatFieldPath, validateObject } from '../crds/validate.ts';
import { ApiError, alreadyExists, badRequest, conflict, invalid, notFound } from './errors.ts';
import { recordUpdate, serverSideApply } from './managed-fields.ts';
import {
  desiredState,
  generateName,
  nameErrors,
  newIdentity,
  sameContent,
  sameJson,
  timestamp,
} from './object-meta.ts';
import {
  APPLY_PATCH,
  JSON_PATCH,
  jsonPatch,
  MERGE_PATCH,
  mergePatch,
  STRATEGIC_MERGE_PATCH,
  strategicMergePatch,
} from './patch.ts';
import { findResource, type ResourceInfo, storeKey, storePrefix } from './resources.ts';
import { fieldMatcher, labelMatcher } from './selectors.ts';
import { type Store, StoreError } from './store/types.ts';
import type { KubeObject } from './types.ts';

export type FieldValidation = 'Strict' | 'Warn' | 'Ignore';

export interface WriteOptions {
  dryRun: boolean;
  fieldManager: string;
  fieldValidation: FieldValidation;
  force?: boolean;
}

export interface WriteResult {
  object: KubeObject;
  /** HTTP status: 201 for creates, 200 otherwise. */
  code: number;
  warnings: string[];
}

export interface DeleteOptions {
  propagationPolicy?: 'Background' | 'Foreground' | 'Orphan';
  preconditions?: { uid?: string; resourceVersion?: string };
}

export interface Selectors {
  labelSelector?: string | null;
  fieldSelector?: string | null;
}

export const FOREGROUND = 'foregroundDeletion';
export const ORPHAN = 'orphan';
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

const target = (r: ResourceInfo, name?: string) => ({ group: r.group, plural: r.plural, name });
const revisionOf = (o: KubeObject): number => Number(o.metadata.resourceVersion ?? 0);

export class ObjectService {
  readonly store: Store;
  private readonly now: () => Date;

  constructor(store: Store, now: () => Date = () => new Date()) {
    this.store = store;
    this.now = now;
  }

  get(r: ResourceInfo, namespace: string, name: string): KubeObject {
    const o = this.store.get(storeKey(r, namespace, name));
    if (!o) throw notFound(target(r, name));
    return o;
  }

  list(r: ResourceInfo, namespace: string | undefined, selectors: Selectors = {}) {
    const byLabel = labelMatcher(selectors.labelSelector ?? null);
    const byField = fieldMatcher(selectors.fieldSelector ?? null, r);
    const { items, revision } = this.store.list(storePrefix(r, r.namespaced ? namespace : undefined));
    return { items: items.filter((o) => byLabel(o) && byField(o)), revision };
  }

  /** POST. `managedFields`, when given (server-side apply), replace the Update entry of the manager. */
  create(
    r: ResourceInfo,
    namespace: string,
    body: unknown,
    opts: WriteOptions,
    managedFields?: KubeObject['metadata']['managedFields'],
  ): WriteResult {
    const input = this.checkBody(r, body, namespace);
    const meta = { ...input.metadata };
    if (!meta.name) {
      if (!meta.generateName) throw this.invalidName(r, '', 'name or generateName is required');
      meta.name = generateName(meta.generateName);
    }
    const errs = nameErrors(r, meta.name);
    if (errs.length) throw invalid(r.kind, r.group, meta.name, errs);
    if (meta.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    if (r.namespaced) this.checkNamespaceOpen(namespace);
    const now = this.now();
    const candidate: KubeObject = {
      ...input,
      metadata: {
        ...meta,
        ...newIdentity(now),
        ...(r.custom ? { generation: 1 } : {}),
        ...(r.namespaced ? { namespace } : {}),
      },
    };
    delete candidate.metadata.deletionTimestamp;
    delete candidate.metadata.managedFields;
    if (r.custom) delete candidate.status;
    if (r.kind === 'Namespace') candidate.status = { phase: 'Active' };
    const { object, warnings } = this.validate(r, candidate, opts.fieldValidation);
    const owned = managedFields
      ? { ...object, metadata: { ...object.metadata, managedFields } }
      : recordUpdate(undefined, object, this.ownership(r, opts.fieldManager, undefined));
    if (opts.dryRun) return { object: owned, code: 201, warnings };
    try {
      return { object: this.store.create(storeKey(r, namespace, meta.name), owned), code: 201, warnings };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'AlreadyExists')
        throw alreadyExists(target(r, meta.name));
      throw err;
    }
  }

  /** PUT of the object or of its status subresource. */
  update(
    r: ResourceInfo,
    namespace: string,
    name: string,
    body: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): WriteResult {
    const input = this.checkBody(r, body, namespace, name);
    const old = this.get(r, namespace, name);
    const rv = input.metadata.resourceVersion;
    if (!rv && r.custom) {
      throw invalid(r.kind, r.group, name, [
        {
          path: ['metadata', 'resourceVersion'],
          field: 'metadata.resourceVersion',
          reason: 'FieldValueInvalid',
          message: 'Invalid value: 0: must be specified for an update',
        },
      ]);
    }
    if (rv && rv !== old.metadata.resourceVersion) throw conflict(target(r, name));
    const next = recordUpdate(
      old,
      this.merged(r, old, input, subresource),
      this.ownership(r, opts.fieldManager, subresource),
    );
    return this.commit(r, namespace, name, old, next, opts);
  }

  patch(
    r: ResourceInfo,
    namespace: string,
    name: string,
    contentType: string,
    patch: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): WriteResult {
    if (contentType === APPLY_PATCH) return this.apply(r, namespace, name, patch, opts, subresource);
    const old = this.get(r, namespace, name);
    let patched: unknown;
    if (contentType === MERGE_PATCH) patched = mergePatch(old, patch);
    else if (contentType === JSON_PATCH) patched = jsonPatch(old, patch);
    else if (contentType === STRATEGIC_MERGE_PATCH && !r.custom) patched = strategicMergePatch(old, patch);
    else {
      throw new ApiError(
        415,
        'UnsupportedMediaType',
        `the body of the request was in an unknown format - accepted media types include: ${r.custom ? '' : `${STRATEGIC_MERGE_PATCH}, `}${JSON_PATCH}, ${MERGE_PATCH}, ${APPLY_PATCH}`,
      );
    }
    const input = this.checkBody(r, patched, namespace, name);
    // A resourceVersion written into the patch is a precondition (kubectl diff and apply use it).
    if (input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(target(r, name));
    }
    const next = recordUpdate(
      old,
      this.merged(r, old, input, subresource),
      this.ownership(r, opts.fieldManager, subresource),
    );
    return this.commit(r, namespace, name, old, next, opts);
  }

  delete(
    r: ResourceInfo,
    namespace: string,
    name: string,
    options: DeleteOptions,
    opts: Pick<WriteOptions, 'dryRun'>,
  ): WriteResult {
    const old = this.get(r, namespace, name);
    const pre = options.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) {
      throw conflict(
        target(r, name),
        `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`,
      );
    }
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(
        target(r, name),
        `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`,
      );
    }
    const finalizers = [...(old.metadata.finalizers ?? [])];
    const policy = options.propagationPolicy;
    if (policy === 'Foreground' && !finalizers.includes(FOREGROUND)) finalizers.push(FOREGROUND);
    if (policy === 'Orphan' && !finalizers.includes(ORPHAN)) finalizers.push(ORPHAN);
    const namespaceInUse = r === NAMESPACES && this.namespaceHasContent(name);
    if (old.metadata.deletionTimestamp && sameJson(finalizers, old.metadata.finalizers ?? [])) {
      return { object: old, code: 200, warnings: [] };
    }
    if (finalizers.length || namespaceInUse) {
      const marked: KubeObject = {
        ...old,
        metadata: {
          ...old.metadata,
          finalizers: finalizers.length ? finalizers : undefined,
          deletionTimestamp: old.metadata.deletionTimestamp ?? timestamp(this.now()),
          deletionGracePeriodSeconds: 0,
        },
      };
      if (!marked.metadata.finalizers) delete marked.metadata.finalizers;
      if (r === NAMESPACES) marked.status = { phase: 'Terminating' };
      if (opts.dryRun) return { object: marked, code: 200, warnings: [] };
      return {
        object: this.store.update(storeKey(r, namespace, name), marked, revisionOf(old)),
        code: 200,
        warnings: [],
      };
    }
    if (opts.dryRun) return { object: old, code: 200, warnings: [] };
    return {
      object: this.store.delete(storeKey(r, namespace, name), revisionOf(old)),
      code: 200,
      warnings: [],
    };
  }

  deleteCollection(
    r: ResourceInfo,
    namespace: string | undefined,
    selectors: Selectors,
    options: DeleteOptions,
    opts: Pick<WriteOptions, 'dryRun'>,
  ) {
    const { items } = this.list(r, namespace, selectors);
    const deleted: KubeObject[] = [];
    for (const o of items) {
      try {
        deleted.push(this.delete(r, o.metadata.namespace ?? '', o.metadata.name!, options, opts).object);
      } catch (err) {
        if (!(err instanceof ApiError && err.code === 404)) throw err;
      }
    }
    return deleted;
  }

  private apply(
    r: ResourceInfo,
    namespace: string,
    name: string,
    patch: unknown,
    opts: WriteOptions,
    subresource?: string,
  ): WriteResult {
    if (!opts.fieldManager) throw badRequest('PATCH, fieldManager is required for apply requests');
    const input = this.checkBody(r, patch, namespace, name);
    const key = storeKey(r, namespace, name);
    const old = this.store.get(key);
    const ctx = { ...this.ownership(r, opts.fieldManager, subresource), force: !!opts.force };
    if (!old) {
      if (subresource) throw notFound(target(r, name));
      const created = serverSideApply(undefined, input, ctx);
      return this.create(r, namespace, created, opts, created.metadata.managedFields);
    }
    if (input.metadata.resourceVersion && input.metadata.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(target(r, name));
    }
    const applied = serverSideApply(old, input, ctx);
    return this.commit(r, namespace, name, old, this.merged(r, old, applied, subresource), opts);
  }

  /** What a write may change: the status subresource changes only status; the object, all else. */
  private merged(r: ResourceInfo, old: KubeObject, input: KubeObject, subresource?: string): KubeObject {
    const keep = {
      uid: old.metadata.uid,
      creationTimestamp: old.metadata.creationTimestamp,
      generation: old.metadata.generation,
      deletionTimestamp: old.metadata.deletionTimestamp,
      deletionGracePeriodSeconds: old.metadata.deletionGracePeriodSeconds,
      resourceVersion: old.metadata.resourceVersion,
      namespace: old.metadata.namespace,
      name: old.metadata.name,
    };
    const clean = (meta: KubeObject['metadata']) => {
      const out = { ...meta, ...keep };
      for (const k of Object.keys(out) as (keyof typeof out)[]) if (out[k] === undefined) delete out[k];
      return out;
    };
    if (subresource === 'status') {
      const next: KubeObject = {
        ...old,
        metadata: clean({
          ...old.metadata,
          managedFields: input.metadata.managedFields ?? old.metadata.managedFields,
        }),
      };
      if (input.status === undefined) delete next.status;
      else next.status = input.status;
      return next;
    }
    const next: KubeObject = { ...input, metadata: clean(input.metadata) };
    if (r.hasStatus) {
      if (old.status === undefined) delete next.status;
      else next.status = old.status;
    }
    return next;
  }

  private commit(
    r: ResourceInfo,
    namespace: string,
    name: string,
    old: KubeObject,
    candidate: KubeObject,
    opts: WriteOptions,
  ): WriteResult {
    // Validated first: before it, finalizers may be anything the client sent.
    const { object, warnings } = this.validate(r, candidate, opts.fieldValidation);
    const added = (object.metadata.finalizers ?? []).filter(
      (f) => !(old.metadata.finalizers ?? []).includes(f),
    );
    if (old.metadata.deletionTimestamp && added.length) {
      throw invalid(r.kind, r.group, name, [
        {
          path: ['metadata', 'finalizers'],
          field: 'metadata.finalizers',
          reason: 'FieldValueInvalid',
          message: `Forbidden: no new finalizers can be added if the object is being deleted, found new finalizers ${JSON.stringify(added)}`,
        },
      ]);
    }
    if (r.custom && !sameJson(desiredState(old), desiredState(object))) {
      object.metadata.generation = (old.metadata.generation ?? 1) + 1;
    }
    const key = storeKey(r, namespace, name);
    if (sameContent(old, object)) return { object: old, code: 200, warnings };
    if (
      old.metadata.deletionTimestamp &&
      !(object.metadata.finalizers ?? []).length &&
      !(r === NAMESPACES && this.namespaceHasContent(name))
    ) {
      if (opts.dryRun) return { object, code: 200, warnings };
      return { object: this.store.delete(key, revisionOf(old)), code: 200, warnings };
    }
    if (opts.dryRun) return { object, code: 200, warnings };
    try {
      return { object: this.store.update(key, object, revisionOf(old)), code: 200, warnings };
    } catch (err) {
      if (err instanceof StoreError && err.code === 'Conflict') throw conflict(target(r, name));
      throw err;
    }
  }

  private validate(r: ResourceInfo, input: KubeObject, mode: FieldValidation) {
    const candidate = r.kind === 'Secret' ? foldStringData(input) : input;
    const strict = validateObject(candidate, 'reject');
    const unknown = strict.errors.filter((e) => e.reason === 'FieldValueUnknown');
    const other = strict.errors.filter((e) => e.reason !== 'FieldValueUnknown');
    if (other.length) throw invalid(r.kind, r.group, candidate.metadata.name, other);
    if (unknown.length && mode === 'Strict') {
      throw badRequest(
        `${r.kind} in version "${r.version}" cannot be handled as a ${r.kind}: strict decoding error: ${unknown.map((e) => `unknown field "${e.field}"`).join(', ')}`,
      );
    }
    const warnings = mode === 'Warn' ? unknown.map((e) => `unknown field "${e.field}"`) : [];
    const object = (unknown.length ? validateObject(candidate, 'prune').object : strict.object) as KubeObject;
    return { object, warnings };
  }

  /** The body must be an object of this resource's kind, in the request's namespace and name. */
  private checkBody(r: ResourceInfo, body: unknown, namespace: string, name?: string): KubeObject {
    if (!body || typeof body !== 'object' || Array.isArray(body))
      throw badRequest('the request body must be a JSON or YAML object');
    const o = body as Partial<KubeObject>;
    if (o.apiVersion !== undefined && o.apiVersion !== r.apiVersion) {
      throw badRequest(
        `the API version in the data (${String(o.apiVersion)}) does not match the expected API version (${r.apiVersion})`,
      );
    }
    if (o.kind !== undefined && o.kind !== r.kind) {
      throw badRequest(
        `the kind in the data (${String(o.kind)}) does not match the expected kind (${r.kind})`,
      );
    }
    const metadata = o.metadata ?? {};
    if (typeof metadata !== 'object' || Array.isArray(metadata))
      throw badRequest('metadata must be an object');
    if (r.namespaced && metadata.namespace !== undefined && metadata.namespace !== namespace) {
      throw badRequest(
        'the namespace of the provided object does not match the namespace sent on the request',
      );
    }
    if (name !== undefined && metadata.name !== undefined && metadata.name !== name) {
      throw badRequest('the name of the object does not match the name on the URL');
    }
    return {
      ...(o as KubeObject),
      apiVersion: r.apiVersion,
      kind: r.kind,
      metadata: { ...metadata, ...(name !== undefined ? { name } : {}) },
    };
  }

  private ownership(r: ResourceInfo, manager: string, subresource: string | undefined) {
    return {
      manager,
      apiVersion: r.apiVersion,
      subresource,
      hasStatus: r.hasStatus,
      now: timestamp(this.now()),
    };
  }

  private checkNamespaceOpen(namespace: string) {
    const ns = this.store.get(storeKey(NAMESPACES, '', namespace));
    if (!ns) throw notFound(target(NAMESPACES, namespace));
    if (ns.metadata.deletionTimestamp) {
      throw new ApiError(
        403,
        'Forbidden',
        `unable to create new content in namespace ${namespace} because it is being terminated`,
      );
    }
  }

  /** Removes a terminating namespace once it is empty (the namespace controller's last step). */
  finalizeNamespace(name: string): void {
    const key = storeKey(NAMESPACES, '', name);
    const ns = this.store.get(key);
    if (
      ns?.metadata.deletionTimestamp &&
      !(ns.metadata.finalizers ?? []).length &&
      !this.namespaceHasContent(name)
    ) {
      this.store.delete(key, revisionOf(ns));
    }
  }

  namespaceHasContent(namespace: string): boolean {
    return this.store.list('/').items.some((o) => o.metadata.namespace === namespace);
  }

  private invalidName(r: ResourceInfo, name: string, message: string) {
    const e: FieldError = {
      path: ['metadata', 'name'],
      field: formatFieldPath(['metadata', 'name']),
      reason: 'FieldValueRequired',
      message,
    };
    return invalid(r.kind, r.group, name, [e]);
  }
}

/** As Kubernetes does: a Secret's stringData is written into data (base64) and not stored. */
const foldStringData = (o: KubeObject): KubeObject => {
  const stringData = o.stringData as Record<string, unknown> | undefined;
  if (!stringData || typeof stringData !== 'object') return o;
  const { stringData: _, ...rest } = o;
  const data = { ...((o.data as Record<string, string>) ?? {}) };
  for (const [k, v] of Object.entries(stringData))
    data[k] = Buffer.from(String(v), 'utf8').toString('base64');
  return { ...rest, data } as KubeObject;
};
