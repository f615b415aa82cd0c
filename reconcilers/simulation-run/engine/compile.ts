// A model (a template after parameter substitution) → a Plan: every part compiled to units, names
// checked (each series written once, every read names a series), units ordered, cycles reported.
// All errors are collected, each naming its template field.
import { type CompileContext, filePath, isFileBinding, type Mode } from './context.ts';
import { type FieldError, isRecord, type Warning } from './issues.ts';
import { compileNodes } from './nodes.ts';
import { orderUnits } from './order.ts';
import type { Grid, Plan, Unit } from './plan.ts';
import { compileTopology } from './topology.ts';
import { type ParsedTopology, parseTopology } from './topology-parse.ts';
import { compileTraffic } from './traffic.ts';

export const MAX_BINS = 10_000_000;
/** bins × series held in memory during an evaluation (8 bytes each): 800 MB. */
export const MAX_VALUES = 100_000_000;
export const BIN_UNITS = ['minutes', 'hours', 'days', 'weeks'];

export interface CompileResult {
  plan?: Plan;
  errors: FieldError[];
  warnings: Warning[];
}

export const readGrid = (raw: unknown, errors: FieldError[]): Grid | undefined => {
  if (!isRecord(raw)) {
    errors.push({ field: 'grid', message: 'Required value: {bins, binSize, binUnit}' });
    return undefined;
  }
  const int = (key: 'bins' | 'binSize', max: number) => {
    const v = raw[key];
    if (!Number.isInteger(v) || (v as number) < 1 || (v as number) > max) {
      errors.push({ field: `grid.${key}`, message: `must be an integer from 1 to ${max}` });
      return undefined;
    }
    return v as number;
  };
  const bins = int('bins', MAX_BINS);
  const binSize = int('binSize', 1_000_000);
  const binUnit = raw.binUnit;
  if (typeof binUnit !== 'string' || !BIN_UNITS.includes(binUnit)) {
    errors.push({
      field: 'grid.binUnit',
      message: `Unsupported value: ${JSON.stringify(binUnit)}: supported values: ${BIN_UNITS.join(', ')}`,
    });
    return undefined;
  }
  return bins && binSize ? { bins, binSize, binUnit } : undefined;
};

export const compileModel = (model: Record<string, unknown>, mode: Mode = 'simulation'): CompileResult => {
  const errors: FieldError[] = [];
  const warnings: Warning[] = [];
  const grid = readGrid(model.grid, errors);
  if (!grid) return { errors, warnings };
  const ctx: CompileContext = { bins: grid.bins, mode, errors, warnings };

  let topology: ParsedTopology = { nodes: [], edges: [], constraints: [] };
  if (model.topology !== undefined && model.topology !== null) {
    if (isRecord(model.topology)) topology = parseTopology(model.topology, ctx);
    else errors.push({ field: 'topology', message: 'must be an object' });
  }
  const nodes = compileNodes(model.nodes, ctx);
  const traffic = compileTraffic(model.traffic, ctx, {
    modelNodes: nodes.ids,
    topologyNodes: new Set(topology.nodes.map((n) => n.id)),
  });
  const flows = compileTopology(topology, traffic.external, ctx);
  const units: Unit[] = [...nodes.units, ...traffic.units, ...flows.units];

  const telemetry = telemetryUnits(units);
  units.push(...telemetry.units);
  checkNames(units, errors);
  const ordered = orderUnits(units, errors);
  const series = [...nodes.series, ...traffic.series, ...flows.series];
  checkOutputs(model.outputs, new Set(units.flatMap((u) => u.writes)), errors);
  const columns = [...new Set(units.flatMap((u) => u.writes))];
  if (columns.length * grid.bins > MAX_VALUES) {
    errors.push({
      field: 'grid.bins',
      message: `${grid.bins} bins × ${columns.length} series is more than the ${MAX_VALUES.toLocaleString('en')} values a run may hold`,
    });
  }
  if (errors.length) return { errors: unique(errors), warnings };
  const seen = new Set<string>();
  return {
    plan: {
      grid,
      units: ordered,
      columns,
      series: series.filter((s) => !seen.has(s.id) && seen.add(s.id)),
      telemetry: telemetry.bindings,
      nodeCount: nodes.ids.size + topology.nodes.length,
    },
    errors,
    warnings,
  };
};

/** One unit per distinct `file:` binding read anywhere: it writes the series the file holds. */
const telemetryUnits = (units: Unit[]) => {
  const bindings = new Map<string, string>();
  for (const u of units) {
    for (const r of u.reads) {
      if (isFileBinding(r.column) && !bindings.has(r.column)) bindings.set(r.column, r.field ?? u.field);
    }
  }
  return {
    bindings: [...bindings].map(([binding, field]) => ({ binding, field })),
    units: [...bindings].map(
      ([binding, field]): Unit => ({
        id: filePath(binding),
        field,
        writes: [binding],
        reads: [],
        build: (b) => {
          const col = b.column(binding);
          return { fill: () => col.set(b.telemetry(binding)) };
        },
      }),
    ),
  };
};

/** Every series written once; every read names a series some unit writes. */
const checkNames = (units: Unit[], errors: FieldError[]) => {
  const writer = new Map<string, Unit>();
  for (const u of units) {
    for (const c of u.writes) {
      const first = writer.get(c);
      if (first && first !== u) {
        errors.push({
          field: u.field,
          message: `Duplicate value: the series "${c}" is already defined by ${first.field}`,
        });
      } else writer.set(c, u);
    }
  }
  for (const u of units) {
    for (const r of u.reads) {
      if (!writer.has(r.column))
        errors.push({ field: r.field ?? u.field, message: `unknown reference "${r.column}"` });
    }
  }
};

const checkOutputs = (raw: unknown, known: Set<string>, errors: FieldError[]) => {
  if (raw === undefined || raw === null) return;
  if (!Array.isArray(raw)) {
    errors.push({ field: 'outputs', message: 'must be a list' });
    return;
  }
  for (const [i, o] of raw.entries()) {
    const name = isRecord(o) ? (o.series ?? o.source) : undefined;
    if (typeof name !== 'string') {
      errors.push({ field: `outputs[${i}].series`, message: 'Required value' });
      continue;
    }
    if (name !== '*' && !known.has(name)) {
      errors.push({ field: `outputs[${i}].series`, message: `unknown series "${name}"` });
    }
  }
};

const unique = (errors: FieldError[]): FieldError[] => {
  const seen = new Set<string>();
  return errors.filter((e) => {
    const key = `${e.field}\u0000${e.message}`;
    return !seen.has(key) && !!seen.add(key);
  });
};
