// Write-back: the status of what a GitSource applied, committed to a branch of its repository.
import type { KubeObject } from '../../apiserver/types.ts';
import { writeBack } from '../../controller/gitops/write-back.ts';
import { kindOf } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { GitSourceSpec } from '../../crds/git-source.ts';
import type { GitCredentials } from './credentials.ts';
import { sourceSelector } from './desired.ts';
import { type InventoryEntry, inventoryId, parseInventoryId } from './inventory.ts';
import { statusReport } from './status-report.ts';

export interface ReportBackRequest {
  client: KubeClient;
  spec: GitSourceSpec;
  source: { namespace: string; name: string };
  revision: string;
  inventory: InventoryEntry[];
  credentials?: GitCredentials;
  cacheDir: string;
  timeoutMs: number;
  signal?: AbortSignal;
}

/** The applied objects as they are live: one list per kind, selected by the source's labels. */
const liveObjects = async (r: ReportBackRequest): Promise<KubeObject[]> => {
  const kinds = new Map(
    r.inventory.flatMap((e) => {
      const { group, kind } = parseInventoryId(e.id);
      const k = kindOf(group ? `${group}/${e.v}` : e.v, kind);
      return k ? [[`${k.apiVersion}/${k.kind}`, k] as const] : [];
    }),
  );
  const wanted = new Set(r.inventory.map((e) => e.id));
  const selector = sourceSelector(r.source.namespace, r.source.name);
  const lists = await Promise.all([...kinds.values()].map((k) => r.client.list(k, undefined, selector)));
  return lists.flatMap((l) => l.items).filter((o) => wanted.has(inventoryId(o)));
};

export const reportBack = async (r: ReportBackRequest) => {
  const wb = r.spec.writeBack!;
  const files = statusReport(await liveObjects(r), { ...r.source, revision: r.revision });
  return writeBack({
    url: r.spec.url,
    credentials: r.credentials,
    cacheDir: r.cacheDir,
    branch: wb.branch,
    path: wb.path ?? 'status/',
    files,
    message: `simops: status of ${r.source.namespace}/${r.source.name} at ${r.revision}`,
    timeoutMs: r.timeoutMs,
    signal: r.signal,
  });
};
