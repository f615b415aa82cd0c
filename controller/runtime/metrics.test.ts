import assert from 'node:assert/strict';
import { it } from 'node:test';
import { defineCounter, defineGauge, defineHistogram, registry } from './metrics.ts';

it('defines kind-specific metrics once, under the simops_ prefix, in the SimOps registry', async () => {
  const created = defineCounter('test_created_total', 'Test objects created.', ['kind']);
  assert.equal(defineCounter('simops_test_created_total', 'again', ['kind']), created);
  created.inc({ kind: 'SimulationRun' }, 2);
  const evaluation = defineHistogram('test_evaluation_duration_ms', 'Evaluation time.', [], [10, 100, 1000]);
  evaluation.observe(42);
  const text = await registry.metrics();
  assert.ok(text.includes('simops_test_created_total{kind="SimulationRun"} 2'));
  assert.ok(text.includes('simops_test_evaluation_duration_ms_bucket{le="100"} 1'));
});

it('refuses to redefine a metric with another type', () => {
  defineGauge('test_clash', 'A gauge.');
  assert.throws(() => defineCounter('test_clash', 'A counter.'), /already registered/);
});
