// The JSON documents of a run in FlowTime's shapes (docs/schemas/run.schema.json,
// manifest.schema.json, series-index.schema.json and the fields FlowTime's RunArtifactWriter adds).

import type { Warning } from '../engine/issues.ts';
import type { ParamValue } from '../engine/parameters.ts';
import type { Grid, SeriesSpec } from '../engine/plan.ts';

export const ENGINE_VERSION = 'simops-flowtime/0.1.0';

export interface WrittenSeries {
  spec: SeriesSpec;
  /** `series/<id>.csv` */
  path: string;
  hash: string;
  points: number;
}

export interface RunDescription {
  runId: string;
  templateId: string;
  templateVersion: string;
  templateTitle?: string;
  mode: 'simulation' | 'telemetry';
  grid: Grid;
  window: { start: string; timezone: string };
  modelHash: string;
  scenarioHash: string;
  inputHash: string;
  rng: { kind: 'pcg32'; seed: number };
  parameters: Record<string, ParamValue>;
  createdUtc: string;
  warnings: Warning[];
  series: WrittenSeries[];
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export const runJson = (r: RunDescription): string =>
  json({
    schemaVersion: 1,
    runId: r.runId,
    engineVersion: ENGINE_VERSION,
    source: 'sim',
    mode: r.mode,
    templateId: r.templateId,
    templateVersion: r.templateVersion,
    ...(r.templateTitle ? { templateTitle: r.templateTitle } : {}),
    inputHash: r.inputHash,
    grid: { ...r.grid, timezone: 'UTC', align: 'left' },
    window: r.window,
    modelHash: r.modelHash,
    scenarioHash: r.scenarioHash,
    rng: r.rng,
    createdUtc: r.createdUtc,
    warnings: r.warnings,
    series: r.series.map((s) => ({ id: s.spec.id, path: s.path, unit: s.spec.unit })),
  });

export const manifestJson = (r: RunDescription): string =>
  json({
    schemaVersion: 1,
    scenarioHash: r.scenarioHash,
    modelHash: r.modelHash,
    rng: r.rng,
    seriesHashes: Object.fromEntries(r.series.map((s) => [s.spec.id, s.hash])),
    eventCount: 0,
    createdUtc: r.createdUtc,
    provenance: {
      source: 'simops',
      templateId: r.templateId,
      templateVersion: r.templateVersion,
      mode: r.mode,
      inputHash: r.inputHash,
      parameters: r.parameters,
    },
  });

export const seriesIndexJson = (r: RunDescription): string =>
  json({
    schemaVersion: 1,
    grid: { ...r.grid, timezone: 'UTC' },
    series: r.series.map((s) => ({
      id: s.spec.id,
      kind: s.spec.kind,
      path: s.path,
      unit: s.spec.unit,
      componentId: s.spec.componentId,
      class: 'DEFAULT',
      points: s.points,
      hash: s.hash,
    })),
  });
