// `simops up examples/` keeps its data in examples/.simops: the artifact directory, where sandboxes
// get their working directory, is inside the working tree the GitSource reads. Starting a sandbox
// copies that tree into its working directory, and must leave its own destination out.
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { KubeConfig } from '@kubernetes/client-node';
import type { Embedded } from '../apiserver/embedded.ts';
import { type Running, runController } from '../controller/run.ts';
import { simopsKind } from '../controller/runtime/kinds.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import type { SandboxStatus } from '../crds/sandbox.ts';
import { demoFiles } from './helpers/demo.ts';
import { startTestServer } from './helpers/embedded.ts';
import { eventually } from './helpers/eventually.ts';
import { processesUnder } from './helpers/processes.ts';
import { tempDir } from './helpers/tmp.ts';

const SANDBOX = simopsKind('Sandbox');

describe('a sandbox from a working tree that holds the data directory', () => {
  let api: Embedded;
  let running: Running;
  const tree = tempDir('simops-worktree-');
  const artifactDir = join(tree, '.simops', 'artifacts');
  const kc = new KubeConfig();

  before(async () => {
    for (const [path, text] of Object.entries(demoFiles())) {
      mkdirSync(dirname(join(tree, path)), { recursive: true });
      writeFileSync(join(tree, path), text);
    }
    api = await startTestServer();
    kc.loadFromFile(api.kubeconfigPath);
    running = await runController({
      kubeConfig: kc,
      log: silentLog,
      cacheDir: join(tree, '.simops', 'git'),
      artifactDir,
      processRuntime: true,
      health: { host: '127.0.0.1', port: 0 },
    });
    await running.manager.client.apply(
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'tree', namespace: 'default' },
        spec: { url: tree, interval: '1h', path: './', prune: true },
      },
      { fieldManager: 'test' },
    );
  });
  after(async () => {
    await running.stop();
    await api.stop();
    assert.deepEqual(processesUnder(artifactDir), [], 'no sandbox process outlives the controller');
  });

  it('starts the sandbox from a copy of the tree without its data directory', async () => {
    const s = await eventually(
      'booking-dev Ready',
      async () => {
        const st = ((await running.manager.client.get(SANDBOX, 'default', 'booking-dev'))?.status ??
          {}) as SandboxStatus;
        return (st.phase === 'Ready' || st.phase === 'Failed') && st;
      },
      30_000,
    );
    assert.equal(s.phase, 'Ready', JSON.stringify(s.conditions));
  });
});
