// `simops plan` for pull-request CI: exit 0 no change, 1 changes, 2 invalid.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import { parse } from 'yaml';
import type { Embedded } from '../apiserver/embedded.ts';
import { KubeClient } from '../controller/runtime/kube-client.ts';
import { labelled } from '../reconcilers/git-source/desired.ts';
import { startTestServer } from './helpers/embedded.ts';
import { tempDir } from './helpers/tmp.ts';

const bin = new URL('../bin/simops.js', import.meta.url).pathname;
const machine = (name: string, category: string) =>
  `apiVersion: simops.dev/v1alpha1\nkind: Machine\nmetadata:\n  name: ${name}\nspec:\n  category: ${category}\n`;

describe('simops plan', () => {
  let api: Embedded;
  let client: KubeClient;
  const dir = tempDir('simops-plan-');
  // Asynchronous: the API server runs in this process and must keep answering.
  const plan = (...extra: string[]) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      const child = spawn(process.execPath, [
        bin,
        'plan',
        dir,
        '--kubeconfig',
        api.kubeconfigPath,
        '--source',
        'default/lab',
        ...extra,
      ]);
      let stdout = '';
      let stderr = '';
      child.stdout.setEncoding('utf8').on('data', (d: string) => {
        stdout += d;
      });
      child.stderr.setEncoding('utf8').on('data', (d: string) => {
        stderr += d;
      });
      child.on('close', (status) => resolve({ status, stdout, stderr }));
    });

  before(async () => {
    api = await startTestServer();
    const kc = new KubeConfig();
    kc.loadFromFile(api.kubeconfigPath);
    client = new KubeClient(kc);
    mkdirSync(join(dir, 'machines'));
  });
  after(() => api.stop());

  it('shows objects to create (exit 1), then no change once applied (exit 0)', async () => {
    writeFileSync(join(dir, 'machines', 'a.yaml'), machine('a', 'Fan'));
    const first = await plan();
    assert.equal(first.status, 1, first.stderr);
    assert.match(first.stdout, /^\+ create Machine default\/a$/m);
    await client.apply(
      labelled(
        { ...parse(machine('a', 'Fan')), metadata: { name: 'a', namespace: 'default' } },
        { namespace: 'default', name: 'lab' },
      ),
      { fieldManager: 'simops' },
    );
    const second = await plan();
    assert.equal(second.status, 0, second.stdout + second.stderr);
    assert.match(second.stdout, /no changes/);
  });

  it('names the changed fields and what would be pruned, and changes nothing', async () => {
    writeFileSync(join(dir, 'machines', 'a.yaml'), machine('a', 'Pump'));
    await client.apply(
      labelled(
        {
          apiVersion: 'simops.dev/v1alpha1',
          kind: 'Machine',
          metadata: { name: 'old', namespace: 'default' },
          spec: { category: 'Fan' },
        },
        { namespace: 'default', name: 'lab' },
      ),
      { fieldManager: 'simops' },
    );
    const r = await plan();
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stdout, /^~ change Machine default\/a: .*spec\.category/m);
    assert.match(r.stdout, /^- prune Machine default\/old$/m);
    const live = await client.get(
      {
        group: 'simops.dev',
        version: 'v1alpha1',
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'Machine',
        plural: 'machines',
        namespaced: true,
      },
      'default',
      'a',
    );
    assert.equal((live?.spec as { category?: string } | undefined)?.category, 'Fan', 'plan is a dry run');
  });

  it('exits 2 on an invalid tree with file:line errors', async () => {
    writeFileSync(
      join(dir, 'machines', 'bad.yaml'),
      machine('bad', 'Fan').replace('spec:', 'spec:\n  nope: 1'),
    );
    const r = await plan();
    assert.equal(r.status, 2);
    assert.match(r.stderr, /machines\/bad\.yaml:6:3 spec\.nope: unknown field/);
  });
});
