// `simops run`: the orchestration as a command. Determinism across processes: the same template,
// parameters and seed give byte-identical series and the same manifest.json hashes in two separate
// processes; another seed changes them.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type RunCommandOptions, runCommand } from '../controller/cli/run.ts';
import { tempDir } from './helpers/tmp.ts';

const simops = fileURLToPath(new URL('../bin/simops.js', import.meta.url));
const template = fileURLToPath(new URL('../examples/templates/order-system.yaml', import.meta.url));

const run = (...args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    execFile(process.execPath, [simops, 'run', ...args], { encoding: 'utf8' }, (err, stdout, stderr) =>
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });

const defaults: RunCommandOptions = {
  param: [],
  out: 'data',
  mode: 'simulation',
  deterministicRunId: true,
  logLevel: 'silent',
};

/** Runs the command in this process with its console output captured. */
const captured = async (fn: () => Promise<number>) => {
  const out: string[] = [];
  const err: string[] = [];
  const { log, error } = console;
  console.log = (...a: unknown[]) => out.push(`${a.join(' ')}\n`);
  console.error = (...a: unknown[]) => err.push(`${a.join(' ')}\n`);
  try {
    const code = await fn();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    Object.assign(console, { log, error });
  }
};

const only = (root: string) => {
  const [runId, ...more] = readdirSync(join(root, 'runs'));
  assert.equal(more.length, 0);
  const dir = join(root, 'runs', runId!);
  return { runId: runId!, dir, manifest: JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8')) };
};

describe('simops run', () => {
  it('gives identical series hashes in two processes for the same seed, and others for another seed', async () => {
    const [a, b, c] = [tempDir(), tempDir(), tempDir()];
    const common = ['--param', 'arrivalRate=12', '--param', 'capacity=10'];
    const results = await Promise.all([
      run(template, ...common, '--seed', '42', '--out', a),
      run(template, ...common, '--seed', '42', '--out', b),
    ]);
    // Another seed: in this process (the command's code path, without a third process).
    const other = await captured(() =>
      runCommand(template, { ...defaults, param: ['arrivalRate=12', 'capacity=10'], seed: '43', out: c }),
    );
    assert.equal(other.code, 0, other.stderr);
    for (const r of results) assert.equal(r.code, 0, r.stderr);
    assert.match(results[0]!.stdout, /^wrote run_order-system_[0-9a-f]{16}: 18 series, 24 bins of 1 hours$/m);
    const [ra, rb, rc] = [only(a), only(b), only(c)];
    assert.equal(ra.runId, rb.runId);
    assert.deepEqual(ra.manifest.seriesHashes, rb.manifest.seriesHashes);
    assert.equal(Object.keys(ra.manifest.seriesHashes).length, 18);
    for (const f of readdirSync(join(ra.dir, 'series'))) {
      assert.ok(readFileSync(join(ra.dir, 'series', f)).equals(readFileSync(join(rb.dir, 'series', f))), f);
    }
    const strip = (dir: string) => ({
      ...JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8')),
      createdUtc: 0,
    });
    assert.deepEqual(strip(ra.dir), strip(rb.dir));

    assert.notEqual(rc.runId, ra.runId);
    const differ = Object.keys(ra.manifest.seriesHashes).filter(
      (id) => ra.manifest.seriesHashes[id] !== rc.manifest.seriesHashes[id],
    );
    assert.ok(differ.includes('arrivals@OrderService@DEFAULT'), `changed: ${differ.join(', ')}`);
    // Only what depends on the random arrivals changes; the constant capacity does not.
    assert.ok(!differ.includes('base_capacity@BASE_CAPACITY@DEFAULT'));
  });

  it('exits 2 with every invalid field, and 0 on a dry run that writes nothing', async () => {
    const out = tempDir();
    const bad = await captured(() =>
      runCommand(template, { ...defaults, param: ['arrivalRate=-3', 'typo=1'], out }),
    );
    assert.equal(bad.code, 2);
    assert.deepEqual(bad.stderr.trim().split('\n'), [
      `${template}: --param typo: unknown parameter: the template declares arrivalRate, capacity, paymentCapacity, paymentShare, cancelShare`,
      `${template}: --param arrivalRate: -3 is below the minimum 0`,
    ]);
    const dry = await captured(() => runCommand(template, { ...defaults, dryRun: true, out }));
    assert.equal(dry.code, 0, dry.stderr);
    assert.match(
      dry.stdout,
      /^valid: order-system \(simulation\), 24 bins of 1 hours, 7 nodes, 18 series\nwould write run_order-system_/,
    );
    assert.deepEqual(readdirSync(out), []);
  });
});
