// The embedded API server through the real @kubernetes/client-node, used the way a controller
// uses it: typed APIs, the generic object API, merge patches on the status subresource, error
// Status bodies, and an informer that survives a server restart.
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  type Informer,
  KubeConfig,
  type KubernetesObject,
  KubernetesObjectApi,
  makeInformer,
  type ObjectCache,
  PatchStrategy,
  setHeaderOptions,
  type V1ConfigMap,
} from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { ObjectService } from '../apiserver/object-service.ts';
import { findResource } from '../apiserver/resources.ts';
import { openFileStore } from '../apiserver/store/file-store.ts';
import { startTestServer } from './helpers/embedded.ts';

const GROUP = 'simops.dev';
const VERSION = 'v1alpha1';
const PLURAL = 'sandboxes';
const API_VERSION = `${GROUP}/${VERSION}`;

interface Sandbox extends KubernetesObject {
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
}

const sandbox = (name: string, namespace: string, labels: Record<string, string> = {}): Sandbox => ({
  apiVersion: API_VERSION,
  kind: 'Sandbox',
  metadata: { name, namespace, labels },
  spec: { simulatorRef: { name: 'booking' }, source: { config: true }, runtime: 'process' },
});

/** The merge-patch Content-Type: CustomObjectsApi patches default to JSON patch. */
const mergePatch = () => setHeaderOptions('Content-Type', PatchStrategy.MergePatch);

/** Runs `fn`, which must fail with an ApiException of `code`; returns the parsed Status body. */
const expectStatus = async (code: number, fn: () => Promise<unknown>) => {
  try {
    await fn();
  } catch (err) {
    assert.ok(err instanceof ApiException, `expected an ApiException, got ${String(err)}`);
    assert.equal(err.code, code, String(err.body));
    const status = typeof err.body === 'string' ? JSON.parse(err.body) : err.body;
    assert.equal(status.kind, 'Status');
    assert.equal(status.code, code);
    return status as {
      reason: string;
      message: string;
      details?: { causes?: { field?: string; reason?: string; message: string }[] };
    };
  }
  assert.fail(`expected HTTP ${code}`);
};

const waitFor = async (what: string, check: () => boolean | Promise<boolean>, timeoutMs = 8000) => {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(25);
  }
  assert.fail(`timed out waiting for ${what}`);
};

describe('@kubernetes/client-node against the embedded API server', () => {
  let env: Embedded;
  let kc: KubeConfig;
  let custom: CustomObjectsApi;
  let core: CoreV1Api;
  let objects: KubernetesObjectApi;

  before(async () => {
    env = await startTestServer();
    kc = new KubeConfig();
    kc.loadFromFile(env.kubeconfigPath);
    custom = kc.makeApiClient(CustomObjectsApi);
    core = kc.makeApiClient(CoreV1Api);
    objects = KubernetesObjectApi.makeApiClient(kc);
  });
  after(async () => {
    await env?.stop();
  });

  const ns = async (name: string) => {
    await core.createNamespace({ body: { metadata: { name } } });
    return name;
  };

  it('creates, gets, lists by label, replaces and deletes a Sandbox (CustomObjectsApi)', async () => {
    const namespace = await ns('crud');
    const base = { group: GROUP, version: VERSION, namespace, plural: PLURAL };
    const created = (await custom.createNamespacedCustomObject({
      ...base,
      body: sandbox('a', namespace, { team: 'red' }),
    })) as Sandbox;
    assert.equal(created.metadata?.name, 'a');
    assert.ok(created.metadata?.uid);
    assert.ok(created.metadata?.resourceVersion);
    assert.equal(created.metadata?.generation, 1);
    // Defaults from the schema are applied.
    assert.equal(created.spec?.dataset, 'base');
    await custom.createNamespacedCustomObject({ ...base, body: sandbox('b', namespace, { team: 'blue' }) });

    const got = (await custom.getNamespacedCustomObject({ ...base, name: 'a' })) as Sandbox;
    assert.deepEqual(got, created);

    const all = (await custom.listNamespacedCustomObject(base)) as { kind: string; items: Sandbox[] };
    assert.equal(all.kind, 'SandboxList');
    assert.deepEqual(
      all.items.map((o) => o.metadata?.name),
      ['a', 'b'],
    );
    const red = (await custom.listNamespacedCustomObject({ ...base, labelSelector: 'team=red' })) as {
      items: Sandbox[];
    };
    assert.deepEqual(
      red.items.map((o) => o.metadata?.name),
      ['a'],
    );
    const notRed = (await custom.listNamespacedCustomObject({
      ...base,
      labelSelector: 'team notin (red)',
    })) as { items: Sandbox[] };
    assert.deepEqual(
      notRed.items.map((o) => o.metadata?.name),
      ['b'],
    );

    const replaced = (await custom.replaceNamespacedCustomObject({
      ...base,
      name: 'a',
      body: { ...got, spec: { ...got.spec, runtime: 'kubernetes' } },
    })) as Sandbox;
    assert.equal(replaced.spec?.runtime, 'kubernetes');
    assert.equal(replaced.metadata?.generation, 2);
    assert.notEqual(replaced.metadata?.resourceVersion, got.metadata?.resourceVersion);

    await custom.deleteNamespacedCustomObject({ ...base, name: 'a' });
    await expectStatus(404, () => custom.getNamespacedCustomObject({ ...base, name: 'a' }));
    const left = (await custom.listNamespacedCustomObject(base)) as { items: Sandbox[] };
    assert.deepEqual(
      left.items.map((o) => o.metadata?.name),
      ['b'],
    );
  });

  it('creates, gets, lists, replaces and deletes a ConfigMap (CoreV1Api)', async () => {
    const namespace = await ns('cm');
    const created = await core.createNamespacedConfigMap({
      namespace,
      body: { metadata: { name: 'settings', labels: { app: 'sim' } }, data: { mode: 'fast' } },
    });
    assert.equal(created.kind, 'ConfigMap');
    assert.equal(created.data?.mode, 'fast');
    await core.createNamespacedConfigMap({ namespace, body: { metadata: { name: 'other' }, data: {} } });

    const got = await core.readNamespacedConfigMap({ namespace, name: 'settings' });
    assert.equal(got.metadata?.uid, created.metadata?.uid);
    const list = await core.listNamespacedConfigMap({ namespace, labelSelector: 'app=sim' });
    assert.deepEqual(
      list.items.map((o) => o.metadata?.name),
      ['settings'],
    );
    const byName = await core.listNamespacedConfigMap({ namespace, fieldSelector: 'metadata.name=other' });
    assert.deepEqual(
      byName.items.map((o) => o.metadata?.name),
      ['other'],
    );

    const replaced = await core.replaceNamespacedConfigMap({
      namespace,
      name: 'settings',
      body: { ...got, data: { mode: 'slow' } } as V1ConfigMap,
    });
    assert.equal(replaced.data?.mode, 'slow');
    const patched = await core.patchNamespacedConfigMap(
      { namespace, name: 'settings', body: { data: { extra: 'yes' } } },
      mergePatch(),
    );
    assert.deepEqual(patched.data, { mode: 'slow', extra: 'yes' });

    await core.deleteNamespacedConfigMap({ namespace, name: 'settings' });
    await expectStatus(404, () => core.readNamespacedConfigMap({ namespace, name: 'settings' }));
    const left = await core.listNamespacedConfigMap({ namespace });
    assert.deepEqual(
      left.items.map((o) => o.metadata?.name),
      ['other'],
    );
  });

  it('does the same through KubernetesObjectApi, which finds resources by discovery', async () => {
    const namespace = await ns('generic');
    const created = await objects.create<Sandbox>(sandbox('g', namespace, { tier: 'one' }));
    assert.equal(created.metadata?.generation, 1);
    const read = await objects.read<Sandbox>({
      apiVersion: API_VERSION,
      kind: 'Sandbox',
      metadata: { name: 'g', namespace },
    });
    assert.equal(read.metadata?.uid, created.metadata?.uid);
    const list = await objects.list<Sandbox>(
      API_VERSION,
      'Sandbox',
      namespace,
      undefined,
      undefined,
      undefined,
      undefined,
      'tier=one',
    );
    assert.deepEqual(
      list.items.map((o) => o.metadata?.name),
      ['g'],
    );
    const patched = await objects.patch<Sandbox>(
      {
        apiVersion: API_VERSION,
        kind: 'Sandbox',
        metadata: { name: 'g', namespace },
        spec: { flows: ['x'] },
      },
      undefined,
      undefined,
      'test',
      undefined,
      PatchStrategy.MergePatch,
    );
    assert.deepEqual(patched.spec?.flows, ['x']);
    assert.equal(patched.metadata?.generation, 2);
    const replaced = await objects.replace<Sandbox>({ ...patched, spec: { ...patched.spec, flows: [] } });
    assert.deepEqual(replaced.spec?.flows, []);
    // Strategic merge patch, the library's default, is refused for custom resources as on a real server.
    await expectStatus(415, () =>
      objects.patch<Sandbox>({
        apiVersion: API_VERSION,
        kind: 'Sandbox',
        metadata: { name: 'g', namespace },
        spec: { flows: ['y'] },
      }),
    );
    await objects.delete({ apiVersion: API_VERSION, kind: 'Sandbox', metadata: { name: 'g', namespace } });
    await expectStatus(404, () =>
      objects.read({ apiVersion: API_VERSION, kind: 'Sandbox', metadata: { name: 'g', namespace } }),
    );
  });

  it('patches status through the subresource; only spec changes bump generation', async () => {
    const namespace = await ns('status');
    const base = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 's' };
    // A status sent on create is dropped for a resource with a status subresource.
    const created = (await custom.createNamespacedCustomObject({
      ...base,
      body: { ...sandbox('s', namespace), status: { phase: 'Stopped' } },
    })) as Sandbox;
    assert.equal(created.status, undefined);
    assert.equal(created.metadata?.generation, 1);

    const withStatus = (await custom.patchNamespacedCustomObjectStatus(
      { ...base, body: { status: { phase: 'Pending', observedGeneration: 1 } } },
      mergePatch(),
    )) as Sandbox;
    assert.equal(withStatus.status?.phase, 'Pending');
    assert.equal(withStatus.metadata?.generation, 1);
    assert.notEqual(withStatus.metadata?.resourceVersion, created.metadata?.resourceVersion);

    // Spec changes sent to the status subresource are ignored.
    const ignored = (await custom.patchNamespacedCustomObjectStatus(
      { ...base, body: { spec: { runtime: 'kubernetes' }, status: { phase: 'Stopped' } } },
      mergePatch(),
    )) as Sandbox;
    assert.equal(ignored.spec?.runtime, 'process');
    assert.equal(ignored.status?.phase, 'Stopped');
    assert.equal(ignored.metadata?.generation, 1);

    // Status changes sent to the main resource are ignored; spec changes bump generation.
    const specChanged = (await custom.patchNamespacedCustomObject(
      { ...base, body: { spec: { runtime: 'kubernetes' }, status: { phase: 'Failed' } } },
      mergePatch(),
    )) as Sandbox;
    assert.equal(specChanged.spec?.runtime, 'kubernetes');
    assert.equal(specChanged.status?.phase, 'Stopped');
    assert.equal(specChanged.metadata?.generation, 2);

    // A metadata-only change does not bump generation either.
    const labelled = (await custom.patchNamespacedCustomObject(
      { ...base, body: { metadata: { labels: { seen: 'yes' } } } },
      mergePatch(),
    )) as Sandbox;
    assert.equal(labelled.metadata?.labels?.seen, 'yes');
    assert.equal(labelled.metadata?.generation, 2);

    // PUT of the status subresource, as controllers using replace*Status do.
    const replacedStatus = (await custom.replaceNamespacedCustomObjectStatus({
      ...base,
      body: { ...labelled, status: { phase: 'Stopped', observedGeneration: 2 } },
    })) as Sandbox;
    assert.equal(replacedStatus.status?.observedGeneration, 2);
    assert.equal(replacedStatus.metadata?.generation, 2);
    const status = (await custom.getNamespacedCustomObjectStatus(base)) as Sandbox;
    assert.deepEqual(status.status, { phase: 'Stopped', observedGeneration: 2 });

    // JSON patch (the library's default for CustomObjectsApi) works on the status too.
    const jsonPatched = (await custom.patchNamespacedCustomObjectStatus({
      ...base,
      body: [{ op: 'replace', path: '/status/phase', value: 'Stopped' }],
    })) as Sandbox;
    assert.equal(jsonPatched.status?.phase, 'Stopped');
    assert.equal(jsonPatched.metadata?.generation, 2);

    // An invalid status is refused with the field named.
    const bad = await expectStatus(422, () =>
      custom.patchNamespacedCustomObjectStatus(
        { ...base, body: { status: { phase: 'Dancing' } } },
        mergePatch(),
      ),
    );
    assert.deepEqual(
      bad.details?.causes?.map((c) => c.field),
      ['status.phase'],
    );
  });

  it('answers 409 Conflict to an update with a stale resourceVersion', async () => {
    const namespace = await ns('conflict');
    const base = { group: GROUP, version: VERSION, namespace, plural: PLURAL, name: 'c' };
    const v1 = (await custom.createNamespacedCustomObject({
      ...base,
      body: sandbox('c', namespace),
    })) as Sandbox;
    await custom.replaceNamespacedCustomObject({
      ...base,
      body: { ...v1, spec: { ...v1.spec, flows: ['one'] } },
    });
    const status = await expectStatus(409, () =>
      custom.replaceNamespacedCustomObject({
        ...base,
        body: { ...v1, spec: { ...v1.spec, flows: ['two'] } },
      }),
    );
    assert.equal(status.reason, 'Conflict');
    // Same for the status subresource and for a merge patch carrying a resourceVersion precondition.
    await expectStatus(409, () =>
      custom.replaceNamespacedCustomObjectStatus({ ...base, body: { ...v1, status: { phase: 'Stopped' } } }),
    );
    await expectStatus(409, () =>
      custom.patchNamespacedCustomObject(
        {
          ...base,
          body: { metadata: { resourceVersion: v1.metadata?.resourceVersion }, spec: { flows: [] } },
        },
        mergePatch(),
      ),
    );
    const cmNs = namespace;
    const cm = await core.createNamespacedConfigMap({ namespace: cmNs, body: { metadata: { name: 'cm' } } });
    await core.replaceNamespacedConfigMap({ namespace: cmNs, name: 'cm', body: { ...cm, data: { a: '1' } } });
    await expectStatus(409, () =>
      core.replaceNamespacedConfigMap({ namespace: cmNs, name: 'cm', body: { ...cm, data: { a: '2' } } }),
    );
    const latest = (await custom.getNamespacedCustomObject(base)) as Sandbox;
    assert.deepEqual(latest.spec?.flows, ['one']);
  });

  it('answers 422 Invalid with one cause per invalid field', async () => {
    const namespace = await ns('invalid');
    const base = { group: GROUP, version: VERSION, namespace, plural: PLURAL };
    const status = await expectStatus(422, () =>
      custom.createNamespacedCustomObject({
        ...base,
        body: {
          apiVersion: API_VERSION,
          kind: 'Sandbox',
          metadata: { name: 'bad' },
          spec: { runtime: 'docker', source: { config: true } },
        },
      }),
    );
    assert.equal(status.reason, 'Invalid');
    const causes = status.details?.causes ?? [];
    assert.deepEqual(causes.map((c) => c.field).sort(), ['spec.runtime', 'spec.simulatorRef']);
    const runtime = causes.find((c) => c.field === 'spec.runtime')!;
    assert.equal(runtime.reason, 'FieldValueNotSupported');
    assert.match(runtime.message, /docker/);
    assert.equal(causes.find((c) => c.field === 'spec.simulatorRef')!.reason, 'FieldValueRequired');
    await expectStatus(404, () => custom.getNamespacedCustomObject({ ...base, name: 'bad' }));

    // A bad name is a 422 on metadata.name too.
    const name = await expectStatus(422, () =>
      custom.createNamespacedCustomObject({ ...base, body: sandbox('Not_A_Name', namespace) }),
    );
    assert.deepEqual(
      name.details?.causes?.map((c) => c.field),
      ['metadata.name'],
    );
    // An update that breaks the object is refused and leaves it unchanged.
    const good = (await custom.createNamespacedCustomObject({
      ...base,
      body: sandbox('good', namespace),
    })) as Sandbox;
    const upd = await expectStatus(422, () =>
      custom.replaceNamespacedCustomObject({
        ...base,
        name: 'good',
        body: { ...good, spec: { ...good.spec, timeoutSeconds: -1 } },
      }),
    );
    assert.deepEqual(
      upd.details?.causes?.map((c) => c.field),
      ['spec.timeoutSeconds'],
    );
    const still = (await custom.getNamespacedCustomObject({ ...base, name: 'good' })) as Sandbox;
    assert.equal(still.metadata?.resourceVersion, good.metadata?.resourceVersion);
  });

  it("keeps an informer's cache correct across a server restart, restarting it on error", async () => {
    const namespace = await ns('informer');
    const base = { group: GROUP, version: VERSION, namespace, plural: PLURAL };
    const path = `/apis/${GROUP}/${VERSION}/namespaces/${namespace}/${PLURAL}`;
    const informer: Informer<Sandbox> & ObjectCache<Sandbox> = makeInformer(kc, path, () =>
      custom.listNamespacedCustomObject(base),
    );
    const errors: unknown[] = [];
    let stopped = false;
    let restarts = 0;
    // The documented pattern: client-node informers stop on errors other than 410 and timeouts.
    informer.on('error', (err) => {
      errors.push(err);
      if (stopped) return;
      setTimeout(() => {
        if (stopped) return;
        restarts++;
        informer.start().catch(() => {});
      }, 100);
    });
    const serverState = async () => {
      const list = (await custom.listNamespacedCustomObject(base)) as { items: Sandbox[] };
      return list.items.map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`).sort();
    };
    const cacheState = () =>
      informer
        .list(namespace)
        .map((o) => `${o.metadata?.name}@${o.metadata?.resourceVersion}`)
        .sort();
    const converged = async (what: string) => {
      let want: string[] = [];
      await waitFor(what, async () => {
        want = await serverState();
        return JSON.stringify(cacheState()) === JSON.stringify(want);
      }).catch((err) => {
        assert.fail(`${String(err)}\n cache: ${cacheState().join(' ')}\nserver: ${want.join(' ')}`);
      });
    };

    try {
      await custom.createNamespacedCustomObject({ ...base, body: sandbox('before-1', namespace) });
      await informer.start();
      await custom.createNamespacedCustomObject({ ...base, body: sandbox('before-2', namespace) });
      await custom.createNamespacedCustomObject({ ...base, body: sandbox('doomed', namespace) });
      await custom.patchNamespacedCustomObjectStatus(
        { ...base, name: 'before-1', body: { status: { phase: 'Stopped' } } },
        mergePatch(),
      );
      await converged('the informer to see the first objects');
      assert.equal(informer.get('before-1', namespace)?.status?.phase, 'Stopped');

      // Stop the server; while it is down, change the durable state directly (as another process
      // holding the store would), then restart on the same port so the informer's KubeConfig holds.
      const dataDir = dirname(env.kubeconfigPath);
      const port = env.server.port;
      await env.stop();
      const store = openFileStore({ dir: join(dataDir, 'store') });
      try {
        const service = new ObjectService(store);
        const r = findResource(GROUP, VERSION, PLURAL)!;
        const opts = { dryRun: false, fieldManager: 'offline', fieldValidation: 'Strict' as const };
        service.create(r, namespace, sandbox('while-down', namespace), opts);
        service.patch(
          r,
          namespace,
          'before-2',
          'application/merge-patch+json',
          { spec: { flows: ['f'] } },
          opts,
        );
        service.delete(r, namespace, 'doomed', {}, { dryRun: false });
      } finally {
        store.close();
      }
      await sleep(300); // the informer notices, errors and retries against a closed port
      env = await startTestServer({ dataDir, port });
      assert.equal(env.server.port, port);

      await custom.createNamespacedCustomObject({ ...base, body: sandbox('after-1', namespace) });
      await custom.patchNamespacedCustomObjectStatus(
        { ...base, name: 'before-1', body: { status: { phase: 'Stopped' } } },
        mergePatch(),
      );
      await custom.deleteNamespacedCustomObject({ ...base, name: 'before-2' });
      await converged('the informer to catch up after the restart');
      assert.equal(informer.get('before-1', namespace)?.status?.phase, 'Stopped');
      assert.equal(informer.get('doomed', namespace), undefined);
      assert.ok(informer.get('while-down', namespace));
      assert.ok(errors.length > 0, 'the informer should have reported the outage');
      assert.ok(restarts > 0);

      // And it keeps following live changes.
      await custom.createNamespacedCustomObject({ ...base, body: sandbox('after-2', namespace) });
      await custom.deleteNamespacedCustomObject({ ...base, name: 'after-1' });
      await converged('the informer to follow live changes');
      assert.deepEqual(
        informer
          .list(namespace)
          .map((o) => o.metadata?.name)
          .sort(),
        ['after-2', 'before-1', 'while-down'],
      );
    } finally {
      stopped = true;
      await informer.stop();
    }
  });
});
