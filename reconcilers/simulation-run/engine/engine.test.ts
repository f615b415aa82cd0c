// The engine on models small enough to compute by hand; every series is asserted exactly.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Pcg32 } from './pcg32.ts';
import { compileErrors, evaluateModel, grid } from './test-helpers.ts';

const konst = (id: string, values: number | number[]) => ({ id, kind: 'const', values });

describe('engine: queues', () => {
  it('keeps a constant queue when arrivals equal service', () => {
    // Q[t] = Q[t-1] + 6 - 6, starting at 4.
    const r = evaluateModel({
      grid: grid(4),
      nodes: [konst('arrivals', 6), konst('served', 6)],
      topology: {
        nodes: [
          {
            id: 'Q',
            kind: 'serviceWithBuffer',
            initialCondition: { queueDepth: 4 },
            semantics: { arrivals: 'arrivals', served: 'served' },
          },
        ],
      },
    });
    assert.deepEqual(r.series('queue@Q'), [4, 4, 4, 4]);
  });

  it('drains a backlog at the capacity and derives what was served', () => {
    // waiting = Q[t-1] + 2; served = min(7, waiting); Q = waiting - served; from Q = 20:
    // 22 → 7 → 15; 17 → 7 → 10; 12 → 7 → 5; 7 → 7 → 0; 2 → 2 → 0.
    const r = evaluateModel({
      grid: grid(5),
      nodes: [konst('arrivals', 2), konst('cap', 7)],
      topology: {
        nodes: [
          {
            id: 'Backlog',
            kind: 'serviceWithBuffer',
            initialCondition: { queueDepth: 20 },
            semantics: { arrivals: 'arrivals', capacity: 'cap' },
          },
        ],
      },
    });
    assert.deepEqual(r.series('queue@Backlog'), [15, 10, 5, 0, 0]);
    assert.deepEqual(r.series('served@Backlog'), [7, 7, 7, 7, 2]);
  });
});

describe('engine: topology', () => {
  it('delays an edge by its lag', () => {
    // Source serves what arrives; the edge carries it 2 bins later into Sink.
    const r = evaluateModel({
      grid: grid(5),
      nodes: [konst('demand', [10, 20, 30, 40, 50])],
      topology: {
        nodes: [
          { id: 'Source', kind: 'service', semantics: { arrivals: 'demand' } },
          { id: 'Sink', kind: 'sink' },
        ],
        edges: [{ id: 'ship', from: 'Source:out', to: 'Sink:in', lag: 2 }],
      },
    });
    assert.deepEqual(r.series('flow@ship'), [0, 0, 10, 20, 30]);
    assert.deepEqual(r.series('arrivals@Sink'), [0, 0, 10, 20, 30]);
  });

  it('splits a router by edge weights', () => {
    // 100 per bin, weights 3:1 → 75 and 25; the 2× multiplier doubles B's share.
    const r = evaluateModel({
      grid: grid(3),
      traffic: { arrivals: [{ nodeId: 'Split', pattern: { kind: 'constant', ratePerBin: 100 } }] },
      topology: {
        nodes: [
          { id: 'Split', kind: 'router' },
          { id: 'A', kind: 'sink' },
          { id: 'B', kind: 'sink' },
        ],
        edges: [
          { from: 'Split', to: 'A', weight: 3 },
          { from: 'Split', to: 'B', weight: 1, multiplier: 2 },
        ],
      },
    });
    assert.deepEqual(r.series('arrivals@Split'), [100, 100, 100]);
    assert.deepEqual(r.series('arrivals@A'), [75, 75, 75]);
    assert.deepEqual(r.series('arrivals@B'), [50, 50, 50]);
  });

  it('shares a constrained capacity among queues in proportion to their demand', () => {
    // Demands 8 and 12 share 10: 8 × 10/20 = 4 and 12 × 10/20 = 6; a total under 10 passes whole.
    const r = evaluateModel({
      grid: grid(2),
      nodes: [konst('a', [8, 3]), konst('b', [12, 5]), konst('shared', 10), konst('out', 1)],
      topology: {
        nodes: [
          {
            id: 'A',
            kind: 'serviceWithBuffer',
            constraints: ['pool'],
            semantics: { arrivals: 'a', served: 'out' },
          },
          {
            id: 'B',
            kind: 'serviceWithBuffer',
            constraints: ['pool'],
            semantics: { arrivals: 'b', served: 'out' },
          },
        ],
        constraints: [{ id: 'pool', semantics: { arrivals: 'demand', served: 'shared' } }],
      },
    });
    assert.deepEqual(r.series('capped@A'), [4, 3]);
    assert.deepEqual(r.series('capped@B'), [6, 5]);
    assert.deepEqual(r.series('queue@A'), [3, 5]);
    assert.deepEqual(r.series('queue@B'), [5, 9]);
  });

  it('serves at most the capacity and counts the rest as errors', () => {
    const r = evaluateModel({
      grid: grid(3),
      nodes: [konst('demand', [5, 12, 8]), konst('cap', 10)],
      topology: {
        nodes: [{ id: 'Svc', kind: 'service', semantics: { arrivals: 'demand', capacity: 'cap' } }],
      },
    });
    assert.deepEqual(r.series('served@Svc'), [5, 10, 8]);
    assert.deepEqual(r.series('errors@Svc'), [0, 2, 0]);
  });
});

describe('engine: nodes', () => {
  it('compiles a pmf to its expected value, renormalising with a warning', () => {
    // 0×0.5 + 10×0.25 + 20×0.25 = 7.5; the second pmf's probabilities sum to 2: (1×1 + 3×1)/2 = 2.
    const r = evaluateModel({
      grid: grid(3),
      nodes: [
        { id: 'p', kind: 'pmf', pmf: { values: [0, 10, 20], probabilities: [0.5, 0.25, 0.25] } },
        { id: 'q', kind: 'pmf', pmf: { values: [1, 3], probabilities: [1, 1] } },
      ],
    });
    assert.deepEqual(r.series('p'), [7.5, 7.5, 7.5]);
    assert.deepEqual(r.series('q'), [2, 2, 2]);
    assert.deepEqual(
      r.warnings.map((w) => [w.code, w.nodeId]),
      [['pmfRenormalized', 'q']],
    );
  });

  it('evaluates expressions with FlowTime functions', () => {
    const a = [1, 5, 9, 0];
    const r = evaluateModel({
      grid: grid(4),
      nodes: [
        konst('a', a),
        konst('b', 3),
        { id: 'arith', kind: 'expr', expr: '(a + 1) * 2 - b / 3' },
        { id: 'div0', kind: 'expr', expr: 'b / a' },
        { id: 'lo', kind: 'expr', expr: 'MIN(a, b)' },
        { id: 'hi', kind: 'expr', expr: 'MAX(a, b, 4)' },
        { id: 'clamped', kind: 'expr', expr: 'CLAMP(a, 2, 7)' },
        { id: 'shifted', kind: 'expr', expression: 'SHIFT(a, 1)' },
        { id: 'conv', kind: 'expr', expr: 'CONV(a, [0.5, 0.5])' },
        { id: 'rest', kind: 'expr', expr: 'MOD(a, 4)' },
        { id: 'rounded', kind: 'expr', expr: 'ROUND(a / 2)' },
        { id: 'floor', kind: 'expr', expr: 'FLOOR(a / 2) + CEIL(a / 4)' },
        { id: 'step', kind: 'expr', expr: 'STEP(a, 5)' },
        { id: 'pulse', kind: 'expr', expr: 'PULSE(2, 1, b)' },
        { id: 'neg', kind: 'expr', expr: '-a + -(-2)' },
      ],
    });
    assert.deepEqual(r.series('arith'), [3, 11, 19, 1]);
    assert.deepEqual(r.series('div0'), [3, 0.6, 1 / 3, 0]);
    assert.deepEqual(r.series('lo'), [1, 3, 3, 0]);
    assert.deepEqual(r.series('hi'), [4, 5, 9, 4]);
    assert.deepEqual(r.series('clamped'), [2, 5, 7, 2]);
    assert.deepEqual(r.series('shifted'), [0, 1, 5, 9]);
    assert.deepEqual(r.series('conv'), [0.5, 3, 7, 4.5]);
    assert.deepEqual(r.series('rest'), [1, 1, 1, 0]);
    assert.deepEqual(r.series('rounded'), [1, 3, 5, 0]);
    assert.deepEqual(r.series('floor'), [1, 4, 7, 0]);
    assert.deepEqual(r.series('step'), [0, 1, 1, 0]);
    assert.deepEqual(r.series('pulse'), [0, 3, 0, 3]);
    assert.deepEqual(r.series('neg'), [1, -3, -7, 2]);
  });

  it('allows feedback through SHIFT, evaluated bin by bin', () => {
    // level[t] = level[t-1] + 1: each bin reads the one before, which is final.
    const r = evaluateModel({
      grid: grid(4),
      nodes: [{ id: 'level', kind: 'expr', expr: 'SHIFT(level, 1) + 1' }],
    });
    assert.deepEqual(r.series('level'), [1, 2, 3, 4]);
  });

  it('splits a router node by route weights', () => {
    const r = evaluateModel({
      grid: grid(2),
      nodes: [
        konst('src', [10, 20]),
        {
          id: 'r',
          kind: 'router',
          router: {
            inputs: { queue: 'src' },
            routes: [
              { target: 'x', weight: 1 },
              { target: 'y', weight: 4 },
            ],
          },
        },
      ],
    });
    assert.deepEqual(r.series('x'), [2, 4]);
    assert.deepEqual(r.series('y'), [8, 16]);
  });
});

describe('engine: seeded traffic', () => {
  it('is the reference PCG32 (pcg32_srandom_r(42, 54))', () => {
    // The published output of pcg-c-basic's pcg32-demo for seed 42, sequence 54.
    const rng = new Pcg32(42, 54);
    const first = Array.from({ length: 6 }, () => rng.nextUint32().toString(16));
    assert.deepEqual(first, ['a15c02b7', '7b47f409', 'ba1d3330', '83d2f293', 'bfa4784b', 'cbed606e']);
  });

  it('draws poisson arrivals from the seed by inversion', () => {
    // The first arrival draws from stream 54: u = 0xa15c02b7 / 2^32 = 0.63031, ... For mean 2 the
    // cumulative probabilities are 0.13534, 0.40601, 0.67668, 0.85712: k is the first index whose
    // cumulative probability exceeds u: u = 0.63031, 0.48157, 0.72701, 0.51494, 0.74860, 0.79659
    // → 2, 2, 3, 2, 3, 3.
    const r = evaluateModel(
      {
        grid: grid(6),
        traffic: { arrivals: [{ nodeId: 'orders', pattern: { kind: 'poisson', ratePerBin: 2 } }] },
      },
      { seed: 42 },
    );
    assert.deepEqual(r.series('orders'), [2, 2, 3, 2, 3, 3]);
  });

  it('gives another series for another seed, and large means stay near the mean', () => {
    const model = (rate: number) => ({
      grid: grid(2000),
      traffic: { arrivals: [{ nodeId: 'x', pattern: { kind: 'poisson', ratePerBin: rate } }] },
    });
    assert.notDeepEqual(
      evaluateModel(model(2), { seed: 1 }).series('x'),
      evaluateModel(model(2), { seed: 2 }).series('x'),
    );
    const big = evaluateModel(model(500), { seed: 7 }).series('x');
    const mean = big.reduce((a, b) => a + b, 0) / big.length;
    assert.ok(Math.abs(mean - 500) < 3, `mean ${mean}`);
    assert.ok(big.every((v) => Number.isInteger(v) && v >= 0));
  });
});

describe('engine: validation names the field', () => {
  it('reports unknown references, cycles, bad kinds and lengths', () => {
    const errors = compileErrors({
      grid: grid(3),
      nodes: [
        konst('a', [1, 2]),
        { id: 'b', kind: 'expr', expr: 'c + 1' },
        { id: 'c', kind: 'expr', expr: 'b * 2' },
        { id: 'd', kind: 'expr', expr: 'nothing + 1' },
        { id: 'e', kind: 'expr', expr: 'SHIFT(a, x)' },
        { id: 'f', kind: 'spreadsheet' },
      ],
      topology: { nodes: [{ id: 'T', kind: 'service', semantics: { arrivals: 'missing' } }] },
    });
    const byField = Object.fromEntries(errors.map((e) => [e.field, e.message]));
    assert.match(byField['nodes[0].values']!, /has 2 values but grid.bins is 3/);
    assert.match(byField['nodes[3].expr']!, /unknown reference "nothing"/);
    assert.match(byField['nodes[4].expr']!, /SHIFT lag must be an integer literal/);
    assert.match(byField['nodes[5].kind']!, /Unsupported value: "spreadsheet"/);
    assert.match(byField['topology.nodes[0].semantics.arrivals']!, /unknown reference "missing"/);
    const cycle = errors.find((e) => e.message.startsWith('dependency cycle'));
    assert.ok(cycle && /nodes\[[12]\]\.expr/.test(cycle.field), JSON.stringify(errors));
    assert.match(cycle.message, /b → c → b|c → b → c/);
  });

  it('rejects a file binding outside telemetry mode and a missing grid', () => {
    assert.deepEqual(compileErrors({ nodes: [] }), [
      { field: 'grid', message: 'Required value: {bins, binSize, binUnit}' },
    ]);
    const errors = compileErrors({
      grid: grid(2),
      topology: { nodes: [{ id: 'T', kind: 'service', semantics: { arrivals: 'file:t.csv' } }] },
    });
    assert.deepEqual(errors, [
      {
        field: 'topology.nodes[0].semantics.arrivals',
        message: 'the file binding t.csv needs mode telemetry',
      },
      {
        field: 'topology.nodes[0].semantics.arrivals',
        message: 'Required value: bind a series, or connect an edge or a traffic arrival to the node',
      },
    ]);
  });
});

describe('engine: limits', () => {
  it('refuses a grid too large to hold and an expression nested too deep', () => {
    const huge = compileErrors({
      grid: { bins: 10_000_000, binSize: 1, binUnit: 'minutes' },
      nodes: Array.from({ length: 11 }, (_, i) => konst(`n${i}`, 1)),
    });
    assert.deepEqual(
      huge.map((e) => e.field),
      ['grid.bins'],
    );
    const deep = compileErrors({
      grid: grid(1),
      nodes: [{ id: 'x', kind: 'expr', expr: `${'('.repeat(500)}1${')'.repeat(500)}` }],
    });
    assert.equal(deep[0]!.field, 'nodes[0].expr');
    assert.match(deep[0]!.message, /nested more than 200 deep/);
  });
});
