// The compiled form of a model: units that each write some columns (series) and read others, in an
// order where every same-bin read comes after its write. Columns are allocated only when a plan is
// evaluated, so validating a template (dryRun) costs no memory per bin.
import type { Pcg32 } from './pcg32.ts';

export interface Read {
  column: string;
  /** 0: the same bin (an ordering constraint); >= 1: an earlier bin (no constraint). */
  lag: number;
  /** The template field that names this read, when more precise than the unit's. */
  field?: string;
}

export interface BuildContext {
  bins: number;
  column(name: string): Float64Array;
  /** An independent generator per stream, seeded from the run's seed. */
  rng(stream: number): Pcg32;
  /** Series read from a telemetry file (mode telemetry), by its binding (`file:...`). */
  telemetry(binding: string): Float64Array;
}

export interface Built {
  /** Writes every bin at once (sources: const, pmf, traffic, telemetry). */
  fill?: () => void;
  /** Writes bin t; called for t = 0, 1, ... in unit order within each bin. */
  step?: (t: number) => void;
}

export interface Unit {
  /** What it is, for messages: a node id, `topology node X`, `edge E`. */
  id: string;
  /** The template field that defines it. */
  field: string;
  writes: string[];
  reads: Read[];
  build(ctx: BuildContext): Built;
}

export type SeriesKind = 'flow' | 'state';

export interface SeriesSpec {
  /** FlowTime's series id, `measure@componentId@class`. */
  id: string;
  column: string;
  kind: SeriesKind;
  unit: 'entities/bin' | 'entities';
  componentId: string;
}

export interface Grid {
  bins: number;
  binSize: number;
  binUnit: string;
}

export interface Plan {
  grid: Grid;
  /** In evaluation order. */
  units: Unit[];
  columns: string[];
  series: SeriesSpec[];
  /** Telemetry bindings to load before evaluating (mode telemetry), with the field that names each. */
  telemetry: { binding: string; field: string }[];
  /** Model nodes plus topology nodes: the figure throughput is counted in. */
  nodeCount: number;
}
