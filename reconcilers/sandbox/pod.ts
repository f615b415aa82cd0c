// The kubernetes runtime's objects for a sandbox, as Kompose converts compose files: one Pod whose
// containers are the compose services (a Pod's containers share localhost, as compose's host
// network does), resources from the dataset's compute (shared equally unless a service sets its own
// deploy.resources), a Service for the listeners, both owned by the Sandbox. Pure.
import type { KubeObject } from '../../apiserver/types.ts';
import { API_VERSION } from '../../crds/common.ts';
import type { ResolvedDataset } from '../simulator/config.ts';
import { portVariable } from './process-command.ts';

export const SANDBOX_LABEL = 'simops.dev/sandbox';
export const MANAGED_BY = { 'app.kubernetes.io/managed-by': 'simops' };

export interface PodInput {
  namespace: string;
  name: string;
  uid: string;
  simulator: string;
  dataset: ResolvedDataset;
}

export class PodSpecError extends Error {}

/** The name of a sandbox's Pod and Service. */
export const objectName = (sandbox: string) => `sbx-${sandbox}`.slice(0, 63).replace(/-+$/, '');

const share = (total: number, n: number, unit: 'cpu' | 'memory' | 'disk') => {
  if (unit === 'cpu') return `${Math.max(1, Math.floor((total * 1000) / n))}m`;
  return `${Math.max(1, Math.floor(total / n))}Mi`;
};

const dnsLabel = (s: string) =>
  s
    .toLowerCase()
    .replace(/[^a-z0-9-]/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 63) || 'service';

export const sandboxObjects = (input: PodInput): { pod: KubeObject; service: KubeObject } => {
  const { dataset } = input;
  if (dataset.processServices.length) {
    throw new PodSpecError(
      `the kubernetes runtime runs compose services; ${dataset.processServices.map((s) => s.name).join(', ')} ${dataset.processServices.length === 1 ? 'is a process service' : 'are process services'} (use runtime: process)`,
    );
  }
  if (!dataset.composeServices.length)
    throw new PodSpecError(`dataset ${dataset.name} has no compose services to run`);
  const missing = dataset.composeServices.filter((c) => !c.image).map((c) => c.name);
  if (missing.length) throw new PodSpecError(`compose services without an image: ${missing.join(', ')}`);

  const name = objectName(input.name);
  const labels = { [SANDBOX_LABEL]: input.name, 'simops.dev/simulator': input.simulator, ...MANAGED_BY };
  const ownerReferences = [
    {
      apiVersion: API_VERSION,
      kind: 'Sandbox',
      name: input.name,
      uid: input.uid,
      controller: true,
      blockOwnerDeletion: true,
    },
  ];
  const compute = dataset.spec.compute;
  const listeners = dataset.spec.listeners ?? [];
  const n = dataset.composeServices.length;
  const portEnv = listeners.map((l) => ({ name: portVariable(l.name), value: String(l.port) }));
  const containers = dataset.composeServices.map((c) => {
    const requests = {
      cpu: c.requests?.cpu ?? share(compute.cpus, n, 'cpu'),
      memory: c.requests?.memory ?? share(compute.memoryMiB, n, 'memory'),
      'ephemeral-storage': share(compute.diskMiB, n, 'disk'),
    };
    const limits = {
      cpu: c.limits?.cpu ?? share(compute.cpus, n, 'cpu'),
      memory: c.limits?.memory ?? share(compute.memoryMiB, n, 'memory'),
      'ephemeral-storage': share(compute.diskMiB, n, 'disk'),
    };
    // The ports this container declares, and the listeners no container declares go to the first.
    const ports = [...c.ports];
    return {
      name: dnsLabel(c.name),
      image: c.image,
      ...(c.entrypoint ? { command: c.entrypoint } : {}),
      ...(c.command ? { args: c.command } : {}),
      env: [...portEnv, ...Object.entries(c.environment).map(([k, v]) => ({ name: k, value: v }))],
      ...(c.envFrom?.length
        ? { envFrom: c.envFrom.map((e) => ({ secretRef: { name: e.secretRef.name } })) }
        : {}),
      ports: ports.map((p) => ({ containerPort: p, protocol: 'TCP' })),
      resources: { requests, limits },
    };
  });
  const declared = new Set(containers.flatMap((c) => c.ports.map((p) => p.containerPort)));
  for (const l of listeners)
    if (!declared.has(l.port)) containers[0]!.ports.push({ containerPort: l.port, protocol: 'TCP' });
  const http = listeners.find(
    (l) => l.port === compute.appPort && (l.protocol ?? 'http') === 'http' && l.path,
  );
  const pod: KubeObject = {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: { name, namespace: input.namespace, labels, ownerReferences },
    spec: {
      restartPolicy: 'Always',
      enableServiceLinks: false,
      containers: containers.map((c, i) =>
        i === 0 && http
          ? { ...c, readinessProbe: { httpGet: { path: http.path, port: http.port }, periodSeconds: 2 } }
          : c,
      ),
    },
  };
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace: input.namespace, labels, ownerReferences },
    spec: {
      type: 'ClusterIP',
      selector: { [SANDBOX_LABEL]: input.name },
      ports: listeners.map((l) => ({
        name: dnsLabel(l.name),
        port: l.port,
        targetPort: l.port,
        protocol: 'TCP',
      })),
    },
  };
  return { pod, service };
};

/** The endpoint of the Service: the listener on the appPort, else the first. */
export const serviceEndpoint = (input: PodInput): string => {
  const listeners = input.dataset.spec.listeners ?? [];
  const app = listeners.find((l) => l.port === input.dataset.spec.compute.appPort) ?? listeners[0];
  const port = app?.port ?? input.dataset.spec.compute.appPort;
  return `http://${objectName(input.name)}.${input.namespace}.svc:${port}`;
};

interface PodStatus {
  phase?: string;
  conditions?: { type: string; status: string; reason?: string; message?: string }[];
  containerStatuses?: {
    name: string;
    ready?: boolean;
    restartCount?: number;
    state?: {
      waiting?: { reason?: string; message?: string };
      running?: object;
      terminated?: { reason?: string; exitCode?: number; message?: string };
    };
  }[];
}

export interface PodObservation {
  ready: boolean;
  failed?: string;
  waiting: string;
  services: {
    name: string;
    state: 'Starting' | 'Running' | 'Restarting' | 'Failed';
    restarts: number;
    message?: string;
  }[];
}

/** What a Pod's status says: Ready from its conditions, a failure from its phase, per-container states. */
export const observePod = (pod: KubeObject | undefined, containers: readonly string[]): PodObservation => {
  const status = (pod?.status ?? {}) as PodStatus;
  const ready = status.conditions?.find((c) => c.type === 'Ready')?.status === 'True';
  const services = containers.map((name) => {
    const cs = status.containerStatuses?.find((c) => c.name === name);
    const waiting = cs?.state?.waiting;
    const terminated = cs?.state?.terminated;
    const state: PodObservation['services'][number]['state'] =
      waiting?.reason === 'CrashLoopBackOff'
        ? 'Restarting'
        : terminated && status.phase === 'Failed'
          ? 'Failed'
          : cs?.ready
            ? 'Running'
            : 'Starting';
    const message = waiting?.message ?? waiting?.reason ?? terminated?.reason;
    return { name, state, restarts: cs?.restartCount ?? 0, ...(message ? { message } : {}) };
  });
  const failed =
    status.phase === 'Failed'
      ? `Pod ${pod?.metadata.name} failed${status.conditions?.find((c) => c.type === 'Ready')?.message ? `: ${status.conditions.find((c) => c.type === 'Ready')!.message}` : ''}`
      : undefined;
  const notReady = status.conditions?.find((c) => c.status !== 'True');
  const waiting = !pod
    ? 'the Pod does not exist yet'
    : !status.phase
      ? `Pod ${pod.metadata.name} is not scheduled yet (no node has reported on it)`
      : `Pod ${pod.metadata.name} is ${status.phase}${notReady ? ` (${notReady.type}: ${notReady.reason ?? notReady.status})` : ''}`;
  return { ready, ...(failed ? { failed } : {}), waiting, services };
};
