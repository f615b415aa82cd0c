// The orchestration the reconciler and `simops run` share, on temp directories.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { tempDir } from '../../test/helpers/tmp.ts';
import { sha256 } from './artifacts/hash.ts';
import { type RunRequest, runSimulation } from './orchestrate.ts';
import { directoryFiles } from './source-files.ts';

const template = (extra: Record<string, unknown> = {}) => ({
  metadata: { id: 'shop', title: 'Shop', version: '2' },
  window: { start: '2025-01-01T00:00:00Z', timezone: 'UTC' },
  grid: { bins: 6, binSize: 5, binUnit: 'minutes' },
  parameters: [{ name: 'rate', type: 'number', default: 4, min: 0, max: 100 }],
  // biome-ignore lint/suspicious/noTemplateCurlyInString: FlowTime's parameter syntax
  traffic: { arrivals: [{ nodeId: 'Shop', pattern: { kind: 'poisson', ratePerBin: '${rate}' } }] },
  nodes: [{ id: 'cap', kind: 'const', values: 3 }],
  topology: { nodes: [{ id: 'Shop', kind: 'serviceWithBuffer', semantics: { capacity: 'cap' } }] },
  ...extra,
});
const run = (req: Partial<RunRequest> & { artifactRoot: string }) =>
  runSimulation({ template: template(), mode: 'simulation', rng: { kind: 'pcg32', seed: 1 }, ...req });

describe('runSimulation', () => {
  it('writes run.json, manifest.json, series/index.json and a t,value CSV per series', async () => {
    const root = tempDir();
    const r = await run({ artifactRoot: root });
    assert.equal(r.outcome, 'succeeded');
    assert.match(r.runId!, /^run_shop_[0-9a-f]{16}$/);
    assert.deepEqual(r.grid, { bins: 6, binSize: 5, binUnit: 'minutes' });
    const dir = join(root, 'runs', r.runId!);
    assert.deepEqual(r.artifacts, {
      location: dir,
      runJson: true,
      manifestJson: true,
      seriesIndex: true,
      seriesCount: 5,
    });
    assert.equal(r.canReplay, true);
    const runJson = JSON.parse(readFileSync(join(dir, 'run.json'), 'utf8'));
    assert.equal(runJson.schemaVersion, 1);
    assert.equal(runJson.source, 'sim');
    assert.equal(runJson.mode, 'simulation');
    assert.deepEqual(runJson.grid, {
      bins: 6,
      binSize: 5,
      binUnit: 'minutes',
      timezone: 'UTC',
      align: 'left',
    });
    assert.deepEqual(runJson.rng, { kind: 'pcg32', seed: 1 });
    assert.match(runJson.scenarioHash, /^sha256:[0-9a-f]{64}$/);
    const manifest = JSON.parse(readFileSync(join(dir, 'manifest.json'), 'utf8'));
    const index = JSON.parse(readFileSync(join(dir, 'series', 'index.json'), 'utf8'));
    assert.deepEqual(
      index.series.map((s: { id: string }) => s.id),
      [
        'cap@CAP@DEFAULT',
        'arrivals@Shop@DEFAULT',
        'served@Shop@DEFAULT',
        'capacity@Shop@DEFAULT',
        'queue@Shop@DEFAULT',
      ],
    );
    for (const s of index.series) {
      const bytes = readFileSync(join(dir, s.path));
      assert.equal(s.hash, `sha256:${sha256(bytes)}`);
      assert.equal(manifest.seriesHashes[s.id], s.hash);
      assert.equal(s.points, 6);
      assert.match(bytes.toString(), /^t,value\n0,[^\n]+\n(.*\n){5}$/);
    }
    assert.equal(index.series.find((s: { id: string }) => s.id === 'queue@Shop@DEFAULT').kind, 'state');
    assert.deepEqual(readdirSync(join(root, 'runs')), [r.runId], 'no temporary directory left');
  });

  it('reuses an existing run, replaces it on overwriteExisting, and only plans on dryRun', async () => {
    const root = tempDir();
    const first = await run({ artifactRoot: root });
    const second = await run({ artifactRoot: root });
    assert.equal(second.outcome, 'reused');
    assert.equal(second.runId, first.runId);
    assert.equal(second.evaluationMs, undefined);
    const created = JSON.parse(readFileSync(join(root, 'runs', first.runId!, 'run.json'), 'utf8')).createdUtc;
    await new Promise((r) => setTimeout(r, 5));
    const third = await run({ artifactRoot: root, overwriteExisting: true });
    assert.equal(third.outcome, 'succeeded');
    assert.notEqual(
      JSON.parse(readFileSync(join(root, 'runs', first.runId!, 'run.json'), 'utf8')).createdUtc,
      created,
    );
    const plan = await run({ artifactRoot: root, dryRun: true, parameters: { rate: 5 } });
    assert.equal(plan.outcome, 'planned');
    assert.deepEqual(plan.plan, { nodes: 2, series: 5, bins: 6, reuse: false });
    assert.ok(!existsSync(join(root, 'runs', plan.runId!)));
    assert.equal((await run({ artifactRoot: root, dryRun: true })).plan!.reuse, true);
  });

  it('names runs by their inputs: parameters, seed and template change the id; a default given explicitly does not', async () => {
    const root = tempDir();
    const id = async (req: Partial<RunRequest>) =>
      (await run({ artifactRoot: root, dryRun: true, ...req })).runId;
    const base = await id({});
    assert.equal(await id({ parameters: { rate: 4 } }), base);
    assert.notEqual(await id({ parameters: { rate: 5 } }), base);
    assert.notEqual(await id({ rng: { kind: 'pcg32', seed: 2 } }), base);
    assert.notEqual(
      await id({ template: template({ grid: { bins: 7, binSize: 5, binUnit: 'minutes' } }) }),
      base,
    );
    assert.match((await id({ deterministicRunId: false }))!, /^run_\d{8}T\d{6}Z_[0-9a-f]{8}$/);
    assert.equal(await id({ runId: 'mine' }), 'mine');
  });

  it('reports every validation error with its field and writes nothing', async () => {
    const root = tempDir();
    const { window: _, ...bad } = template();
    const r = await run({ artifactRoot: root, template: bad, parameters: { rate: -1 } });
    assert.equal(r.outcome, 'invalid');
    assert.deepEqual(r.errors, [
      { field: 'spec.parameters.rate', message: '-1 is below the minimum 0' },
      { field: 'window', message: 'Required value: {start, timezone}' },
    ]);
    const r2 = await run({
      artifactRoot: root,
      template: template({ topology: { nodes: [{ id: 'Shop', semantics: { capacity: 'nope' } }] } }),
    });
    assert.deepEqual(r2.errors, [
      { field: 'topology.nodes[0].semantics.capacity', message: 'unknown reference "nope"' },
    ]);
    const r3 = await run({
      artifactRoot: root,
      template: template({ topology: undefined }),
      templateId: 'other',
    });
    assert.deepEqual(
      r3.errors.map((e) => e.field),
      ['metadata.id', 'topology'],
    );
    assert.ok(!existsSync(join(root, 'runs')));
  });

  it('reads telemetry series from CSV files next to the template, never from outside the source', async () => {
    const root = tempDir();
    const repo = tempDir();
    mkdirSync(join(repo, 'templates', 'data'), { recursive: true });
    writeFileSync(join(repo, 'templates', 'data', 'in.csv'), 't,value\n0,5\n1,6\n2,7\n');
    writeFileSync(join(repo, 'secret.csv'), '1\n2\n3\n');
    const outside = tempDir();
    writeFileSync(join(outside, 'x.csv'), '1\n');
    symlinkSync(join(outside, 'x.csv'), join(repo, 'templates', 'link.csv'));
    const t = (arrivals: string) => ({
      metadata: { id: 'tel', version: 1 },
      window: { start: '2025-01-01T00:00:00Z' },
      grid: { bins: 4, binSize: 1, binUnit: 'hours' },
      nodes: [{ id: 'cap', kind: 'const', values: 4 }],
      topology: { nodes: [{ id: 'Q', kind: 'serviceWithBuffer', semantics: { arrivals, capacity: 'cap' } }] },
    });
    const files = directoryFiles(repo, join(repo, 'templates'));
    const ok = await runSimulation({
      template: t('file:data/in.csv'),
      mode: 'telemetry',
      artifactRoot: root,
      files,
    });
    assert.equal(ok.outcome, 'succeeded');
    assert.deepEqual(
      ok.warnings.map((w) => w.code),
      ['telemetryGap'],
    );
    const q = readFileSync(join(ok.artifacts!.location, 'series', 'queue@Q@DEFAULT.csv'), 'utf8');
    assert.equal(q, 't,value\n0,1\n1,3\n2,6\n3,2\n');
    assert.ok(existsSync(join(ok.artifacts!.location, 'model', 'telemetry', 'in.csv')));
    const sim = await runSimulation({
      template: t('file:data/in.csv'),
      mode: 'simulation',
      artifactRoot: root,
      files,
    });
    assert.deepEqual(sim.errors, [
      {
        field: 'topology.nodes[0].semantics.arrivals',
        message: 'the file binding data/in.csv needs mode telemetry',
      },
      {
        field: 'topology.nodes[0].semantics.arrivals',
        message: 'Required value: bind a series, or connect an edge or a traffic arrival to the node',
      },
    ]);
    for (const [binding, message] of [
      ['file:../../x.csv', /leaves the source/],
      ['file:link.csv', /outside the source \(a symlink\)/],
      ['file:/etc/passwd', /must be relative/],
      ['file:missing.csv', /no such file/],
    ] as const) {
      const r = await runSimulation({ template: t(binding), mode: 'telemetry', artifactRoot: root, files });
      assert.equal(r.outcome, 'invalid');
      assert.equal(r.errors[0]!.field, 'topology.nodes[0].semantics.arrivals');
      assert.match(r.errors[0]!.message, message);
    }
  });

  it('stops when aborted and leaves no run behind', async () => {
    const root = tempDir();
    const controller = new AbortController();
    const big = template({
      grid: { bins: 200_000, binSize: 1, binUnit: 'minutes' },
      nodes: [
        { id: 'cap', kind: 'const', values: 3 },
        { id: 'slow', kind: 'expr', expr: `CONV(cap, [${Array(2000).fill(0.001).join(',')}])` },
      ],
    });
    const running = runSimulation(
      { template: big, mode: 'simulation', artifactRoot: root },
      { signal: controller.signal, onProgress: (f) => f > 0 && controller.abort() },
    );
    await assert.rejects(running, { name: 'AbortError' });
    assert.deepEqual(existsSync(join(root, 'runs')) ? readdirSync(join(root, 'runs')) : [], []);
  });
});
