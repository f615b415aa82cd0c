// FlowTime's own engine fixtures (github.com/23min/FlowTime, engine/fixtures/*.yaml, transcribed
// into testdata/flowtime/ with attribution) evaluate to the series FlowTime states for them: in the
// fixture's comment ("Expected: ...") and in FlowTime's engine/core/tests/fixture_deserialization.rs
// (`eval_topology_*`) or engine/core/src/compiler.rs (`compile_expr_scalar_mul` for hello.yaml).
// Series are named as FlowTime's engine names them (a queue's depth `<snake_case(node)>_queue`, its
// overflow `<snake_case(node)>_overflow`); the artifacts also carry them as `queue@<node>@DEFAULT`.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { evaluateModel } from './test-helpers.ts';

const fixture = (name: string) =>
  evaluateModel(parse(readFileSync(new URL(`testdata/flowtime/${name}`, import.meta.url), 'utf8')));

describe('FlowTime engine fixtures', () => {
  it('hello.yaml: served = demand × 0.8 = 8 (compiler.rs compile_expr_scalar_mul)', () => {
    assert.deepEqual(fixture('hello.yaml').series('served'), Array(8).fill(8));
  });

  it('topology-simple-queue.yaml: Q = [7, 14, 21, 28] (eval_topology_simple_queue)', () => {
    assert.deepEqual(fixture('topology-simple-queue.yaml').series('queue_queue'), [7, 14, 21, 28]);
  });

  it('topology-wip-limit.yaml: Q = [8, 16, 20, 20], overflow = [0, 0, 4, 8] (eval_topology_wip_limit)', () => {
    const r = fixture('topology-wip-limit.yaml');
    assert.deepEqual(r.series('queue_queue'), [8, 16, 20, 20]);
    assert.deepEqual(r.series('queue_overflow'), [0, 0, 4, 8]);
  });

  it('topology-cascading-overflow.yaml: A→B→C overflow chain (eval_topology_cascading_overflow)', () => {
    const r = fixture('topology-cascading-overflow.yaml');
    assert.deepEqual(r.series('a_queue'), [10, 10, 10]);
    assert.deepEqual(r.series('a_overflow'), [5, 15, 15]);
    assert.deepEqual(r.series('b_queue'), [5, 5, 5]);
    assert.deepEqual(r.series('b_overflow'), [0, 15, 15]);
    assert.deepEqual(r.series('c_queue'), [0, 15, 30]);
  });

  it('topology-backpressure.yaml: Q = [80, 60, 40, 40, 40, 40] within 1e-10 (eval_topology_backpressure)', () => {
    // FlowTime's own test compares within 1e-10: 1 - 0.8 is 0.19999999999999996 in binary floating point.
    const q = fixture('topology-backpressure.yaml').series('queue_depth');
    const expected = [80, 60, 40, 40, 40, 40];
    for (const [i, v] of q.entries()) assert.ok(Math.abs(v - expected[i]!) < 1e-10, `bin ${i}: ${v}`);
  });

  it('topology-dispatch.yaml: Q = [5, 15, 25, 30, 40, 50] (eval_topology_dispatch)', () => {
    assert.deepEqual(fixture('topology-dispatch.yaml').series('queue_queue'), [5, 15, 25, 30, 40, 50]);
  });

  it('topology-retry-echo.yaml: retry_echo = [0, 6, 9, 10, 10] (eval_topology_retry_echo)', () => {
    assert.deepEqual(fixture('topology-retry-echo.yaml').series('retry_echo'), [0, 6, 9, 10, 10]);
  });

  it('constraint-proportional.yaml: capped 40 each, Q_a = Q_b = [30, 60, 90] (fixture comment)', () => {
    const r = fixture('constraint-proportional.yaml');
    assert.deepEqual(r.series('capped@NodeA'), [40, 40, 40]);
    assert.deepEqual(r.series('node_a_queue'), [30, 60, 90]);
    assert.deepEqual(r.series('node_b_queue'), [30, 60, 90]);
  });

  it('constraint-below-capacity.yaml: Q_a = [20, 40, 60], Q_b = [30, 60, 90] (fixture comment)', () => {
    const r = fixture('constraint-below-capacity.yaml');
    assert.deepEqual(r.series('node_a_queue'), [20, 40, 60]);
    assert.deepEqual(r.series('node_b_queue'), [30, 60, 90]);
  });

  it('router-weight.yaml: targets 50, 30, 20 (fixture comment)', () => {
    const r = fixture('router-weight.yaml');
    assert.deepEqual(r.series('target_a'), [50, 50, 50]);
    assert.deepEqual(r.series('target_b'), [30, 30, 30]);
    assert.deepEqual(r.series('target_c'), [20, 20, 20]);
  });

  it('router-with-constraint.yaml: Q_A = [25, 50, 75], Q_B = [15, 30, 45] (fixture comment)', () => {
    const r = fixture('router-with-constraint.yaml');
    assert.deepEqual(r.series('queue_a_queue'), [25, 50, 75]);
    assert.deepEqual(r.series('queue_b_queue'), [15, 30, 45]);
  });
});
