// Evaluates a plan bin by bin: sources fill their series first, then for t = 0, 1, ... every other
// unit computes bin t in plan order. Long evaluations yield to the event loop every few
// milliseconds (a controller process stays responsive), report progress, and stop when aborted.
import { Pcg32 } from './pcg32.ts';
import type { BuildContext, Plan } from './plan.ts';

export interface EvaluateOptions {
  seed: number;
  /** Series of the plan's telemetry bindings (mode telemetry), loaded by the caller. */
  telemetry?: ReadonlyMap<string, Float64Array>;
  signal?: AbortSignal;
  onProgress?: (binsDone: number, bins: number) => void;
  /** Yield to the event loop after this much work (default 20 ms). */
  sliceMs?: number;
}

export type Columns = Map<string, Float64Array>;

const setup = (plan: Plan, opts: EvaluateOptions) => {
  const { bins } = plan.grid;
  const columns: Columns = new Map(plan.columns.map((c) => [c, new Float64Array(bins)]));
  const ctx: BuildContext = {
    bins,
    column: (name) => {
      const c = columns.get(name);
      if (!c) throw new Error(`no column ${name} in the plan`);
      return c;
    },
    rng: (stream) => new Pcg32(opts.seed, stream),
    telemetry: (binding) => {
      const s = opts.telemetry?.get(binding);
      if (!s) throw new Error(`telemetry series ${binding} was not loaded`);
      if (s.length !== bins) throw new Error(`telemetry series ${binding} has ${s.length} bins, not ${bins}`);
      return s;
    },
  };
  const built = plan.units.map((u) => u.build(ctx));
  for (const b of built) b.fill?.();
  const steps = built.flatMap((b) => (b.step ? [b.step] : []));
  return { columns, steps, bins };
};

export const evaluatePlan = async (plan: Plan, opts: EvaluateOptions): Promise<Columns> => {
  opts.signal?.throwIfAborted();
  const { columns, steps, bins } = setup(plan, opts);
  const sliceMs = opts.sliceMs ?? 20;
  const n = steps.length;
  // Bins per time check, adapted so that a check comes every millisecond or two whatever a bin costs.
  let chunk = 16;
  let sliceStart = performance.now();
  let t = 0;
  while (t < bins) {
    const chunkStart = performance.now();
    const end = Math.min(bins, t + chunk);
    for (; t < end; t++) for (let i = 0; i < n; i++) steps[i]!(t);
    const now = performance.now();
    if (now - chunkStart < 1) chunk = Math.min(chunk * 2, 1 << 20);
    else if (now - chunkStart > 4) chunk = Math.max(1, chunk >> 1);
    if (t < bins && now - sliceStart >= sliceMs) {
      opts.onProgress?.(t, bins);
      await new Promise<void>((resolve) => setImmediate(resolve));
      opts.signal?.throwIfAborted();
      sliceStart = performance.now();
    }
  }
  opts.onProgress?.(bins, bins);
  return columns;
};

/** The same evaluation in one go (tests, the benchmark's engine-only figure). */
export const evaluatePlanSync = (plan: Plan, opts: EvaluateOptions): Columns => {
  const { columns, steps, bins } = setup(plan, opts);
  for (let t = 0; t < bins; t++) for (const s of steps) s(t);
  return columns;
};
