// The job a SimulationRun becomes: resolve its template, then run the orchestration. Its input is
// plain data (the object's namespace, generation, spec and source labels), so another runner can
// carry it to a worker process; the dependencies (API client, directories) are the worker's own.
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { Log } from '../../controller/runtime/logger.ts';
import type { SimulationRunSpec } from '../../crds/simulation-run.ts';
import type { JobContext } from './jobs.ts';
import { runMetrics } from './metrics.ts';
import { type RunReport, runSimulation } from './orchestrate.ts';
import { resolveTemplate, TemplateSourceError } from './template-source.ts';

export interface SimulationJobInput {
  namespace: string;
  name: string;
  spec: SimulationRunSpec;
  source?: { namespace: string; name: string };
}

export type SimulationJobResult =
  | { kind: 'report'; report: RunReport; origin: string }
  | { kind: 'sourceError'; reason: string; message: string; terminal: boolean };

export interface SimulationJobDeps {
  client: KubeClient;
  cacheDir: string;
  artifactDir: string;
  log: Log;
}

export const simulationJob =
  (deps: SimulationJobDeps) =>
  async (input: SimulationJobInput, ctx: JobContext): Promise<SimulationJobResult> => {
    const { spec } = input;
    ctx.stage('validating');
    let resolved: Awaited<ReturnType<typeof resolveTemplate>>;
    try {
      resolved = await resolveTemplate(
        { namespace: input.namespace, spec, source: input.source },
        deps,
        ctx.signal,
      );
    } catch (err) {
      if (!(err instanceof TemplateSourceError)) throw err;
      return { kind: 'sourceError', reason: err.reason, message: err.message, terminal: err.terminal };
    }
    const report = await runSimulation(
      {
        template: resolved.template,
        templateId: spec.templateId,
        mode: spec.mode ?? 'simulation',
        parameters: spec.parameters,
        rng: spec.rng ? { kind: 'pcg32', seed: spec.rng.seed ?? 0 } : undefined,
        deterministicRunId: spec.deterministicRunId,
        runId: spec.runId,
        overwriteExisting: spec.overwriteExisting,
        dryRun: spec.dryRun,
        artifactRoot: deps.artifactDir,
        files: resolved.files,
      },
      {
        signal: ctx.signal,
        log: deps.log.child({ namespace: input.namespace, name: input.name }),
        onStage: (stage, runId) => ctx.stage(stage, runId),
        onProgress: (f) => ctx.progress(f),
        metrics: runMetrics,
      },
    );
    return { kind: 'report', report, origin: resolved.origin };
  };
