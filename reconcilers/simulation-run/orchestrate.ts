// One simulation run, the same for the reconciler's job and `simops run` (the seed's FR4):
// validate (template, parameters, model, telemetry files) → pick the run id (reuse an existing run
// unless overwriteExisting; stop here on dryRun) → evaluate → write the artifacts → report.
import { basename } from 'node:path';
import { stringify } from 'yaml';
import { type Log, silentLog } from '../../controller/runtime/logger.ts';
import { seriesCsv } from './artifacts/csv.ts';
import {
  manifestJson,
  type RunDescription,
  runJson,
  seriesIndexJson,
  type WrittenSeries,
} from './artifacts/documents.ts';
import { canonicalJson, hashRef, sha256 } from './artifacts/hash.ts';
import { deterministicRunId, randomRunId } from './artifacts/run-id.ts';
import { readRun, runContents, runExists, stageRun } from './artifacts/store.ts';
import { compileModel } from './engine/compile.ts';
import { filePath, type Mode } from './engine/context.ts';
import { evaluatePlan } from './engine/evaluate.ts';
import type { FieldError, Warning } from './engine/issues.ts';
import type { Grid } from './engine/plan.ts';
import { prepareTemplate } from './engine/template.ts';
import { noFiles, type SourceFiles } from './source-files.ts';
import { loadTelemetry } from './telemetry.ts';

export interface RunRequest {
  /** The template as text (YAML or JSON) or parsed. */
  template: string | Record<string, unknown>;
  /** The run's templateId; `metadata.id` must match it. Default: the template's own id. */
  templateId?: string;
  mode: Mode;
  parameters?: Record<string, unknown>;
  parametersFromStrings?: boolean;
  parameterField?: string;
  rng?: { kind: 'pcg32'; seed: number };
  deterministicRunId?: boolean;
  runId?: string;
  overwriteExisting?: boolean;
  dryRun?: boolean;
  /** Runs are written under `<artifactRoot>/runs/<runId>/`. */
  artifactRoot: string;
  /** Where telemetry files are read from (relative to the template's directory). */
  files?: SourceFiles;
}

export type Stage = 'validating' | 'evaluating' | 'writing';

export interface RunHooks {
  signal?: AbortSignal;
  log?: Log;
  onStage?: (stage: Stage, runId?: string) => void;
  /** The fraction of bins evaluated, 0..1. */
  onProgress?: (fraction: number) => void;
  metrics?: { runCreated(mode: Mode): void; evaluated(mode: Mode, ms: number): void };
}

export interface RunArtifacts {
  location: string;
  runJson: boolean;
  manifestJson: boolean;
  seriesIndex: boolean;
  seriesCount: number;
}

export interface RunReport {
  outcome: 'succeeded' | 'reused' | 'planned' | 'invalid';
  runId?: string;
  templateId?: string;
  mode: Mode;
  errors: FieldError[];
  warnings: Warning[];
  grid?: Grid;
  artifacts?: RunArtifacts;
  canReplay: boolean;
  /** The whole orchestration. */
  durationMs: number;
  /** Evaluation alone (absent when nothing was evaluated). */
  evaluationMs?: number;
  /** On dryRun: what would be done. */
  plan?: { nodes: number; series: number; bins: number; reuse: boolean };
}

export const runSimulation = async (req: RunRequest, hooks: RunHooks = {}): Promise<RunReport> => {
  const started = performance.now();
  const elapsed = () => Math.round((performance.now() - started) * 1000) / 1000;
  const { mode } = req;
  let log = (hooks.log ?? silentLog).child({ templateId: req.templateId, mode });
  const invalid = (errors: FieldError[], warnings: Warning[] = []): RunReport => {
    log.warn({ errors: errors.length }, 'run validation failed');
    return {
      outcome: 'invalid',
      templateId: req.templateId,
      mode,
      errors,
      warnings,
      canReplay: false,
      durationMs: elapsed(),
    };
  };

  hooks.onStage?.('validating');
  log.info({}, 'run started');
  const { prepared, errors: templateErrors } = prepareTemplate({
    template: req.template,
    templateId: req.templateId,
    mode,
    parameters: req.parameters,
    parametersFromStrings: req.parametersFromStrings,
    parameterField: req.parameterField,
  });
  if (!prepared) return invalid(templateErrors);
  const templateId = prepared.id;
  log = (hooks.log ?? silentLog).child({ templateId, mode });
  const compiled = compileModel(prepared.model, mode);
  const warnings = [...compiled.warnings];
  if (!compiled.plan) return invalid(compiled.errors, warnings);
  const plan = compiled.plan;
  const { grid } = plan;
  const errors: FieldError[] = [];
  const telemetry = await loadTelemetry(
    plan.telemetry,
    req.files ?? noFiles('telemetry files need a source to read them from'),
    grid.bins,
    errors,
    warnings,
  );
  if (errors.length) return invalid(errors, warnings);

  const rng = req.rng ?? prepared.rng ?? { kind: 'pcg32' as const, seed: 0 };
  const templateHash = sha256(canonicalJson(prepared.source));
  const modelHash = hashRef(canonicalJson(prepared.model));
  const inputHash = hashRef(
    canonicalJson({
      templateId,
      templateHash,
      version: prepared.version,
      mode,
      parameters: prepared.parameters,
      rng,
      telemetry: telemetry.hashes,
    }),
  );
  const scenarioHash = hashRef(
    canonicalJson({ model: prepared.model, mode, rng, telemetry: telemetry.hashes }),
  );
  const runId =
    req.runId ??
    (req.deterministicRunId === false ? randomRunId() : deterministicRunId(templateId, inputHash));
  log = log.child({ runId });
  hooks.onStage?.('validating', runId);
  const exists = runExists(req.artifactRoot, runId);
  const reuse = exists && !req.overwriteExisting;
  log.info({ bins: grid.bins, nodes: plan.nodeCount, series: plan.series.length, reuse }, 'run validated');

  if (req.dryRun) {
    return {
      outcome: 'planned',
      runId,
      templateId,
      mode,
      errors: [],
      warnings,
      grid,
      canReplay: false,
      durationMs: elapsed(),
      plan: { nodes: plan.nodeCount, series: plan.series.length, bins: grid.bins, reuse },
    };
  }
  const reused = async (): Promise<RunReport> => {
    const existing = await readRun(req.artifactRoot, runId);
    log.info({}, 'run reused');
    return finished('reused', existing.runJson.warnings ?? [], existing.seriesCount);
  };
  const finished = (
    outcome: 'succeeded' | 'reused',
    w: Warning[],
    seriesCount: number,
    evaluationMs?: number,
  ) => {
    const c = runContents(req.artifactRoot, runId);
    return {
      outcome,
      runId,
      templateId,
      mode,
      errors: [],
      warnings: w,
      grid,
      artifacts: {
        location: c.location,
        runJson: c.runJson,
        manifestJson: c.manifestJson,
        seriesIndex: c.seriesIndex,
        seriesCount,
      },
      canReplay: c.runJson && c.manifestJson && c.seriesIndex && c.spec,
      durationMs: elapsed(),
      ...(evaluationMs !== undefined ? { evaluationMs } : {}),
    };
  };
  if (reuse) return reused();

  hooks.onStage?.('evaluating', runId);
  const evaluationStart = performance.now();
  const columns = await evaluatePlan(plan, {
    seed: rng.seed,
    telemetry: telemetry.series,
    signal: hooks.signal,
    onProgress: (done, bins) => hooks.onProgress?.(done / bins),
  });
  const evaluationMs = Math.round((performance.now() - evaluationStart) * 1000) / 1000;
  hooks.metrics?.evaluated(mode, evaluationMs);
  log.info({ evaluationMs }, 'run evaluated');

  hooks.onStage?.('writing', runId);
  const staged = await stageRun(req.artifactRoot, runId);
  try {
    const written: WrittenSeries[] = [];
    // Files are written by the thread pool while the next series is formatted; a few at a time.
    const inFlight = new Set<Promise<void>>();
    // Series that are one column (a node's capacity bound to a shared profile) are formatted once.
    const formatted = new Map<string, { csv: ReturnType<typeof seriesCsv>; hash: string }>();
    for (const spec of plan.series) {
      hooks.signal?.throwIfAborted();
      let done = formatted.get(spec.column);
      if (!done) {
        const csv = seriesCsv(columns.get(spec.column)!);
        done = { csv, hash: hashRef(csv.bytes) };
        formatted.set(spec.column, done);
      }
      const { csv, hash } = done;
      if (csv.nonFinite) {
        warnings.push({
          code: 'nonFiniteValue',
          message: `${spec.id}: ${csv.nonFinite} non-finite values written as 0`,
        });
      }
      const path = `series/${spec.id}.csv`;
      written.push({ spec, path, hash, points: grid.bins });
      const w = staged.write({ path, bytes: csv.bytes }).finally(() => inFlight.delete(w));
      inFlight.add(w);
      if (inFlight.size >= 4) await Promise.race(inFlight);
    }
    await Promise.all(inFlight);
    const copied = new Set<string>();
    for (const [binding, bytes] of telemetry.files) {
      let name = basename(filePath(binding));
      while (copied.has(name)) name = `_${name}`;
      copied.add(name);
      await staged.write({ path: `model/telemetry/${name}`, bytes });
    }
    const description: RunDescription = {
      runId,
      templateId,
      templateVersion: prepared.version,
      ...(prepared.title ? { templateTitle: prepared.title } : {}),
      mode,
      grid,
      window: prepared.window,
      modelHash,
      scenarioHash,
      inputHash,
      rng,
      parameters: prepared.parameters,
      createdUtc: new Date().toISOString(),
      warnings,
      series: written,
    };
    await staged.write({ path: 'spec.yaml', bytes: stringify(prepared.model) });
    await staged.write({ path: 'series/index.json', bytes: seriesIndexJson(description) });
    await staged.write({ path: 'manifest.json', bytes: manifestJson(description) });
    await staged.write({ path: 'run.json', bytes: runJson(description) });
    hooks.signal?.throwIfAborted();
    if (!(await staged.commit(!!req.overwriteExisting))) return reused();
  } catch (err) {
    await staged.discard();
    throw err;
  }
  hooks.metrics?.runCreated(mode);
  const report = finished('succeeded', warnings, plan.series.length, evaluationMs);
  log.info(
    { durationMs: report.durationMs, series: plan.series.length, warnings: warnings.length },
    'run completed',
  );
  return report;
};
