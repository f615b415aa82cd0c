// The artifact records of a Simulator (status.artifacts), written by the Sandbox reconciler when a
// snapshot is taken or a sandbox started from an artifact passes its flows. The Simulator reconciler
// reads them and never writes them, so each field has one writer; writes carry the resourceVersion
// they were computed from and are retried on a conflict.
import { CustomObjectsApi, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import { simopsKind } from '../../controller/runtime/kinds.ts';
import { type KubeClient, toKubeError } from '../../controller/runtime/kube-client.ts';
import type { SimulatorSpec, SimulatorStatus } from '../../crds/simulator.ts';
import type { ArtifactT } from './lifecycle.ts';

export const SIMULATOR = simopsKind('Simulator');
/** Older records beyond this many are dropped, unless a review or a tag names them. */
export const MAX_ARTIFACTS = 50;

/** The new list, or undefined when nothing changes. Pure. */
export type ArtifactChange = (artifacts: readonly ArtifactT[], o: KubeObject) => ArtifactT[] | undefined;

export const addArtifact =
  (artifact: ArtifactT): ArtifactChange =>
  (artifacts, o) => {
    const existing = artifacts.find((a) => a.id === artifact.id);
    if (existing) return undefined; // content-addressed: the same id is the same content
    const spec = o.spec as SimulatorSpec;
    const status = (o.status ?? {}) as SimulatorStatus;
    const keep = new Set([
      spec.reviews?.base?.artifact,
      spec.reviews?.data?.artifact,
      ...Object.values(status.tags ?? {}).map((t) => t.artifact),
    ]);
    const next = [...artifacts, artifact];
    while (next.length > MAX_ARTIFACTS) {
      const i = next.findIndex((a) => !keep.has(a.id));
      if (i < 0) break;
      next.splice(i, 1);
    }
    return next;
  };

export const markVerified =
  (id: string, sandbox: string, at: string): ArtifactChange =>
  (artifacts) => {
    const a = artifacts.find((x) => x.id === id);
    if (!a || a.verified) return undefined;
    return artifacts.map((x) =>
      x.id === id ? { ...x, verified: true, verifiedBy: sandbox, verifiedAt: at } : x,
    );
  };

/** Applies a change to a Simulator's artifacts; false when the Simulator does not exist. */
export const updateArtifacts = async (
  client: KubeClient,
  namespace: string,
  name: string,
  change: ArtifactChange,
): Promise<boolean> => {
  const api = client.kubeConfig.makeApiClient(CustomObjectsApi);
  for (let attempt = 0; ; attempt++) {
    const o = await client.get(SIMULATOR, namespace, name);
    if (!o) return false;
    const current = ((o.status ?? {}) as SimulatorStatus).artifacts ?? [];
    const next = change(current, o);
    if (!next) return true;
    try {
      await api.patchNamespacedCustomObjectStatus(
        {
          group: SIMULATOR.group,
          version: SIMULATOR.version,
          namespace,
          plural: SIMULATOR.plural,
          name,
          body: { metadata: { resourceVersion: o.metadata.resourceVersion }, status: { artifacts: next } },
          fieldManager: 'simops',
        },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      return true;
    } catch (err) {
      const e = toKubeError(err);
      if (e.code !== 409 || attempt >= 8) throw e;
    }
  }
};
