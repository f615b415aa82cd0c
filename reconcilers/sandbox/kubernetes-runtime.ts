// The kubernetes runtime: one Pod and one Service per sandbox, applied to the API server the
// controller talks to, owned by the Sandbox (garbage-collected with it), status from the Pod's
// conditions. In the embedded API server no kubelet runs the Pod: the objects are there to inspect
// (`kubectl get pods,svc`), and the sandbox waits for a Ready Pod that a real cluster would report.
import type { KindRef } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import { observePod, type PodObservation, sandboxObjects, serviceEndpoint } from './pod.ts';
import type { Environment, Runtime, SandboxPlan, ServiceStatus } from './runtime.ts';

const core = (kind: 'Pod' | 'Service', plural: string): KindRef => ({
  group: '',
  version: 'v1',
  apiVersion: 'v1',
  kind,
  plural,
  namespaced: true,
});
export const POD = core('Pod', 'pods');
export const SERVICE = core('Service', 'services');

export interface KubernetesRuntimeOptions {
  client: KubeClient;
  /** How often the Pod is read while starting (default 500 ms). */
  pollMs?: number;
  /** How long the Pod may take to become Ready (default 10 min: images are pulled). */
  startupTimeoutMs?: number;
}

export const kubernetesRuntime = (opts: KubernetesRuntimeOptions): Runtime => {
  const { client } = opts;

  class PodEnvironment implements Environment {
    private readonly plan: SandboxPlan;
    private readonly onChange: () => void;
    private last?: PodObservation;
    private readonly objects: ReturnType<typeof sandboxObjects>;

    constructor(plan: SandboxPlan, onChange: () => void) {
      this.plan = plan;
      this.onChange = onChange;
      this.objects = sandboxObjects({
        namespace: plan.namespace,
        name: plan.name,
        uid: plan.uid,
        simulator: plan.simulator,
        dataset: plan.dataset,
      });
    }

    private get containers(): string[] {
      return ((this.objects.pod.spec as { containers: { name: string }[] }).containers ?? []).map(
        (c) => c.name,
      );
    }

    async prepare(): Promise<void> {
      if (this.plan.source.kind === 'artifact')
        throw new Error(
          'the kubernetes runtime starts from the config; artifacts are snapshots of the process runtime',
        );
    }

    private async observe(): Promise<PodObservation> {
      const pod = await client.get(POD, this.plan.namespace, this.objects.pod.metadata.name!);
      const o = observePod(pod, this.containers);
      if (JSON.stringify(o) !== JSON.stringify(this.last)) {
        this.last = o;
        this.onChange();
      }
      return o;
    }

    async start(signal: AbortSignal): Promise<{ endpoint: string }> {
      await client.apply(this.objects.service, { fieldManager: 'simops', force: true });
      await client.apply(this.objects.pod, { fieldManager: 'simops', force: true });
      const deadline = Date.now() + (opts.startupTimeoutMs ?? 600_000);
      for (;;) {
        signal.throwIfAborted();
        const o = await this.observe();
        if (o.failed) throw new Error(o.failed);
        if (o.ready) break;
        if (Date.now() > deadline) throw new Error(`the Pod did not become Ready in time: ${o.waiting}`);
        await new Promise((r) => setTimeout(r, opts.pollMs ?? 500));
      }
      return { endpoint: serviceEndpoint({ ...this.plan, dataset: this.plan.dataset }) };
    }

    async stop(): Promise<void> {
      await client.delete(POD, this.plan.namespace, this.objects.pod.metadata.name!);
      await client.delete(SERVICE, this.plan.namespace, this.objects.service.metadata.name!);
      this.last = undefined;
    }

    async destroy(): Promise<void> {
      await this.stop();
    }

    services(): ServiceStatus[] {
      const o = this.last;
      return this.containers.map((name) => {
        const s = o?.services.find((x) => x.name === name);
        return {
          name,
          state: s?.state ?? 'Starting',
          restarts: s?.restarts ?? 0,
          ...(s?.message ? { message: s.message } : {}),
        };
      });
    }

    failure(): string | undefined {
      return this.last?.failed;
    }

    /** A message while the Pod is not Ready. */
    waiting(): string | undefined {
      return this.last && !this.last.ready ? this.last.waiting : undefined;
    }

    async check(): Promise<string | undefined> {
      const o = await this.observe();
      return o.ready ? undefined : o.waiting;
    }
  }

  return {
    name: 'kubernetes',
    environment: (plan, onChange) => new PodEnvironment(plan, onChange),
    // The Pods keep running without the controller, as any workload does.
    shutdown: async () => {},
  };
};
