// Applies a built revision: server-side apply of what changed or drifted (all dry-run first, so a
// revision is applied whole or not at all), then prune of what left git.
import type { KubeObject } from '../../apiserver/types.ts';
import { type KindRef, kindOf } from '../../controller/runtime/kinds.ts';
import { type KubeClient, toKubeError } from '../../controller/runtime/kube-client.ts';
import { ownedBy, pruneDisabled, sourceSelector, upToDate } from './desired.ts';
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

export const sync = async (
  client: KubeClient,
  source: Source,
  desired: KubeObject[],
  previous: InventoryEntry[],
  opts: { prune: boolean; concurrency?: number },
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
    for (const o of (await client.list(k, undefined, selector)).items) live.set(inventoryId(o), o);
  }

  const changed = desired.filter((o) => !upToDate(o, live.get(inventoryId(o))));
  const results: ObjectResult[] = desired
    .filter((o) => !changed.includes(o))
    .map((o) => ({ id: inventoryId(o), action: 'unchanged' as const }));

  // Dry-run everything that would be written: one bad object and nothing is applied.
  const dry = await pool(changed, concurrency, async (o): Promise<ObjectResult | undefined> => {
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
      const o = live.get(e.id);
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
