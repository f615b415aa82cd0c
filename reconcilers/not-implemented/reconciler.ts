// Until a kind's own reconciler lands, its objects say so: Ready=Unknown, reason NotImplemented.
import type { KindRef } from '../../controller/runtime/kinds.ts';
import type { Reconciler } from '../../controller/runtime/reconciler.ts';
import { nextStatus, patchStatus } from '../../controller/runtime/status.ts';

export const notImplementedReconciler = (kind: KindRef): Reconciler => ({
  kind,
  concurrency: 1,
  async reconcile(req, ctx) {
    const o = ctx.cache.get(req.namespace, req.name) ?? (await ctx.client.get(kind, req.namespace, req.name));
    if (!o || o.metadata.deletionTimestamp) return undefined;
    const status = nextStatus(
      o,
      {},
      {
        kind: 'unknown',
        reason: 'NotImplemented',
        message: `the ${kind.kind} reconciler is not implemented yet; the object is stored and validated`,
      },
    );
    await patchStatus(ctx.client, kind, o, status);
    return undefined;
  },
});
