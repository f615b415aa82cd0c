// Owner references and namespaces, as Kubernetes' garbage collector and namespace controller
// handle them: dependents of a deleted owner are deleted (background), deleted first (foreground,
// the `foregroundDeletion` finalizer) or released (the `orphan` finalizer); a terminating
// namespace is emptied and then removed.
import { ApiError } from './errors.ts';
import { FOREGROUND, type ObjectService, ORPHAN, type WriteOptions } from './object-service.ts';
import { findResource, groupVersions, type ResourceInfo } from './resources.ts';
import type { Logger } from './server.ts';
import type { StoreEvent } from './store/types.ts';
import type { KubeObject } from './types.ts';

const OPTS: WriteOptions = { dryRun: false, fieldManager: 'garbage-collector', fieldValidation: 'Ignore' };
const NAMESPACES = findResource('', 'v1', 'namespaces')!;

const resourceOfKey = (key: string): ResourceInfo | undefined => {
  const [, group, plural] = key.split('/');
  const g = group === 'core' ? '' : group;
  const gv = groupVersions().find((v) => v.group === g);
  return gv?.resources.find((r) => r.plural === plural);
};

const keyOf = (o: KubeObject, r: ResourceInfo) =>
  `/${r.group || 'core'}/${r.plural}/${r.namespaced ? (o.metadata.namespace ?? '') : ''}/${o.metadata.name}`;

export const startGarbageCollector = (service: ObjectService, log?: Logger) => {
  const store = service.store;
  /** owner uid → keys of objects that name it as an owner. */
  const dependents = new Map<string, Set<string>>();
  /** uid → key of every live object. */
  const keysByUid = new Map<string, string>();
  const pending = new Set<string>();
  let scheduled = false;
  let stopped = false;

  const index = (key: string, o: KubeObject | undefined, previous?: KubeObject) => {
    for (const ref of previous?.metadata.ownerReferences ?? []) dependents.get(ref.uid)?.delete(key);
    if (previous?.metadata.uid) keysByUid.delete(previous.metadata.uid);
    if (!o) return;
    if (o.metadata.uid) keysByUid.set(o.metadata.uid, key);
    for (const ref of o.metadata.ownerReferences ?? []) {
      if (!dependents.has(ref.uid)) dependents.set(ref.uid, new Set());
      dependents.get(ref.uid)!.add(key);
    }
  };

  const schedule = (task: string) => {
    pending.add(task);
    if (scheduled || stopped) return;
    scheduled = true;
    setImmediate(run);
  };

  const dependentsOf = (uid: string) =>
    [...(dependents.get(uid) ?? [])].map((k) => ({ key: k, o: store.get(k) })).filter((d) => d.o) as {
      key: string;
      o: KubeObject;
    }[];

  const withoutFinalizer = (r: ResourceInfo, o: KubeObject, finalizer: string) =>
    service.update(
      r,
      o.metadata.namespace ?? '',
      o.metadata.name!,
      {
        ...o,
        metadata: { ...o.metadata, finalizers: (o.metadata.finalizers ?? []).filter((f) => f !== finalizer) },
      },
      OPTS,
    );

  const releaseFrom = (ownerUid: string, d: { key: string; o: KubeObject }) => {
    const r = resourceOfKey(d.key)!;
    const refs = (d.o.metadata.ownerReferences ?? []).filter((ref) => ref.uid !== ownerUid);
    const { ownerReferences: _, ...rest } = d.o.metadata;
    const metadata = refs.length ? { ...rest, ownerReferences: refs } : rest;
    service.update(r, d.o.metadata.namespace ?? '', d.o.metadata.name!, { ...d.o, metadata }, OPTS);
  };

  /** An owner is gone: delete its dependents unless another owner of theirs still exists. */
  const collectOrphans = (ownerUid: string) => {
    for (const d of dependentsOf(ownerUid)) {
      const others = (d.o.metadata.ownerReferences ?? []).filter(
        (ref) => ref.uid !== ownerUid && keysByUid.has(ref.uid),
      );
      if (others.length) releaseFrom(ownerUid, d);
      else if (!d.o.metadata.deletionTimestamp) {
        const r = resourceOfKey(d.key)!;
        service.delete(
          r,
          d.o.metadata.namespace ?? '',
          d.o.metadata.name!,
          { propagationPolicy: 'Background' },
          OPTS,
        );
      }
    }
    dependents.delete(ownerUid);
  };

  /** An object being deleted with a GC finalizer, or a terminating namespace. */
  const finalize = (key: string) => {
    const o = store.get(key);
    const r = resourceOfKey(key);
    if (!o || !r || !o.metadata.deletionTimestamp) return;
    const uid = o.metadata.uid!;
    const finalizers = o.metadata.finalizers ?? [];
    if (finalizers.includes(ORPHAN)) {
      for (const d of dependentsOf(uid)) releaseFrom(uid, d);
      withoutFinalizer(r, o, ORPHAN);
      return;
    }
    if (finalizers.includes(FOREGROUND)) {
      const deps = dependentsOf(uid);
      for (const d of deps) {
        if (d.o.metadata.deletionTimestamp) continue;
        service.delete(
          resourceOfKey(d.key)!,
          d.o.metadata.namespace ?? '',
          d.o.metadata.name!,
          { propagationPolicy: 'Foreground' },
          OPTS,
        );
      }
      if (!deps.length) withoutFinalizer(r, o, FOREGROUND);
      return;
    }
    if (r === NAMESPACES) {
      const name = o.metadata.name!;
      const content = store.list('/').items.filter((x) => x.metadata.namespace === name);
      for (const x of content) {
        const xr = resourceOfKeyFor(x);
        if (xr && !x.metadata.deletionTimestamp)
          service.delete(xr, name, x.metadata.name!, { propagationPolicy: 'Background' }, OPTS);
      }
      if (!content.length) service.finalizeNamespace(name);
    }
  };

  const resourceOfKeyFor = (o: KubeObject): ResourceInfo | undefined =>
    groupVersions()
      .flatMap((gv) => gv.resources)
      .find((r) => r.apiVersion === o.apiVersion && r.kind === o.kind);

  const run = () => {
    scheduled = false;
    const tasks = [...pending];
    pending.clear();
    for (const task of tasks) {
      if (stopped) return;
      try {
        if (task.startsWith('uid:')) collectOrphans(task.slice(4));
        else finalize(task);
      } catch (err) {
        // Conflicts and races with other writers: try again on the next turn.
        if (err instanceof ApiError && (err.code === 409 || err.code === 404)) schedule(task);
        else log?.error({ err, task }, 'garbage collection failed');
      }
    }
  };

  const onEvent = (e: StoreEvent) => {
    const r = resourceOfKey(e.key);
    if (!r) return;
    if (e.type === 'DELETED') {
      index(e.key, undefined, e.previous ?? e.object);
      schedule(`uid:${e.object.metadata.uid}`);
      for (const ref of e.object.metadata.ownerReferences ?? []) {
        const ownerKey = keysByUid.get(ref.uid);
        if (ownerKey) schedule(ownerKey);
      }
      const ns = e.object.metadata.namespace;
      if (ns) {
        const nsKey = `/core/namespaces//${ns}`;
        if (store.get(nsKey)?.metadata.deletionTimestamp) schedule(nsKey);
      }
      return;
    }
    index(e.key, e.object, e.previous);
    if (e.object.metadata.deletionTimestamp) schedule(e.key);
  };

  const all = store.list('/');
  for (const o of all.items) {
    const r = resourceOfKeyFor(o);
    if (!r) continue;
    const key = keyOf(o, r);
    index(key, o);
    if (o.metadata.deletionTimestamp) schedule(key);
  }
  // Owners deleted while the server was down.
  for (const uid of dependents.keys()) if (!keysByUid.has(uid)) schedule(`uid:${uid}`);
  const unwatch = store.watch('/', all.revision, onEvent);

  return {
    stop: () => {
      stopped = true;
      unwatch();
    },
  };
};
