import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ResolvedDataset } from '../simulator/config.ts';
import { objectName, observePod, PodSpecError, sandboxObjects, serviceEndpoint } from './pod.ts';

const dataset = (extra: Partial<ResolvedDataset> = {}): ResolvedDataset => ({
  name: 'base',
  spec: {
    compute: { cpus: 2, memoryMiB: 1024, diskMiB: 2048, appPort: 8080 },
    listeners: [
      { name: 'web', port: 8080, protocol: 'http', path: '/healthz' },
      { name: 'admin', port: 9000, protocol: 'tcp' },
    ],
  },
  processServices: [],
  composeServices: [
    {
      name: 'web',
      image: 'node:24-slim',
      command: ['node', '/app/server.mjs'],
      environment: { PORT: '8080' },
      ports: [8080],
      networkMode: 'host',
      envFrom: [{ secretRef: { name: 'web-secrets' } }],
    },
    { name: 'db', image: 'postgres:16', environment: {}, ports: [5432], limits: { memory: '256Mi' } },
  ],
  flows: [],
  envHash: 'h',
  ...extra,
});

const input = {
  namespace: 'team',
  name: 'booking-k8s',
  uid: 'u-1',
  simulator: 'booking',
  dataset: dataset(),
};

describe('kubernetes runtime objects', () => {
  it('makes one Pod with a container per compose service, owned by the Sandbox', () => {
    const { pod } = sandboxObjects(input);
    assert.equal(pod.metadata.name, 'sbx-booking-k8s');
    assert.deepEqual(pod.metadata.ownerReferences, [
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Sandbox',
        name: 'booking-k8s',
        uid: 'u-1',
        controller: true,
        blockOwnerDeletion: true,
      },
    ]);
    const spec = pod.spec as { containers: Record<string, unknown>[] };
    const [web, db] = spec.containers;
    assert.equal(web?.image, 'node:24-slim');
    assert.deepEqual(web?.args, ['node', '/app/server.mjs']);
    assert.deepEqual(web?.env, [
      { name: 'SIMOPS_PORT_WEB', value: '8080' },
      { name: 'SIMOPS_PORT_ADMIN', value: '9000' },
      { name: 'PORT', value: '8080' },
    ]);
    assert.deepEqual(web?.envFrom, [{ secretRef: { name: 'web-secrets' } }]);
    // The listener no container declares goes to the first container.
    assert.deepEqual(web?.ports, [
      { containerPort: 8080, protocol: 'TCP' },
      { containerPort: 9000, protocol: 'TCP' },
    ]);
    assert.deepEqual(web?.readinessProbe, { httpGet: { path: '/healthz', port: 8080 }, periodSeconds: 2 });
    assert.deepEqual(web?.resources, {
      requests: { cpu: '1000m', memory: '512Mi', 'ephemeral-storage': '1024Mi' },
      limits: { cpu: '1000m', memory: '512Mi', 'ephemeral-storage': '1024Mi' },
    });
    assert.equal(
      (db?.resources as { limits: { memory: string } } | undefined)?.limits.memory,
      '256Mi',
      'deploy.resources win',
    );
  });

  it('makes a Service for the listeners and names the endpoint by it', () => {
    const { service } = sandboxObjects(input);
    assert.deepEqual(service.spec, {
      type: 'ClusterIP',
      selector: { 'simops.dev/sandbox': 'booking-k8s' },
      ports: [
        { name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP' },
        { name: 'admin', port: 9000, targetPort: 9000, protocol: 'TCP' },
      ],
    });
    assert.equal(serviceEndpoint(input), 'http://sbx-booking-k8s.team.svc:8080');
    assert.equal(objectName('x'.repeat(80)).length, 63);
  });

  it('refuses process services and images that are missing', () => {
    assert.throws(
      () =>
        sandboxObjects({
          ...input,
          dataset: dataset({
            processServices: [{ name: 'web', spec: { type: 'process', command: 'node' } }],
          }),
        }),
      (e: Error) =>
        e instanceof PodSpecError && /web is a process service \(use runtime: process\)/.test(e.message),
    );
    assert.throws(
      () =>
        sandboxObjects({
          ...input,
          dataset: dataset({ composeServices: [{ name: 'x', environment: {}, ports: [] }] }),
        }),
      /without an image: x/,
    );
  });

  it('reads Ready, failures and restarts from the Pod status', () => {
    const { pod } = sandboxObjects(input);
    assert.equal(observePod(undefined, ['web']).ready, false);
    assert.match(observePod(pod, ['web']).waiting, /not scheduled yet/);
    const running = observePod(
      {
        ...pod,
        status: {
          phase: 'Running',
          conditions: [{ type: 'Ready', status: 'True' }],
          containerStatuses: [
            { name: 'web', ready: true, restartCount: 0, state: { running: {} } },
            { name: 'db', ready: false, restartCount: 3, state: { waiting: { reason: 'CrashLoopBackOff' } } },
          ],
        },
      },
      ['web', 'db'],
    );
    assert.equal(running.ready, true);
    assert.deepEqual(running.services[1], {
      name: 'db',
      state: 'Restarting',
      restarts: 3,
      message: 'CrashLoopBackOff',
    });
    assert.match(observePod({ ...pod, status: { phase: 'Failed' } }, ['web']).failed ?? '', /failed/);
  });
});
