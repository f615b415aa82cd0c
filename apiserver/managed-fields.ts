// Field ownership (metadata.managedFields) and server-side apply. Lists are atomic: a list is one
// field owned as a whole, as for custom resources without x-kubernetes-list-type.
import { isDeepStrictEqual } from 'node:util';
import { ApiError } from './errors.ts';
import type { KubeObject, ManagedFieldsEntry } from './types.ts';

type Path = string[];
type Json = Record<string, unknown>;

const isObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);
const TRACKED_META = ['labels', 'annotations', 'finalizers', 'ownerReferences'];

/** The part of an object whose fields have owners: not identity, not server-set metadata. */
const trackedView = (o: KubeObject, subresource: string | undefined, hasStatus: boolean): Json => {
  const { apiVersion: _a, kind: _k, metadata, ...rest } = o;
  if (subresource === 'status') return o.status === undefined ? {} : { status: o.status };
  const meta = Object.fromEntries(
    TRACKED_META.filter((k) => metadata[k as keyof typeof metadata] !== undefined).map((k) => [
      k,
      metadata[k as keyof typeof metadata],
    ]),
  );
  const view: Json = { ...(Object.keys(meta).length ? { metadata: meta } : {}), ...rest };
  if (hasStatus) delete view.status;
  return view;
};

const leafPaths = (value: unknown, prefix: Path = []): Path[] => {
  if (isObject(value) && Object.keys(value).length > 0) {
    return Object.entries(value).flatMap(([k, v]) => leafPaths(v, [...prefix, k]));
  }
  return prefix.length ? [prefix] : [];
};

const toFieldsV1 = (paths: Path[]): Json => {
  const root: Json = {};
  for (const p of paths) {
    let node = root;
    for (const seg of p) {
      const k = `f:${seg}`;
      if (!node[k]) node[k] = {};
      node = node[k] as Json;
    }
  }
  return root;
};

const fromFieldsV1 = (tree: Json, prefix: Path = []): Path[] => {
  const children = Object.entries(tree).filter(([k]) => k.startsWith('f:'));
  if (children.length === 0) return prefix.length ? [prefix] : [];
  return children.flatMap(([k, v]) => fromFieldsV1(isObject(v) ? v : {}, [...prefix, k.slice(2)]));
};

const getAt = (o: unknown, p: Path): unknown =>
  p.reduce<unknown>((v, k) => (isObject(v) ? v[k] : undefined), o);
const overlaps = (a: Path, b: Path) => a.every((s, i) => i >= b.length || b[i] === s);
const same = (a: unknown, b: unknown) => isDeepStrictEqual(a, b);
const pathString = (p: Path) => `.${p.join('.')}`;

const deleteAt = (o: Json, p: Path) => {
  const parent = getAt(o, p.slice(0, -1));
  if (isObject(parent)) delete parent[p.at(-1)!];
};

const deepMerge = (live: unknown, applied: unknown): unknown => {
  if (!isObject(applied) || !isObject(live)) return structuredClone(applied);
  const out: Json = { ...live };
  for (const [k, v] of Object.entries(applied)) out[k] = deepMerge(live[k], v);
  return out;
};

const entryKey = (e: ManagedFieldsEntry) => `${e.manager}\u0000${e.operation}\u0000${e.subresource ?? ''}`;

const withEntries = (o: KubeObject, entries: ManagedFieldsEntry[]): KubeObject => {
  const kept = entries.filter((e) => Object.keys(e.fieldsV1).length > 0);
  const { managedFields: _, ...metadata } = o.metadata;
  return { ...o, metadata: kept.length ? { ...metadata, managedFields: kept } : metadata };
};

export interface OwnershipContext {
  manager: string;
  apiVersion: string;
  subresource?: string;
  hasStatus: boolean;
  now: string;
}

/** Records a non-apply write (create, update, patch): the manager now owns what it changed. */
export const recordUpdate = (
  old: KubeObject | undefined,
  next: KubeObject,
  ctx: OwnershipContext,
): KubeObject => {
  const before = old ? trackedView(old, ctx.subresource, ctx.hasStatus) : {};
  const after = trackedView(next, ctx.subresource, ctx.hasStatus);
  const afterLeaves = leafPaths(after);
  const changed = old ? afterLeaves.filter((p) => !same(getAt(before, p), getAt(after, p))) : afterLeaves;
  const removed = old ? leafPaths(before).filter((p) => getAt(after, p) === undefined) : [];
  const touched = [...changed, ...removed];
  if (touched.length === 0)
    return { ...next, metadata: { ...next.metadata, managedFields: old?.metadata.managedFields } };
  const entries = (old?.metadata.managedFields ?? []).map((e) => ({
    ...e,
    fieldsV1: toFieldsV1(fromFieldsV1(e.fieldsV1).filter((p) => !touched.some((t) => overlaps(p, t)))),
  }));
  const mine: ManagedFieldsEntry = {
    manager: ctx.manager,
    operation: 'Update',
    apiVersion: ctx.apiVersion,
    time: ctx.now,
    fieldsType: 'FieldsV1',
    fieldsV1: {},
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  const key = entryKey(mine);
  const previous = (old?.metadata.managedFields ?? []).find((e) => entryKey(e) === key);
  const owned = [...(previous ? fromFieldsV1(previous.fieldsV1) : []), ...changed].filter(
    (p) => getAt(after, p) !== undefined,
  );
  mine.fieldsV1 = toFieldsV1(owned);
  return withEntries(next, [...entries.filter((e) => entryKey(e) !== key), mine]);
};

/**
 * Server-side apply of `applied` by `ctx.manager` over `live` (undefined: create). Fields the
 * manager applied before and no longer applies are removed unless another manager owns them.
 * A field another manager owns with a different value is a 409 conflict unless `force`.
 */
export const serverSideApply = (
  live: KubeObject | undefined,
  applied: KubeObject,
  ctx: OwnershipContext & { force: boolean },
): KubeObject => {
  const appliedView = trackedView(applied, ctx.subresource, ctx.hasStatus);
  const appliedLeaves = leafPaths(appliedView);
  const mine: ManagedFieldsEntry = {
    manager: ctx.manager,
    operation: 'Apply',
    apiVersion: ctx.apiVersion,
    time: ctx.now,
    fieldsType: 'FieldsV1',
    fieldsV1: toFieldsV1(appliedLeaves),
    ...(ctx.subresource ? { subresource: ctx.subresource } : {}),
  };
  const key = entryKey(mine);
  const entries = live?.metadata.managedFields ?? [];
  const liveView = live ? trackedView(live, ctx.subresource, ctx.hasStatus) : {};

  const conflicts: { manager: string; path: Path }[] = [];
  const others = entries
    .filter((e) => entryKey(e) !== key)
    .map((e) => {
      const kept = fromFieldsV1(e.fieldsV1).filter((owned) => {
        const hit = appliedLeaves.find((p) => overlaps(owned, p));
        if (!hit) return true;
        if (same(getAt(liveView, owned), getAt(appliedView, owned))) return true; // shared ownership
        if (!ctx.force) conflicts.push({ manager: e.manager, path: owned.length > hit.length ? owned : hit });
        return false;
      });
      return { ...e, fieldsV1: toFieldsV1(kept) };
    });
  if (conflicts.length) {
    const causes = conflicts.map((c) => ({
      reason: 'FieldManagerConflict',
      message: `conflict with "${c.manager}": ${pathString(c.path)}`,
      field: pathString(c.path),
    }));
    throw new ApiError(
      409,
      'Conflict',
      `Apply failed with ${conflicts.length} conflict(s): ${causes.map((c) => c.message).join('; ')}`,
      {
        causes,
      },
    );
  }

  const base: Json = live
    ? structuredClone(live)
    : { apiVersion: applied.apiVersion, kind: applied.kind, metadata: {} };
  const merged = deepMerge(
    base,
    ctx.subresource === 'status' ? { status: applied.status } : applied,
  ) as KubeObject;
  const previous = entries.find((e) => entryKey(e) === key);
  if (previous) {
    const stillOwned = others.flatMap((e) => fromFieldsV1(e.fieldsV1));
    for (const p of fromFieldsV1(previous.fieldsV1)) {
      const reapplied = appliedLeaves.some((a) => overlaps(a, p));
      if (!reapplied && !stillOwned.some((o) => overlaps(o, p))) deleteAt(merged, p);
    }
  }
  return withEntries(merged, [...others, mine]);
};
