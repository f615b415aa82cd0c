// The booking demo of examples/ (its app, flows and manifests) as files of a test git repository,
// and small helpers to drive SimOps objects from commits.
import { readFileSync } from 'node:fs';
import type { KubeObject } from '../../apiserver/types.ts';
import { getCondition } from '../../controller/runtime/conditions.ts';
import { coreKind, simopsKind } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import { REQUESTED_AT } from '../../controller/runtime/status.ts';
import type { Condition } from '../../crds/common.ts';
import { eventually as pollUntil } from './eventually.ts';
import type { TestRepo } from './git.ts';

const examples = new URL('../../examples/', import.meta.url).pathname;
const read = (rel: string) => readFileSync(`${examples}${rel}`, 'utf8');

/** The demo app, its flows, and the example Simulator and Sandbox, as they are in examples/. */
export const demoFiles = (): Record<string, string> => ({
  'app/server.mjs': read('app/server.mjs'),
  'app/flows/flows.yaml': read('app/flows/flows.yaml'),
  'app/docker-compose.yml': read('app/docker-compose.yml'),
  'manifests/simulators/booking.yaml': read('manifests/simulators/booking.yaml'),
  'manifests/sandboxes/booking-dev.yaml': read('manifests/sandboxes/booking-dev.yaml'),
});

export const GS = simopsKind('GitSource');
export const SIMULATOR = simopsKind('Simulator');
export const SANDBOX = simopsKind('Sandbox');

/** The shared poll, with the longer default the demo's sandboxes need (they start processes). */
export const eventually = <T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 15_000) =>
  pollUntil(what, fn, timeoutMs);

export const ready = (o: KubeObject | undefined) =>
  getCondition((o?.status as { conditions?: Condition[] } | undefined)?.conditions, 'Ready');

/** A GitSource on the repository (interval 1h: commits are applied when `sync` asks). */
export const applySource = (client: KubeClient, repo: TestRepo, name = 'demo') =>
  client.apply(
    {
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'GitSource',
      metadata: { name, namespace: 'default' },
      spec: { url: repo.url, interval: '1h', path: './', prune: true },
    },
    { fieldManager: 'test' },
  );

/** Commits files and waits until the GitSource applied that commit. */
export const sync = async (
  client: KubeClient,
  repo: TestRepo,
  files: Record<string, string | null>,
  name = 'demo',
) => {
  const sha = repo.commit(files);
  await client.mergePatch(GS, 'default', name, { metadata: { annotations: { [REQUESTED_AT]: sha } } });
  await eventually(`GitSource at ${sha}`, async () => {
    const s = (await client.get(GS, 'default', name))?.status as { lastAppliedRevision?: string } | undefined;
    return s?.lastAppliedRevision === `main@sha1:${sha}`;
  });
  return sha;
};

/** The Events of an object, by reason. */
export const eventsOf = async (client: KubeClient, name: string): Promise<KubeObject[]> =>
  (await client.list(coreKind('Event'), 'default')).items.filter(
    (e) => (e.involvedObject as { name: string }).name === name,
  );

export const yaml = (o: object) => JSON.stringify(o, null, 2);
