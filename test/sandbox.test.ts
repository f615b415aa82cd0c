// Simulator and Sandbox end to end, as `simops up` runs them: the embedded API server, SimOps'
// controllers, a real git repository holding the demo of examples/, real child processes, real
// headless Chromium (Debian's chromium through playwright-core) and the real kubectl.
import assert from 'node:assert/strict';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { type Running, runController } from '../controller/run.ts';
import { getCondition } from '../controller/runtime/conditions.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import type { Condition } from '../crds/common.ts';
import type { SandboxStatus } from '../crds/sandbox.ts';
import type { SimulatorStatus } from '../crds/simulator.ts';
import { RUN_FLOWS } from '../reconcilers/sandbox/decide.ts';
import { POD, SERVICE } from '../reconcilers/sandbox/kubernetes-runtime.ts';
import {
  applySource,
  demoFiles,
  eventsOf,
  eventually,
  ready,
  SANDBOX,
  SIMULATOR,
  sync,
  yaml,
} from './helpers/demo.ts';
import { startTestServer } from './helpers/embedded.ts';
import { createRepo, type TestRepo } from './helpers/git.ts';
import { kubectl } from './helpers/kubectl.ts';
import { processesUnder, settledProcessesUnder } from './helpers/processes.ts';
import { tempDir } from './helpers/tmp.ts';

const PNG = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

describe('Simulator and Sandbox from git', () => {
  let api: Embedded;
  let running: Running;
  let repo: TestRepo;
  const artifactDir = tempDir('simops-artifacts-');
  const kc = new KubeConfig();
  const client = () => running.manager.client;
  const sandbox = async (name: string) => (await client().get(SANDBOX, 'default', name))!;
  const statusOf = async (name: string) => ((await sandbox(name)).status ?? {}) as SandboxStatus;
  const waitPhase = (name: string, phase: string, timeoutMs?: number) =>
    eventually(
      `${name} ${phase}`,
      async () => {
        const s = await statusOf(name);
        return s.phase === phase && s;
      },
      timeoutMs,
    );

  before(async () => {
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: tempDir('simops-git-'),
      artifactDir,
      processRuntime: true,
      health: { host: '127.0.0.1', port: 0 },
    });
    repo = createRepo();
    repo.commit(demoFiles());
    await applySource(client(), repo);
  });
  after(async () => {
    await running.stop();
    await api.stop();
    assert.deepEqual(processesUnder(artifactDir), [], 'no sandbox process outlives the controller');
  });

  it('brings the demo Sandbox to Ready, and the login flow passes in Chromium with PNG screenshots', async () => {
    const s = await eventually(
      'the login flow',
      async () => {
        const st = await statusOf('booking-dev');
        const done = ['login', 'smoke'].every((f) =>
          st.flowRuns?.some((r) => r.flow === f && r.result !== 'Running'),
        );
        return done && st.phase === 'Ready' && st;
      },
      30_000,
    );
    assert.equal(s.phase, 'Ready');
    assert.equal(ready(await sandbox('booking-dev'))?.status, 'True');
    assert.match(s.endpoint ?? '', /^http:\/\/127\.0\.0\.1:\d+$/);
    const login = s.flowRuns!.find((r) => r.flow === 'login')!;
    assert.equal(login.result, 'Passed', login.message);
    assert.deepEqual(
      login.steps?.map((x) => [x.type, x.result]),
      [
        ['navigate', 'Passed'],
        ['screenshot', 'Passed'],
        ['fill', 'Passed'],
        ['fill', 'Passed'],
        ['click', 'Passed'],
        ['wait_for', 'Passed'],
        ['assert_text', 'Passed'],
        ['verify_no_errors', 'Passed'],
        ['screenshot', 'Passed'],
      ],
    );
    assert.equal(login.screenshots?.length, 2);
    for (const shot of login.screenshots!) {
      assert.ok(shot.startsWith(artifactDir), shot);
      const bytes = readFileSync(shot);
      assert.ok(bytes.subarray(0, 8).equals(PNG), `${shot} is a PNG`);
      assert.ok(bytes.length > 1000, `${shot} is not empty (${bytes.length} bytes)`);
    }
    assert.ok(existsSync(`${login.artifacts}/result.json`));
    // The service's output is a log artifact; the working directory is a copy of the repository.
    const web = s.services?.find((x) => x.name === 'web');
    assert.equal(web?.state, 'Running');
    assert.match(readFileSync(web!.log!, 'utf8'), /booking demo on http:\/\/127\.0\.0\.1:\d+/);
    assert.ok(existsSync(`${s.workDir}/app/server.mjs`));
    await eventually('FlowsPassed', async () => {
      const c = getCondition(
        ((await statusOf('booking-dev')) as { conditions?: Condition[] }).conditions,
        'FlowsPassed',
      );
      return c?.status === 'True' && c;
    });
    const metrics = await (await fetch(`${running.healthUrl}/metrics`)).text();
    assert.match(metrics, /simops_flow_runs_total\{result="Passed"\} [1-9]/);
    assert.match(metrics, /simops_sandbox_start_seconds_count\{runtime="process"\} [1-9]/);
    const reasons = (await eventsOf(client(), 'booking-dev')).map((e) => e.reason);
    assert.ok(reasons.includes('Ready') && reasons.includes('FlowPassed'), reasons.join(','));
    // The Simulator read its config from the same commit.
    const sim = (await client().get(SIMULATOR, 'default', 'booking'))!.status as SimulatorStatus;
    assert.equal(sim.phase, 'Development');
    assert.deepEqual([...(sim.flows ?? [])].sort(), ['login', 'smoke']);
    assert.match(sim.configHash ?? '', /^sha256:[0-9a-f]{16}$/);
  });

  it('fails a flow with a wrong selector at that step, with a clear message, and skips the rest', async () => {
    const sim = readFileSync(
      new URL('../examples/manifests/simulators/booking.yaml', import.meta.url),
      'utf8',
    );
    const broken = sim.replace(
      '  flows:\n',
      `  flows:
    - name: broken-login
      steps:
        - {type: navigate, url: /login}
        - {type: fill, selector: "#emial", value: admin@example.com, timeoutMs: 1000}
        - {type: click, selector: "button[type='submit']"}
`,
    );
    const before = (await statusOf('booking-dev')).endpoint;
    await sync(client(), repo, { 'manifests/simulators/booking.yaml': broken });
    await eventually('the broken flow is known', async () =>
      (
        (await client().get(SIMULATOR, 'default', 'booking'))?.status as SimulatorStatus | undefined
      )?.flows?.includes('broken-login'),
    );
    await client().mergePatch(SANDBOX, 'default', 'booking-dev', {
      metadata: { annotations: { [RUN_FLOWS]: 'broken-login' } },
    });
    const run = await eventually('the broken flow ran', async () => {
      const r = (await statusOf('booking-dev')).flowRuns?.find((x) => x.flow === 'broken-login');
      return r && r.result !== 'Running' && r;
    });
    assert.equal(run.result, 'Failed');
    assert.equal(run.trigger, 'annotation');
    assert.equal(run.message, 'step 2 (fill #emial) failed: no element matches "#emial" within 1000 ms');
    assert.deepEqual(
      run.steps?.map((x) => x.result),
      ['Passed', 'Failed', 'Skipped'],
    );
    assert.match(run.steps![1]!.screenshot ?? '', /failed-step-2\.png$/);
    const s = await statusOf('booking-dev');
    assert.equal(s.lastHandledRunFlows, 'broken-login');
    assert.equal(s.endpoint, before, 'a flow change does not restart the sandbox');
    const flows = getCondition(
      ((await statusOf('booking-dev')) as { conditions?: Condition[] }).conditions,
      'FlowsPassed',
    );
    assert.equal(flows?.status, 'False');
    assert.match(flows?.message ?? '', /broken-login: step 2/);
    const warning = (await eventsOf(client(), 'booking-dev')).find((e) => e.reason === 'FlowFailed');
    assert.equal(warning?.type, 'Warning');
  });

  it('kubectl get simulators,sandboxes shows phase, Ready and endpoint', async () => {
    const r = await kubectl(['get', 'simulators,sandboxes'], { kubeconfig: api.kubeconfigPath });
    assert.equal(r.code, 0, r.stderr);
    const endpoint = (await statusOf('booking-dev')).endpoint!;
    assert.match(r.stdout, /NAME\s+SERVICE\s+PHASE\s+READY\s+PRODUCTION\s+AGE/);
    assert.match(r.stdout, /simulator\.simops\.dev\/booking\s+booking\s+Development\s+True\s+/);
    assert.match(r.stdout, /NAME\s+SIMULATOR\s+PHASE\s+READY\s+ENDPOINT\s+AGE/);
    assert.match(
      r.stdout,
      new RegExp(
        `sandbox\\.simops\\.dev/booking-dev\\s+booking\\s+Ready\\s+True\\s+${endpoint.replace(/\./g, '\\.')}\\s`,
      ),
    );
  });

  it('keeps Secret values out of logs, status and events', async () => {
    const secret = 'pa55-w0rd-9f3a';
    await sync(client(), repo, {
      'manifests/secret.yaml': yaml({
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'echo-secrets', namespace: 'default' },
        stringData: { API_TOKEN: secret },
      }),
      'app/echo.mjs': `import { createServer } from 'node:http';
console.log('token is ' + process.env.API_TOKEN + ', home is ' + process.env.HOME + ', kubeconfig is ' + process.env.KUBECONFIG);
createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
`,
      'manifests/simulators/echo.yaml': yaml({
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Simulator',
        metadata: { name: 'echo', namespace: 'default' },
        spec: {
          service: 'echo',
          datasets: {
            base: {
              compute: { appPort: 80 },
              services: {
                web: {
                  type: 'process',
                  command: 'node',
                  args: ['app/echo.mjs'],
                  env: { PORT: '$(SIMOPS_PORT_HTTP)' },
                  envFrom: [{ secretRef: { name: 'echo-secrets' } }],
                },
              },
              listeners: [{ name: 'http', port: 80, protocol: 'tcp' }],
            },
          },
        },
      }),
      'manifests/sandboxes/echo.yaml': yaml({
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Sandbox',
        metadata: { name: 'echo', namespace: 'default' },
        spec: { simulatorRef: { name: 'echo' }, source: { config: true } },
      }),
    });
    const s = await waitPhase('echo', 'Ready');
    const log = readFileSync(s.services![0]!.log!, 'utf8');
    assert.match(log, /token is \[redacted\], home is \/.*\/work, kubeconfig is undefined/);
    assert.ok(!log.includes(secret));
    const everything = JSON.stringify([await sandbox('echo'), await eventsOf(client(), 'echo')]);
    assert.ok(!everything.includes(secret));
  });

  it('runs the kubernetes runtime as one Pod and a Service owned by the Sandbox', async () => {
    await sync(client(), repo, {
      'manifests/simulators/booking-compose.yaml': yaml({
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Simulator',
        metadata: { name: 'booking-compose', namespace: 'default' },
        spec: {
          service: 'booking',
          datasets: {
            base: {
              compute: { cpus: 2, memoryMiB: 1024, diskMiB: 2048, appPort: 8080 },
              services: {
                app: {
                  type: 'compose',
                  file: 'app/docker-compose.yml',
                  envFrom: [{ secretRef: { name: 'echo-secrets' } }],
                },
              },
              listeners: [{ name: 'web', port: 8080, protocol: 'http', path: '/healthz' }],
            },
          },
        },
      }),
      'manifests/sandboxes/booking-k8s.yaml': yaml({
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Sandbox',
        metadata: { name: 'booking-k8s', namespace: 'default' },
        spec: { simulatorRef: { name: 'booking-compose' }, runtime: 'kubernetes', source: { config: true } },
      }),
    });
    const sbx = await sandbox('booking-k8s');
    const pod = await eventually('the Pod', () => client().get(POD, 'default', 'sbx-booking-k8s'));
    const svc = (await client().get(SERVICE, 'default', 'sbx-booking-k8s'))!;
    const owner = [
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Sandbox',
        name: 'booking-k8s',
        uid: sbx.metadata.uid,
        controller: true,
        blockOwnerDeletion: true,
      },
    ];
    const plain = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
    assert.deepEqual(plain(pod.metadata.ownerReferences), owner);
    assert.deepEqual(plain(svc.metadata.ownerReferences), owner);
    const containers = plain((pod.spec as { containers: Record<string, unknown>[] }).containers);
    assert.deepEqual(
      containers.map((c) => [c.name, c.image, c.args]),
      [['web', 'node:24-slim', ['node', '/app/server.mjs']]],
    );
    assert.deepEqual(containers[0]!.env, [
      { name: 'SIMOPS_PORT_WEB', value: '8080' },
      { name: 'PORT', value: '8080' },
    ]);
    assert.deepEqual(containers[0]!.envFrom, [{ secretRef: { name: 'echo-secrets' } }]);
    assert.deepEqual(containers[0]!.ports, [{ containerPort: 8080, protocol: 'TCP' }]);
    assert.deepEqual(containers[0]!.resources, {
      requests: { cpu: '2000m', memory: '1024Mi', 'ephemeral-storage': '2048Mi' },
      limits: { cpu: '2000m', memory: '1024Mi', 'ephemeral-storage': '2048Mi' },
    });
    assert.deepEqual(plain((svc.spec as { ports: unknown }).ports), [
      { name: 'web', port: 8080, targetPort: 8080, protocol: 'TCP' },
    ]);
    // No kubelet here: the sandbox waits for the Pod, and goes Ready when a node reports it Ready.
    const waiting = await waitPhase('booking-k8s', 'StartingServices');
    assert.equal(waiting.endpoint, undefined);
    await patchPodStatus(api, {
      phase: 'Running',
      conditions: [{ type: 'Ready', status: 'True' }],
      containerStatuses: [{ name: 'web', ready: true, restartCount: 0, state: { running: {} } }],
    });
    const s = await waitPhase('booking-k8s', 'Ready');
    assert.equal(s.endpoint, 'http://sbx-booking-k8s.default.svc:8080');
    assert.deepEqual(plain(s.services), [{ name: 'web', state: 'Running', restarts: 0 }]);
    const pods = await kubectl(['get', 'pods,services', '-l', 'simops.dev/sandbox=booking-k8s'], {
      kubeconfig: api.kubeconfigPath,
    });
    assert.match(pods.stdout, /pod\/sbx-booking-k8s\s+Running/);
    assert.match(pods.stdout, /service\/sbx-booking-k8s\s+ClusterIP\s+8080\/TCP/);
    // Deleted with the Sandbox.
    await client().delete(SANDBOX, 'default', 'booking-k8s');
    await eventually('the Pod and Service are gone', async () => {
      const gone =
        !(await client().get(POD, 'default', 'sbx-booking-k8s')) &&
        !(await client().get(SERVICE, 'default', 'sbx-booking-k8s')) &&
        !(await client().get(SANDBOX, 'default', 'booking-k8s'));
      return gone;
    });
  });

  it('removes the working directory and every process of a deleted sandbox', async () => {
    const s = await statusOf('booking-dev');
    const workDir = s.workDir!;
    assert.ok(processesUnder(workDir).length > 0, 'the demo runs in its working directory');
    await sync(client(), repo, { 'manifests/sandboxes/booking-dev.yaml': null });
    await eventually(
      'booking-dev deleted',
      async () => !(await client().get(SANDBOX, 'default', 'booking-dev')),
    );
    assert.deepEqual(await settledProcessesUnder(workDir), []);
    assert.equal(existsSync(workDir), false);
    assert.ok(
      statSync(`${artifactDir}/sandboxes/default/booking-dev/logs`).isDirectory(),
      'logs are artifacts: kept',
    );
  });
});

/** What a kubelet would write: the Pod's status. */
const patchPodStatus = async (api: Embedded, status: Record<string, unknown>) => {
  const kc = new KubeConfig();
  kc.loadFromFile(api.kubeconfigPath);
  const { CoreV1Api, PatchStrategy, setHeaderOptions } = await import('@kubernetes/client-node');
  await kc
    .makeApiClient(CoreV1Api)
    .patchNamespacedPodStatus(
      { name: 'sbx-booking-k8s', namespace: 'default', body: { status } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
};
