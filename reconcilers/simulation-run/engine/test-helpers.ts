// For the engine's tests: compile a model and evaluate it, or fail with its errors.
import assert from 'node:assert/strict';
import { compileModel } from './compile.ts';
import type { Mode } from './context.ts';
import { evaluatePlanSync } from './evaluate.ts';
import type { Warning } from './issues.ts';

export interface Evaluated {
  series(name: string): number[];
  warnings: Warning[];
}

export const evaluateModel = (
  model: Record<string, unknown>,
  opts: { seed?: number; mode?: Mode; telemetry?: Map<string, Float64Array> } = {},
): Evaluated => {
  const { plan, errors, warnings } = compileModel(model, opts.mode);
  assert.deepEqual(errors, []);
  const columns = evaluatePlanSync(plan!, { seed: opts.seed ?? 0, telemetry: opts.telemetry });
  return {
    /** A column by name, or a written series by its id without the class (`arrivals@Sink`). */
    series: (name) => {
      const column = plan!.series.find((s) => s.id === `${name}@DEFAULT`)?.column ?? name;
      const c = columns.get(column);
      assert.ok(c, `no series ${name}; have ${[...columns.keys()].join(', ')}`);
      return [...c];
    },
    warnings,
  };
};

export const compileErrors = (model: Record<string, unknown>, mode?: Mode) =>
  compileModel(model, mode).errors;

export const grid = (bins: number) => ({ bins, binSize: 1, binUnit: 'hours' });
