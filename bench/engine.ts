// Measures the SimulationRun engine: a 50-node topology over 100,000 bins, through the same
// orchestration as a SimulationRun (validate, evaluate, write every series' CSV, hash, run.json,
// manifest.json, series/index.json), into a temp directory. Prints evaluation throughput in
// node-bins per second and the wall time; the target is <= 3 s for the whole run.
// Usage: node bench/engine.ts [rounds]   (default 3; the median round is judged)
import { cpus } from 'node:os';
import { stringify } from 'yaml';
import { compileModel } from '../reconcilers/simulation-run/engine/compile.ts';
import { runSimulation } from '../reconcilers/simulation-run/orchestrate.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const BINS = 100_000;
const TOPOLOGY_NODES = 50;
const TARGET_MS = 3000;
const rounds = Number(process.argv[2] ?? 3);

/**
 * A gateway fed by seeded poisson traffic fans out through a binary tree of 49 services and
 * queues: every node has two children (edge weights 3:1, every third edge one bin late), queues
 * have capacities from four shared profiles (constants and expressions), one has a WIP limit.
 */
export const benchTemplate = () => {
  const nodes = [
    { id: 'base', kind: 'const', values: 400 },
    { id: 'peak', kind: 'expr', expr: 'base * 1.5 + PULSE(24, 8, 100)' },
    { id: 'night', kind: 'expr', expr: 'MAX(base - 150, SHIFT(base, 1) / 4)' },
    { id: 'drift', kind: 'pmf', pmf: { values: [150, 200, 250], probabilities: [0.25, 0.5, 0.25] } },
  ];
  const profiles = nodes.map((n) => n.id);
  const topology: { id: string; kind: string; semantics: Record<string, string>; wipLimit?: number }[] = [];
  const edges: { from: string; to: string; weight: number; lag: number }[] = [];
  for (let i = 0; i < TOPOLOGY_NODES; i++) {
    const id = `N${String(i).padStart(2, '0')}`;
    const queue = i % 2 === 1;
    topology.push({
      id,
      kind: i === 0 ? 'service' : queue ? 'serviceWithBuffer' : 'service',
      semantics: { capacity: profiles[i % profiles.length]! },
      ...(i === 7 ? { wipLimit: 5000 } : {}),
    });
    if (i > 0) {
      const parent = Math.floor((i - 1) / 2);
      edges.push({
        from: `N${String(parent).padStart(2, '0')}`,
        to: id,
        weight: i % 2 ? 3 : 1,
        lag: i % 3 === 0 ? 1 : 0,
      });
    }
  }
  return {
    metadata: { id: 'bench-tree', title: '50-node tree', version: '1' },
    window: { start: '2025-01-01T00:00:00Z', timezone: 'UTC' },
    grid: { bins: BINS, binSize: 1, binUnit: 'minutes' },
    traffic: { arrivals: [{ nodeId: 'N00', pattern: { kind: 'poisson', ratePerBin: 800 } }] },
    nodes,
    topology: { nodes: topology, edges },
  };
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

if (import.meta.url === `file://${process.argv[1]}`) {
  const template = stringify(benchTemplate());
  const { plan } = compileModel(benchTemplate() as Record<string, unknown>);
  const nodes = plan!.nodeCount;
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(
    `engine bench: ${new Date().toISOString()}, nproc ${cpus().length}, ${cpu}, Node ${process.version}`,
  );
  console.log(
    `model: ${TOPOLOGY_NODES} topology nodes + ${nodes - TOPOLOGY_NODES} model nodes, ${plan!.units.length} units, ${BINS} bins, ${plan!.series.length} series written`,
  );
  const results: { wall: number; evaluation: number; bytes: number }[] = [];
  for (let r = 1; r <= rounds; r++) {
    const root = tempDir('simops-bench-engine-');
    const started = performance.now();
    const report = await runSimulation({
      template,
      mode: 'simulation',
      rng: { kind: 'pcg32', seed: r },
      artifactRoot: root,
    });
    const wall = performance.now() - started;
    if (report.outcome !== 'succeeded') throw new Error(JSON.stringify(report.errors));
    const { execFileSync } = await import('node:child_process');
    const bytes = Number(
      execFileSync('du', ['-sb', report.artifacts!.location], { encoding: 'utf8' }).split('\t')[0],
    );
    const evaluation = report.evaluationMs!;
    results.push({ wall, evaluation, bytes });
    console.log(
      `round ${r}: wall ${wall.toFixed(0)} ms (evaluation ${evaluation.toFixed(0)} ms, validation + artifacts ${(wall - evaluation).toFixed(0)} ms), ${(bytes / 2 ** 20).toFixed(1)} MiB written, ${((nodes * BINS) / (evaluation / 1000) / 1e6).toFixed(1)} M node-bins/s`,
    );
  }
  const wall = median(results.map((r) => r.wall));
  const evaluation = median(results.map((r) => r.evaluation));
  console.log('figure                                   measured        target    result');
  console.log(
    `evaluation throughput (node-bins/s)      ${((nodes * BINS) / (evaluation / 1000) / 1e6).toFixed(1)} M         -         -`,
  );
  console.log(
    `wall time incl. artifacts (ms, median)   ${wall.toFixed(0).padEnd(15)} <= ${TARGET_MS}   ${wall <= TARGET_MS ? 'PASS' : 'FAIL'}`,
  );
}
