// The real kubectl against the embedded API server: every command a SimOps user relies on.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import type { Embedded } from '../apiserver/embedded.ts';
import { kinds } from '../crds/index.ts';
import { startTestServer } from './helpers/embedded.ts';
import { type KubectlResult, kubectl } from './helpers/kubectl.ts';

const examples = new URL('../examples/manifests/', import.meta.url).pathname;
let api: Embedded;
const k = (args: string[], input?: string, timeoutMs?: number) =>
  kubectl(args, { kubeconfig: api.kubeconfigPath, input, timeoutMs });
const ok = async (args: string[], input?: string): Promise<string> => {
  const r = await k(args, input);
  assert.equal(r.code, 0, `kubectl ${args.join(' ')}\n${r.stderr}`);
  return r.stdout;
};
const headerOf = (table: string) =>
  table
    .split('\n')[0]!
    .trim()
    .split(/\s{2,}/);

const sandbox = (name: string, extra = '') => `apiVersion: simops.dev/v1alpha1
kind: Sandbox
metadata:
  name: ${name}
  namespace: default
spec:
  simulatorRef:
    name: booking
  timeoutSeconds: 600
${extra}`;

/** Runs a long-lived kubectl and resolves once its stdout matches. */
const until = (pattern: RegExp, run: Promise<KubectlResult>, seen: () => string) =>
  new Promise<void>((resolve, reject) => {
    const timer = setInterval(() => {
      if (pattern.test(seen())) {
        clearInterval(timer);
        resolve();
      }
    }, 20);
    run.then(
      (r) => {
        clearInterval(timer);
        if (pattern.test(r.stdout)) resolve();
        else reject(new Error(`never saw ${pattern}: ${r.stdout}\n${r.stderr}`));
      },
      (e) => {
        clearInterval(timer);
        reject(e);
      },
    );
  });

describe('kubectl against the embedded API server', () => {
  before(async () => {
    api = await startTestServer();
    await ok(['apply', '-R', '-f', `${examples}`]);
  });
  after(() => api.stop());

  it('lists every SimOps kind in api-resources with its short name and the simops category', async () => {
    const out = await ok(['api-resources', '--api-group=simops.dev', '-o', 'wide']);
    for (const def of kinds) {
      const line = out.split('\n').find((l) => l.startsWith(`${def.plural} `));
      assert.ok(line, `${def.plural} in api-resources`);
      assert.match(line, new RegExp(`\\b${def.shortNames[0]}\\b`));
      assert.match(line, /simops/);
    }
  });

  it('gets every kind with its printer columns, by plural and by short name', async () => {
    for (const def of kinds) {
      const byName = await ok(['get', def.plural]);
      const wanted = [
        'NAME',
        ...def.printerColumns.filter((c) => !c.priority).map((c) => c.name.toUpperCase()),
      ];
      assert.deepEqual(headerOf(byName), wanted, def.kind);
      // The same table by short name (AGE may tick between the two calls).
      const byShort = await ok(['get', def.shortNames[0]!]);
      const withoutAge = (t: string) => t.split('\n').map((l) => l.replace(/\s+\S+$/, ''));
      assert.deepEqual(withoutAge(byShort), withoutAge(byName));
    }
    const wide = await ok(['get', 'sbx', '-o', 'wide']);
    assert.ok(headerOf(wide).includes('RUNTIME'));
    assert.match(wide, /booking-dev\s+booking\s+.*process/);
  });

  it('lists the whole simops category', async () => {
    const out = await ok(['get', 'simops']);
    for (const kind of [
      'simulator.simops.dev/booking',
      'sandbox.simops.dev/booking-dev',
      'machine.simops.dev/lh-1',
    ]) {
      assert.match(out, new RegExp(kind));
    }
  });

  it('prints objects as YAML', async () => {
    const out = await ok(['get', 'sbx', 'booking-dev', '-o', 'yaml']);
    assert.match(out, /kind: Sandbox/);
    assert.match(out, /uid: [0-9a-f-]{36}/);
    assert.match(out, /heartbeatIntervalSeconds: 30/, 'schema defaults are applied');
  });

  it('applies client-side twice: created, then unchanged', async () => {
    const yaml = sandbox('apply-twice');
    assert.match(await ok(['apply', '-f', '-'], yaml), /sandbox.simops.dev\/apply-twice created/);
    assert.match(await ok(['apply', '-f', '-'], yaml), /sandbox.simops.dev\/apply-twice unchanged/);
    assert.match(await ok(['apply', '-f', '-'], yaml.replace('600', '700')), /configured/);
  });

  it('applies server-side, and reports a conflict with another manager', async () => {
    const yaml = sandbox('ssa');
    assert.match(await ok(['apply', '--server-side', '-f', '-'], yaml), /serverside-applied/);
    assert.match(await ok(['apply', '--server-side', '-f', '-'], yaml), /serverside-applied/);
    const other = await k(
      ['apply', '--server-side', '--field-manager=someone-else', '-f', '-'],
      yaml.replace('600', '900'),
    );
    assert.notEqual(other.code, 0);
    assert.match(other.stderr, /conflict with "kubectl".*spec\.timeoutSeconds/s);
    await ok(
      ['apply', '--server-side', '--force-conflicts', '--field-manager=someone-else', '-f', '-'],
      yaml.replace('600', '900'),
    );
    assert.equal(await ok(['get', 'sbx', 'ssa', '-o', 'jsonpath={.spec.timeoutSeconds}']), '900');
  });

  it('diffs: exit 1 on a change and nothing changes on the server', async () => {
    await ok(['apply', '-f', '-'], sandbox('diffed'));
    const before = await ok(['get', 'sbx', 'diffed', '-o', 'json']);
    const r = await k(['diff', '-f', '-'], sandbox('diffed').replace('600', '601'));
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /-\s+timeoutSeconds: 600/);
    assert.match(r.stdout, /\+\s+timeoutSeconds: 601/);
    assert.equal(await ok(['get', 'sbx', 'diffed', '-o', 'json']), before);
    assert.equal((await k(['diff', '-f', '-'], sandbox('diffed'))).code, 0);
    // The object was created by client-side apply, so a server-side diff must force ownership.
    const ssa = await k(
      ['diff', '--server-side', '--force-conflicts', '-f', '-'],
      sandbox('diffed').replace('600', '602'),
    );
    assert.equal(ssa.code, 1, ssa.stderr);
    assert.equal(await ok(['get', 'sbx', 'diffed', '-o', 'json']), before);
  });

  it('patches with merge and JSON patches; an identical patch is no change', async () => {
    await ok(['apply', '-f', '-'], sandbox('patched'));
    assert.match(
      await ok(['patch', 'sbx', 'patched', '--type=merge', '-p', '{"spec":{"dataset":"data"}}']),
      /patched$/m,
    );
    assert.match(
      await ok(['patch', 'sbx', 'patched', '--type=merge', '-p', '{"spec":{"dataset":"data"}}']),
      /patched \(no change\)/,
    );
    await ok([
      'patch',
      'sbx',
      'patched',
      '--type=json',
      '-p',
      '[{"op":"replace","path":"/spec/timeoutSeconds","value":5}]',
    ]);
    const spec = JSON.parse(await ok(['get', 'sbx', 'patched', '-o', 'jsonpath={.spec}']));
    assert.equal(spec.dataset, 'data');
    assert.equal(spec.timeoutSeconds, 5);
    assert.equal(await ok(['get', 'sbx', 'patched', '-o', 'jsonpath={.metadata.generation}']), '3');
    const bad = await k(['patch', 'sbx', 'patched', '--type=merge', '-p', '{"spec":{"runtime":"vm"}}']);
    assert.notEqual(bad.code, 0);
    assert.match(bad.stderr, /spec\.runtime: Unsupported value: "vm"/);
  });

  it('watches: get -w prints a later change', async () => {
    await ok(['apply', '-f', '-'], sandbox('watched'));
    let out = '';
    const child = kubectl(['get', 'sbx', 'watched', '-w'], {
      kubeconfig: api.kubeconfigPath,
      timeoutMs: 8000,
    });
    const seen = () => out;
    // kubectl prints the current row first; then the change arrives as a new row.
    const proc = child.then((r) => {
      out = r.stdout;
      return r;
    });
    await new Promise((r) => setTimeout(r, 1000));
    await ok([
      'patch',
      'sbx',
      'watched',
      '--subresource=status',
      '--type=merge',
      '-p',
      '{"status":{"phase":"Stopped","endpoint":"http://127.0.0.1:9"}}',
    ]);
    await until(/watched\s+booking\s+Stopped/, proc, seen);
  });

  it('describes an object with its Events', async () => {
    const uid = await ok(['get', 'sbx', 'booking-dev', '-o', 'jsonpath={.metadata.uid}']);
    const event = (name: string, n: string, reason: string, message: string) => `apiVersion: v1
kind: Event
metadata: {name: ${name}, namespace: default}
involvedObject: {apiVersion: simops.dev/v1alpha1, kind: Sandbox, name: ${n}, namespace: default, uid: "${uid}"}
reason: ${reason}
message: ${message}
type: Normal
firstTimestamp: "${new Date().toISOString().slice(0, 19)}Z"
lastTimestamp: "${new Date().toISOString().slice(0, 19)}Z"
count: 1
source: {component: simops}
`;
    await ok(
      ['create', '-f', '-'],
      event('booking-dev.a', 'booking-dev', 'ServicesStarted', 'web is listening'),
    );
    await ok(['create', '-f', '-'], event('other.b', 'other', 'Unrelated', 'must not show'));
    const out = await ok(['describe', 'sbx', 'booking-dev']);
    assert.match(out, /Events:[\s\S]*ServicesStarted\s+.*simops\s+web is listening/);
    assert.doesNotMatch(out, /must not show/);
  });

  it('deletes an object with a finalizer once the finalizer is removed', async () => {
    await ok(
      ['apply', '-f', '-'],
      sandbox('finalized').replace('metadata:\n', 'metadata:\n  finalizers: [simops.dev/cleanup]\n'),
    );
    const deleting = k(['delete', 'sbx', 'finalized', '--timeout=20s'], undefined, 25_000);
    await new Promise((r) => setTimeout(r, 700));
    assert.match(
      await ok(['get', 'sbx', 'finalized', '-o', 'jsonpath={.metadata.deletionTimestamp}']),
      /^\d{4}-/,
    );
    await ok([
      'patch',
      'sbx',
      'finalized',
      '--type=json',
      '-p',
      '[{"op":"remove","path":"/metadata/finalizers"}]',
    ]);
    const r = await deleting;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /deleted/);
    const gone = await k(['get', 'sbx', 'finalized']);
    assert.match(gone.stderr, /NotFound|not found/);
  });

  it('wait --for=condition=Ready returns within a second of the condition being set', async () => {
    await ok(['apply', '-f', '-'], sandbox('waited'));
    const started = k(['wait', '--for=condition=Ready', 'sbx/waited', '--timeout=30s'], undefined, 35_000);
    await new Promise((r) => setTimeout(r, 1500));
    const condition = {
      type: 'Ready',
      status: 'True',
      reason: 'Running',
      message: 'up',
      lastTransitionTime: `${new Date().toISOString().slice(0, 19)}Z`,
    };
    const setAt = performance.now();
    await ok([
      'patch',
      'sbx',
      'waited',
      '--subresource=status',
      '--type=merge',
      '-p',
      JSON.stringify({ status: { conditions: [condition] } }),
    ]);
    const r = await started;
    const latency = performance.now() - setAt;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /condition met/);
    assert.ok(latency < 1000, `wait returned ${Math.round(latency)} ms after the condition was set`);
  });

  it('explains sandbox.spec from the OpenAPI schema', async () => {
    const out = await ok(['explain', 'sandbox.spec']);
    assert.match(out, /KIND:\s+Sandbox/);
    assert.match(out, /simulatorRef\s+<Object> -required-/);
    assert.match(out, /runtime\s+<string>/);
    assert.match(out, /process: child processes on this host/);
  });

  it('validates apply against the schema (strict field validation) and names the field', async () => {
    const r = await k(['apply', '-f', '-'], sandbox('strict', '  bogus: 1\n'));
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /unknown field "spec.bogus"/);
  });

  it('does not write the examples again when they are applied again', async () => {
    // kubectl says "configured" for objects whose lists carry server defaults (it re-sends the
    // list), as with any CRD; what matters is that nothing is written.
    const versions = async () => ok(['get', 'simops', '-o', 'jsonpath={.items[*].metadata.resourceVersion}']);
    const before = await versions();
    const out = await ok(['apply', '-R', '-f', examples]);
    assert.doesNotMatch(out, /created/);
    assert.equal(await versions(), before);
    assert.ok(readFileSync(api.kubeconfigPath, 'utf8').includes('certificate-authority-data'));
  });
});
