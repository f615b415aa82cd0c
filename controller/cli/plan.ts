// `simops plan PATH`: what applying PATH would do to the live objects, for pull-request CI.
// Exit 0 no change, 1 changes, 2 invalid (as `flux diff` and `argocd app diff`).
import { existsSync } from 'node:fs';
import { relative, resolve } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import {
  labelled,
  ownedBy,
  pruneDisabled,
  shardOf,
  sourceSelector,
} from '../../reconcilers/git-source/desired.ts';
import { inventoryId } from '../../reconcilers/git-source/inventory.ts';
import { FIELD_MANAGER } from '../../reconcilers/git-source/sync.ts';
import { buildManifests } from '../gitops/build.ts';
import { formatManifestError } from '../manifests/validate.ts';
import { kindOf, simopsKind } from '../runtime/kinds.ts';
import { KubeClient, toKubeError } from '../runtime/kube-client.ts';

export interface PlanOptions {
  kubeconfig?: string;
  environment: string;
  namespace: string;
  source?: string;
}

/** Leaf paths whose values differ, ignoring what the server sets on every write. */
const changedPaths = (before: unknown, after: unknown, prefix = ''): string[] => {
  if (isDeepStrictEqual(before, after)) return [];
  const isObj = (v: unknown): v is Record<string, unknown> =>
    v !== null && typeof v === 'object' && !Array.isArray(v);
  if (!isObj(before) || !isObj(after)) return [prefix || '.'];
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].flatMap((k) => changedPaths(before[k], after[k], prefix ? `${prefix}.${k}` : k));
};

const comparable = (o: KubeObject) => {
  const { resourceVersion: _r, managedFields: _m, generation: _g, ...metadata } = o.metadata;
  const { status: _s, ...rest } = o;
  return { ...rest, metadata };
};

const label = (o: KubeObject) =>
  `${o.kind} ${o.metadata.namespace ? `${o.metadata.namespace}/` : ''}${o.metadata.name}`;

export const planCommand = async (path: string, opts: PlanOptions): Promise<number> => {
  if (!existsSync(path)) {
    console.error(`${path}: no such file or directory`);
    return 2;
  }
  const dir = resolve(path);
  const built = buildManifests({
    dir,
    path: './',
    environment: opts.environment,
    defaultNamespace: opts.namespace,
  });
  if (built.errors.length) {
    for (const e of built.errors)
      console.error(formatManifestError({ ...e, file: relative(process.cwd(), resolve(dir, e.file)) }));
    console.error(`invalid: ${built.errors.length} error(s); nothing would be applied`);
    return 2;
  }
  const kubeconfig = opts.kubeconfig ?? process.env.KUBECONFIG;
  if (!kubeconfig) {
    console.log(
      `${built.objects.length} object(s) valid; no kubeconfig given, so no comparison with live objects`,
    );
    return 0;
  }
  const kc = new KubeConfig();
  kc.loadFromFile(kubeconfig);
  const client = new KubeClient(kc);
  const [srcNs, srcName] = (opts.source ?? '/').split('/');
  // What the GitSource applies carries its shard label: so does the plan.
  const gitSource = srcNs && srcName ? await client.get(simopsKind('GitSource'), srcNs, srcName) : undefined;
  const source =
    srcNs && srcName
      ? { namespace: srcNs, name: srcName, shard: gitSource && shardOf(gitSource) }
      : undefined;
  const desired = built.objects.map((b) => (source ? labelled(b.object, source) : b.object));
  let changes = 0;
  for (const o of desired) {
    const k = kindOf(o.apiVersion, o.kind)!;
    const live = await client.get(k, o.metadata.namespace ?? '', o.metadata.name!);
    if (!live) {
      console.log(`+ create ${label(o)}`);
      changes++;
      continue;
    }
    try {
      const after = await client.apply(o, { fieldManager: FIELD_MANAGER, force: true, dryRun: true });
      const paths = changedPaths(comparable(live), comparable(after));
      if (paths.length) {
        console.log(`~ change ${label(o)}: ${paths.join(', ')}`);
        changes++;
      }
    } catch (err) {
      console.error(`! ${label(o)}: ${toKubeError(err).message}`);
      return 2;
    }
  }
  if (source) {
    const wanted = new Set(desired.map(inventoryId));
    const kinds = new Map(desired.map((o) => [`${o.apiVersion}/${o.kind}`, kindOf(o.apiVersion, o.kind)!]));
    for (const k of kinds.values()) {
      for (const live of (await client.list(k, undefined, sourceSelector(source.namespace, source.name)))
        .items) {
        if (wanted.has(inventoryId(live)) || !ownedBy(live, source) || pruneDisabled(live)) continue;
        console.log(`- prune ${label(live)}`);
        changes++;
      }
    }
  }
  console.log(changes ? `${changes} change(s)` : 'no changes');
  return changes ? 1 : 0;
};
