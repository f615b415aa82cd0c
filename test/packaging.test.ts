// The Helm chart and the kustomize base, rendered by the real helm and kubectl.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { parseAllDocuments } from 'yaml';
import { inShard, shardingError, watchSelector } from '../controller/runtime/sharding.ts';
import { renderInstall } from '../scripts/gen-manifests.ts';
import { kubectlPath } from './helpers/kubectl.ts';

const run = promisify(execFile);
const root = new URL('..', import.meta.url).pathname;
const helm = `${root}.tools/bin/helm`;
const chart = `${root}charts/simops`;

type Obj = { kind: string; metadata: { name: string; namespace?: string }; [k: string]: unknown };
const docs = (text: string): Obj[] =>
  parseAllDocuments(text)
    .map((d) => d.toJS() as Obj)
    .filter(Boolean);
const template = async (...set: string[]) =>
  docs(
    (
      await run(helm, [
        'template',
        'simops',
        chart,
        '--namespace',
        'simops-system',
        ...set.flatMap((s) => ['--set', s]),
      ])
    ).stdout,
  );

type Container = {
  args: string[];
  livenessProbe?: unknown;
  readinessProbe?: unknown;
  securityContext: {
    allowPrivilegeEscalation: boolean;
    readOnlyRootFilesystem: boolean;
    capabilities: { drop: string[] };
  };
  env?: { name: string; value?: string }[];
};
type PodSpec = {
  securityContext: { runAsNonRoot: boolean };
  containers: Container[];
  serviceAccountName?: string;
};
const podOf = (d: Obj) => (d.spec as { template: { spec: PodSpec } }).template.spec;

/** What the controller does; RBAC must not allow more (no wildcards, no escalate/bind/impersonate). */
const ALLOWED: Record<string, string[]> = {
  'simops.dev': ['get', 'list', 'watch', 'create', 'update', 'patch', 'delete'],
  '': ['get', 'list', 'watch', 'create', 'patch', 'delete'],
  'coordination.k8s.io': ['get', 'create', 'update'],
};

const NON_DEFAULT = [
  'worker.enabled=true',
  'redis.enabled=true',
  'metrics.serviceMonitor.enabled=true',
  'controller.leaderElection=false',
  'controller.replicas=1',
  'bootstrap.gitSource.enabled=true',
  'bootstrap.gitSource.url=https://git.example.com/lab.git',
  'artifacts.existingClaim=simops-artifacts',
  'controller.shards={shard1,shard2}',
];

describe('Helm chart', () => {
  it('lints with default and non-default values', async () => {
    await run(helm, ['lint', '--strict', chart]);
    await run(helm, ['lint', '--strict', chart, ...NON_DEFAULT.flatMap((s) => ['--set', s])]);
  });

  it('renders least-privilege RBAC: no wildcards, only the verbs the controller uses', async () => {
    for (const objects of [await template(), await template(...NON_DEFAULT)]) {
      const roles = objects.filter((d) => d.kind === 'ClusterRole' || d.kind === 'Role');
      assert.ok(roles.length >= 1);
      for (const role of roles) {
        for (const rule of role.rules as { apiGroups: string[]; resources: string[]; verbs: string[] }[]) {
          assert.ok(
            !rule.verbs.includes('*') && !rule.resources.includes('*') && !rule.apiGroups.includes('*'),
            JSON.stringify(rule),
          );
          for (const g of rule.apiGroups) {
            for (const v of rule.verbs)
              assert.ok(ALLOWED[g]?.includes(v), `${role.metadata.name}: ${v} on ${g}/${rule.resources}`);
          }
        }
      }
      const secretRules = roles
        .flatMap((r) => r.rules as { resources: string[]; verbs: string[] }[])
        .filter((r) => r.resources.includes('secrets'));
      assert.ok(
        secretRules.every((r) => !r.verbs.includes('update')),
        'secrets are never updated in place',
      );
    }
  });

  it('renders hardened pods with probes', async () => {
    for (const objects of [await template(), await template(...NON_DEFAULT)]) {
      const simopsDeployments = objects.filter(
        (d) => d.kind === 'Deployment' && !d.metadata.name.endsWith('-redis'),
      );
      assert.ok(simopsDeployments.length >= 1);
      for (const d of simopsDeployments) {
        const pod = podOf(d);
        assert.equal(pod.securityContext.runAsNonRoot, true);
        for (const c of pod.containers) {
          assert.ok(c.livenessProbe && c.readinessProbe, `${d.metadata.name} has probes`);
          assert.equal(c.securityContext.allowPrivilegeEscalation, false);
          assert.equal(c.securityContext.readOnlyRootFilesystem, true);
          assert.deepEqual(c.securityContext.capabilities.drop, ['ALL']);
        }
      }
    }
  });

  it('wires values: leader election, workers and Redis, ServiceMonitor, bootstrap GitSource, artifact claim', async () => {
    const defaults = await template();
    const controller = podOf(defaults.find((d) => d.metadata.name === 'simops-controller')!).containers[0]!;
    assert.ok(!controller.args.includes('--no-leader-elect'));
    assert.ok(defaults.some((d) => d.kind === 'Role' && d.metadata.name.includes('leader-election')));
    assert.ok(
      !defaults.some(
        (d) => d.kind === 'GitSource' || d.kind === 'ServiceMonitor' || d.metadata.name.endsWith('-worker'),
      ),
    );

    const custom = await template(...NON_DEFAULT);
    const c2 = podOf(custom.find((d) => d.metadata.name === 'simops-controller')!).containers[0]!;
    assert.ok(c2.args.includes('--no-leader-elect'));
    assert.equal(c2.env?.find((e) => e.name === 'REDIS_URL')?.value, 'redis://simops-redis:6379');
    const worker = custom.find((d) => d.metadata.name === 'simops-worker');
    assert.equal(podOf(worker!).containers[0]!.args[0], 'worker');
    const gs = custom.find((d) => d.kind === 'GitSource')!;
    assert.equal((gs.spec as { url: string }).url, 'https://git.example.com/lab.git');
    assert.ok(custom.some((d) => d.kind === 'ServiceMonitor'));
    assert.match(JSON.stringify(custom), /"claimName":"simops-artifacts"/);
  });

  it('renders one controller Deployment per shard, and the main one taking every other object', async () => {
    type Workload = Obj & {
      spec: {
        selector: { matchLabels: Record<string, string> };
        template: { metadata: { labels: Record<string, string> } };
      };
    };
    const defaults = await template();
    const main0 = podOf(defaults.find((d) => d.metadata.name === 'simops-controller')!).containers[0]!;
    assert.ok(!main0.args.some((a) => a.startsWith('--shard') || a.startsWith('--watch-label-selector')));

    const objects = await template('controller.shards={shard1,shard2}');
    const controllers = objects.filter(
      (d): d is Workload => d.kind === 'Deployment' && d.metadata.name.startsWith('simops-controller'),
    );
    assert.deepEqual(controllers.map((d) => d.metadata.name).sort(), [
      'simops-controller',
      'simops-controller-shard1',
      'simops-controller-shard2',
    ]);
    const argsOf = (name: string) =>
      podOf(controllers.find((d) => d.metadata.name === name)!).containers[0]!.args;
    const sharding = (args: string[]) => ({
      shard: args.find((a) => a.startsWith('--shard='))?.slice('--shard='.length),
      watchLabelSelector: args
        .find((a) => a.startsWith('--watch-label-selector='))
        ?.slice('--watch-label-selector='.length),
    });
    const main = sharding(argsOf('simops-controller'));
    assert.deepEqual(main, {
      shard: undefined,
      watchLabelSelector: 'simops.dev/shard notin (shard1,shard2)',
    });
    assert.deepEqual(sharding(argsOf('simops-controller-shard1')), {
      shard: 'shard1',
      watchLabelSelector: undefined,
    });
    // What the controller accepts, and picks the objects meant for it.
    for (const d of controllers) assert.equal(shardingError(sharding(argsOf(d.metadata.name))), undefined);
    const pick = (name: string, labels: Record<string, string>) =>
      inShard(watchSelector(sharding(argsOf(name))))({
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: 'x', labels },
      });
    for (const [labels, owner] of [
      [{}, 'simops-controller'],
      [{ 'simops.dev/shard': 'shard1' }, 'simops-controller-shard1'],
      [{ 'simops.dev/shard': 'shard2' }, 'simops-controller-shard2'],
      [{ 'simops.dev/shard': 'retired' }, 'simops-controller'],
    ] as const) {
      const owners = controllers.map((d) => d.metadata.name).filter((n) => pick(n, labels));
      assert.deepEqual(owners, [owner], JSON.stringify(labels));
    }
    // No Deployment's selector picks another's pods; each shard has a metrics Service on its own pods.
    for (const d of controllers) {
      for (const other of controllers) {
        const picks = Object.entries(d.spec.selector.matchLabels).every(
          ([k, v]) => other.spec.template.metadata.labels[k] === v,
        );
        assert.equal(picks, d === other, `${d.metadata.name} selects the pods of ${other.metadata.name}`);
      }
    }
    const services = objects.filter(
      (d) => d.kind === 'Service' && d.metadata.name.startsWith('simops-metrics'),
    );
    assert.deepEqual(services.map((d) => d.metadata.name).sort(), [
      'simops-metrics',
      'simops-metrics-shard1',
      'simops-metrics-shard2',
    ]);
    const shard1 = services.find((d) => d.metadata.name === 'simops-metrics-shard1')!;
    assert.deepEqual(
      (shard1.spec as { selector: Record<string, string> }).selector,
      controllers.find((d) => d.metadata.name === 'simops-controller-shard1')!.spec.selector.matchLabels,
    );
  });

  it('refuses invalid values with the schema, and workers without Redis', async () => {
    await assert.rejects(
      run(helm, ['template', 'x', chart, '--set', 'controller.replicas=many']),
      /replicas/,
    );
    await assert.rejects(run(helm, ['template', 'x', chart, '--set', 'worker.enabled=true']), /needs Redis/);
    for (const shards of ['{Shard_1}', '{a,a}'])
      await assert.rejects(
        run(helm, ['template', 'x', chart, '--set', `controller.shards=${shards}`]),
        /shards/,
        shards,
      );
  });

  it('keeps the CRDs in crds/ (installed, never deleted by helm)', async () => {
    const { stdout } = await run(helm, ['show', 'crds', chart]);
    assert.equal(docs(stdout).filter((d) => d.kind === 'CustomResourceDefinition').length, 6);
  });
});

describe('kustomize base', () => {
  it('builds with the real kubectl: namespace, CRDs, RBAC and the controller', async () => {
    const objects = docs((await run(kubectlPath, ['kustomize', `${root}manifests`])).stdout);
    const kinds = objects.map((d) => d.kind);
    for (const k of [
      'Namespace',
      'CustomResourceDefinition',
      'ServiceAccount',
      'ClusterRole',
      'Deployment',
    ]) {
      assert.ok(kinds.includes(k), k);
    }
    assert.equal(kinds.filter((k) => k === 'CustomResourceDefinition').length, 6);
  });

  it('is the chart rendered with default values (node scripts/gen-manifests.ts is up to date)', async () => {
    const { readFileSync } = await import('node:fs');
    assert.equal(readFileSync(`${root}manifests/install.yaml`, 'utf8'), renderInstall());
  });
});
