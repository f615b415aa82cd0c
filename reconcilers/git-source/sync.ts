// Applies a built revision: server-side apply of what changed or drifted (dry-run first where the
// server could reject what the build accepted, so a revision is applied whole or not at all), then
// prune of what left git.
import { VersionApi } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import { coreKind, type KindRef, kindOf } from '../../controller/runtime/kinds.ts';
import { type KubeClient, toKubeError } from '../../controller/runtime/kube-client.ts';
import type { Cache } from '../../controller/runtime/reconciler.ts';
import { API_VERSION } from '../../crds/common.ts';
import { foreignSelectors, ownedBy, pruneDisabled, sourceSelector, upToDate } from './desired.ts';
import { entryOf, type InventoryEntry, inventoryId, parseInventoryId, staleEntries } from './inventory.ts';

export const FIELD_MANAGER = 'simops';

export type Action = 'created' | 'configured' | 'unchanged' | 'pruned' | 'failed';

export interface ObjectResult {
  id: string;
  action: Action;
  message?: string;
}

export interface SyncResult {
  ok: boolean;
  results: ObjectResult[];
  /** The inventory after the sync (the previous one when nothing was applied). */
  inventory: InventoryEntry[];
}

interface Source {
  namespace: string;
  name: string;
}

const kindKey = (k: KindRef) => `${k.apiVersion}/${k.kind}`;
const firstCause = (err: unknown) => {
  const e = toKubeError(err);
  const cause = e.causes[0];
  return cause?.field ? `${cause.field}: ${cause.message ?? e.message}` : e.message;
};

/** Namespaces first, as Flux applies in stages. */
const stage = (o: KubeObject) => (o.kind === 'Namespace' ? 0 : 1);

/** Runs `fn` over items with at most `limit` in flight. */
const pool = async <T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> => {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    while (next < items.length) {
      const i = next++;
      out[i] = await fn(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
};

/** Whether the server is SimOps' own (`simops up`), asked once per client: it says so in /version. */
const ownServer = new WeakMap<KubeClient, Promise<boolean>>();
export const isSimOpsServer = (client: KubeClient): Promise<boolean> => {
  let answer = ownServer.get(client);
  if (!answer) {
    answer = client.kubeConfig
      .makeApiClient(VersionApi)
      .getCode()
      .then((v) => v.compiler === 'simops' && v.gitCommit === 'simops');
    answer.catch(() => ownServer.delete(client)); // asked again next time
    ownServer.set(client, answer);
  }
  return answer.catch(() => false);
};

/**
 * The changed objects to dry-run before anything is applied. SimOps' own API server validates with
 * the schemas and rules the build validated with, and runs no admission plugins, so it judges the
 * create of a new SimOps object exactly as the build did — unless the object's namespace is missing
 * or being deleted, or an object of that name that is not ours exists (the apply would merge into
 * it). Those creates, every update (merged with the live object and other managers' fields), every
 * core kind, and every write to any other server are dry-run. A group of creates of one kind in one
 * namespace no larger than `small` is dry-run too: that costs no more than looking.
 */
const toDryRun = async (
  client: KubeClient,
  source: Source,
  desired: KubeObject[],
  changed: KubeObject[],
  live: Map<string, KubeObject>,
  small: number,
  trusted: boolean,
): Promise<Set<KubeObject>> => {
  const all = new Set(changed);
  if (!trusted) return all;
  const creates = new Map<string, KubeObject[]>();
  for (const o of changed) {
    if (o.apiVersion !== API_VERSION || live.has(inventoryId(o))) continue;
    const key = `${o.kind}/${o.metadata.namespace ?? ''}`;
    creates.set(key, [...(creates.get(key) ?? []), o]);
  }
  const namespaces = new Map<string, boolean>();
  const namespaceOpen = async (name: string) => {
    if (!namespaces.has(name)) {
      const ns = await client.get(coreKind('Namespace'), '', name);
      const createdNow = desired.some((d) => d.kind === 'Namespace' && d.metadata.name === name);
      namespaces.set(name, ns ? !ns.metadata.deletionTimestamp : createdNow);
    }
    return namespaces.get(name)!;
  };
  for (const group of creates.values()) {
    const first = group[0]!;
    const k = kindOf(first.apiVersion, first.kind);
    const namespace = first.metadata.namespace ?? '';
    if (group.length <= small || !k || !(await namespaceOpen(namespace))) continue;
    const taken = new Set<string>();
    for (const selector of foreignSelectors(source.namespace, source.name)) {
      for (const o of (await client.list(k, namespace, selector)).items) taken.add(inventoryId(o));
    }
    for (const o of group) if (!taken.has(inventoryId(o))) all.delete(o);
  }
  return all;
};

const getEntry = async (client: KubeClient, e: InventoryEntry): Promise<KubeObject | undefined> => {
  const { namespace, name, group, kind } = parseInventoryId(e.id);
  const k = kindOf(group ? `${group}/${e.v}` : e.v, kind);
  return k ? client.get(k, namespace, name) : undefined;
};

export const sync = async (
  client: KubeClient,
  source: Source,
  desired: KubeObject[],
  previous: InventoryEntry[],
  opts: {
    prune: boolean;
    concurrency?: number;
    /** The server judges a create as the build does (default: asked, see isSimOpsServer). */
    serverValidatesLikeBuild?: boolean;
    /** Informer caches of kinds the manager watches: the live objects of such a kind are read there
     * rather than listed (at 10,000 objects a LIST is tens of MB for every sync). */
    caches?(kind: KindRef): Cache | undefined;
  },
): Promise<SyncResult> => {
  const concurrency = opts.concurrency ?? 16;
  // Live objects of every kind involved, one list per kind, selected by our labels.
  const kinds = new Map<string, KindRef>();
  for (const o of desired) {
    const k = kindOf(o.apiVersion, o.kind);
    if (k) kinds.set(kindKey(k), k);
  }
  for (const e of previous) {
    const { group, kind } = parseInventoryId(e.id);
    const k = kindOf(group ? `${group}/${e.v}` : e.v, kind);
    if (k) kinds.set(kindKey(k), k);
  }
  const live = new Map<string, KubeObject>();
  const selector = sourceSelector(source.namespace, source.name);
  for (const k of kinds.values()) {
    const cache = opts.caches?.(k);
    const items = cache
      ? cache.list().filter((o) => ownedBy(o, source))
      : (await client.list(k, undefined, selector)).items;
    for (const o of items) live.set(inventoryId(o), o);
  }

  const changed: KubeObject[] = [];
  const results: ObjectResult[] = [];
  for (const o of desired) {
    if (upToDate(o, live.get(inventoryId(o)))) results.push({ id: inventoryId(o), action: 'unchanged' });
    else changed.push(o);
  }

  // Dry-run what the server could reject although the build accepted it: one bad object and nothing
  // is applied.
  const trusted = changed.length > 0 && (opts.serverValidatesLikeBuild ?? (await isSimOpsServer(client)));
  const check = await toDryRun(client, source, desired, changed, live, concurrency, trusted);
  const dry = await pool([...check], concurrency, async (o): Promise<ObjectResult | undefined> => {
    try {
      await client.apply(o, { fieldManager: FIELD_MANAGER, force: true, dryRun: true });
      return undefined;
    } catch (err) {
      // A namespace created in this same revision does not exist yet for the dry run.
      const e = toKubeError(err);
      if (
        e.code === 404 &&
        desired.some((d) => d.kind === 'Namespace' && d.metadata.name === o.metadata.namespace)
      )
        return undefined;
      return { id: inventoryId(o), action: 'failed', message: firstCause(err) };
    }
  });
  const failures = dry.filter((r): r is ObjectResult => r !== undefined);
  if (failures.length) return { ok: false, results: [...failures, ...results], inventory: previous };

  for (const group of [changed.filter((o) => stage(o) === 0), changed.filter((o) => stage(o) === 1)]) {
    const applied = await pool(group, concurrency, async (o): Promise<ObjectResult> => {
      const id = inventoryId(o);
      try {
        await client.apply(o, { fieldManager: FIELD_MANAGER, force: true });
        return { id, action: live.has(id) ? 'configured' : 'created' };
      } catch (err) {
        return { id, action: 'failed', message: firstCause(err) };
      }
    });
    results.push(...applied);
  }

  if (opts.prune) {
    for (const e of staleEntries(previous, desired)) {
      // A cache may not have seen an object created moments ago yet: ask the server.
      const o = live.get(e.id) ?? (opts.caches ? await getEntry(client, e) : undefined);
      if (!o || !ownedBy(o, source) || pruneDisabled(o)) continue;
      const k = kindOf(o.apiVersion, o.kind)!;
      try {
        await client.delete(k, o.metadata.namespace ?? '', o.metadata.name!);
        results.push({ id: e.id, action: 'pruned' });
      } catch (err) {
        results.push({ id: e.id, action: 'failed', message: firstCause(err) });
      }
    }
  }
  const ok = !results.some((r) => r.action === 'failed');
  return { ok, results, inventory: desired.map(entryOf).sort((a, b) => a.id.localeCompare(b.id)) };
};
