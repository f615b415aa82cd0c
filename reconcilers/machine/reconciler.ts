// Machine: catalog (built-in + the namespace's ConfigMap) → resolve definition and backend → serve
// the simulated device, or check the live one → one status patch. The Machine and its catalog are
// read from informer caches, so a reconcile sends at most its status patch and an Event: at 10,000
// machines a GET of each and of its catalog was most of the controller's requests.
import { type KindInformer, startInformer } from '../../controller/runtime/informer.ts';
import { coreKind, simopsKind } from '../../controller/runtime/kinds.ts';
import type { Reconciler } from '../../controller/runtime/reconciler.ts';
import { nextStatus, patchStatus } from '../../controller/runtime/status.ts';
import type { MachineSpec, MachineStatus } from '../../crds/machine.ts';
import { builtinCatalog } from './catalog.ts';
import { CATALOG_CONFIGMAP, catalogFromConfigMap } from './catalog-configmap.ts';
import { decide, eventsFor, type Observed } from './decide.ts';
import type { CannedResponse } from './device.ts';
import { commandsPath, createDevices, type Devices } from './endpoint.ts';
import { type ProbeFn, probeTcp } from './reachability.ts';
import { type Resolution, resolveMachine } from './resolve.ts';

export const MACHINE = simopsKind('Machine');
const CONFIGMAP = coreKind('ConfigMap');

export interface MachineOptions {
  /** Command traces go to `<artifactDir>/machines/<namespace>/<name>/commands.jsonl`. */
  artifactDir: string;
  /** The controller's HTTP base URL, where the command endpoints are served. */
  httpBaseUrl?: () => string;
  /** Live mode's reachability check (default: a TCP connect). */
  probe?: ProbeFn;
  /** Connect timeout of the check (default 3 s, never longer than the check interval). */
  connectTimeoutMs?: number;
}

export interface MachineController {
  reconciler: Reconciler;
  /** Serves the command endpoints; add it to the controller's HTTP server. */
  devices: Devices;
}

/** While the controller's HTTP address is not known yet (it starts after the controllers). */
const ENDPOINT_RETRY_MS = 250;

export const machineReconciler = (opts: MachineOptions): MachineController => {
  const devices = createDevices(opts.artifactDir);
  const probe = opts.probe ?? probeTcp;
  // The catalog ConfigMaps of every namespace (by name); a reconcile waits for their first list.
  let catalogs: KindInformer | undefined;
  let catalogsListed: Promise<void> = new Promise(() => {});

  const reconciler: Reconciler = {
    kind: MACHINE,
    concurrency: 4,
    start(enqueue, ctx) {
      // A changed catalog re-resolves the machines of its namespace.
      const informer = startInformer(
        ctx.client.kubeConfig,
        CONFIGMAP,
        (_type, configMap) => {
          for (const m of ctx.cache.list(configMap.metadata.namespace))
            enqueue({ namespace: m.metadata.namespace ?? '', name: m.metadata.name ?? '' });
        },
        ctx.log,
        { fieldSelector: `metadata.name=${CATALOG_CONFIGMAP}` },
      );
      catalogs = informer;
      void informer.start().catch(() => {}); // a failed list is retried by the informer
      catalogsListed = informer.synced();
      return async () => {
        await informer.stop();
        devices.clear();
      };
    },
    async reconcile(req, ctx) {
      const key = `${req.namespace}/${req.name}`;
      const o = ctx.cache.get(req.namespace, req.name);
      if (!o || o.metadata.deletionTimestamp) {
        devices.remove(key);
        return undefined;
      }
      const spec = o.spec as MachineSpec;
      const mode = spec.simulated === false ? 'live' : 'simulated';

      // 1. The catalog of this namespace, and what the machine resolves to in it.
      await catalogsListed;
      const configMap = catalogs?.get(req.namespace, CATALOG_CONFIGMAP);
      const catalog = catalogFromConfigMap(builtinCatalog(), configMap);
      const resolution: Resolution = catalog.ok
        ? resolveMachine(spec, catalog.catalog)
        : { ok: false, reason: 'InvalidCatalog', message: catalog.error };

      // 2. Serve the simulated device, or check the live one.
      const seen: Observed = {};
      let requeueAfterMs: number | undefined;
      if (resolution.ok && resolution.mode === 'simulated') {
        const base = opts.httpBaseUrl?.() ?? '';
        if (base) {
          devices.register({
            machine: key,
            category: resolution.category.name,
            backend: resolution.backend,
            plateReadings: resolution.category.plateReadings ?? [],
            responses: (spec.simulation?.responses ?? {}) as Record<string, CannedResponse>,
          });
          seen.endpoint = `${base}${commandsPath(req.namespace, req.name)}`;
        } else {
          devices.remove(key);
          requeueAfterMs = ENDPOINT_RETRY_MS;
        }
      } else {
        devices.remove(key);
      }
      if (resolution.ok && resolution.mode === 'live') {
        const intervalMs = (spec.checkIntervalSeconds ?? 30) * 1000;
        seen.reachability = await probe(
          resolution.connection,
          Math.min(opts.connectTimeoutMs ?? 3000, intervalMs),
          ctx.signal,
        );
        if (ctx.signal.aborted) return undefined; // shutting down: nothing was learned
        requeueAfterMs = intervalMs;
      }

      // 3. One status patch (none when nothing changed), with an Event per change of outcome.
      const decision = decide(mode, resolution, seen);
      for (const e of eventsFor((o.status ?? {}) as MachineStatus, decision))
        ctx.events.record(o, e.type, e.reason, e.message);
      await patchStatus(ctx.client, MACHINE, o, nextStatus(o, { ...decision.fields }, decision.outcome));
      ctx.log.debug({ generation: o.metadata.generation, outcome: decision.outcome.reason }, 'reconciled');
      return requeueAfterMs !== undefined ? { requeueAfterMs } : undefined;
    },
  };
  return { reconciler, devices };
};
