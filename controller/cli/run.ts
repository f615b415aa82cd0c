// `simops run TEMPLATE [--param k=v]... [--seed N] [--out DIR]`: one simulation run through the same
// orchestration the SimulationRun reconciler uses. Artifacts go to `<out>/runs/<runId>/`.
// Exit 0 when the run succeeded, was reused or (--dry-run) is valid; 2 when the template or the
// parameters are invalid (every error with its field); 1 when the run could not be made.
import { readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { pino } from 'pino';
import { RUN_ID } from '../../reconcilers/simulation-run/artifacts/run-id.ts';
import { formatFieldError } from '../../reconcilers/simulation-run/engine/issues.ts';
import { runMetrics } from '../../reconcilers/simulation-run/metrics.ts';
import { type RunReport, runSimulation } from '../../reconcilers/simulation-run/orchestrate.ts';
import { directoryFiles } from '../../reconcilers/simulation-run/source-files.ts';

export interface RunCommandOptions {
  param: string[];
  seed?: string;
  out: string;
  mode: string;
  templateId?: string;
  runId?: string;
  deterministicRunId: boolean;
  overwrite?: boolean;
  dryRun?: boolean;
  root?: string;
  json?: boolean;
  logLevel: string;
}

export const collectParam = (value: string, previous: string[]): string[] => [...previous, value];

const fail = (message: string, code = 1): number => {
  console.error(message);
  return code;
};

export const runCommand = async (template: string, opts: RunCommandOptions): Promise<number> => {
  let text: string;
  try {
    text = readFileSync(template, 'utf8');
  } catch (err) {
    return fail(
      `${template}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`,
    );
  }
  if (opts.mode !== 'simulation' && opts.mode !== 'telemetry') {
    return fail(`--mode: Unsupported value: "${opts.mode}": supported values: simulation, telemetry`, 2);
  }
  const parameters: Record<string, string> = {};
  for (const p of opts.param) {
    const eq = p.indexOf('=');
    if (eq <= 0) return fail(`--param ${p}: expected NAME=VALUE`, 2);
    parameters[p.slice(0, eq)] = p.slice(eq + 1);
  }
  let seed: number | undefined;
  if (opts.seed !== undefined) {
    seed = Number(opts.seed);
    if (!Number.isSafeInteger(seed) || seed < 0)
      return fail(`--seed ${opts.seed}: must be an integer >= 0`, 2);
  }
  if (opts.runId !== undefined && !RUN_ID.test(opts.runId)) {
    return fail(`--run-id ${opts.runId}: must match ${RUN_ID.source}`, 2);
  }
  const base = dirname(resolve(template));
  const log = pino({ level: opts.logLevel, base: { component: 'simops-run' } }, pino.destination(2));
  let report: RunReport;
  try {
    report = await runSimulation(
      {
        template: text,
        templateId: opts.templateId,
        mode: opts.mode,
        parameters,
        parametersFromStrings: true,
        parameterField: '--param',
        rng: seed === undefined ? undefined : { kind: 'pcg32', seed },
        deterministicRunId: opts.deterministicRunId,
        runId: opts.runId,
        overwriteExisting: opts.overwrite,
        dryRun: opts.dryRun,
        artifactRoot: resolve(opts.out),
        files: directoryFiles(resolve(opts.root ?? base), base),
      },
      { log, metrics: runMetrics },
    );
  } catch (err) {
    return fail(`${template}: the run failed: ${(err as Error).message}`);
  }
  if (opts.json) console.log(JSON.stringify(report, null, 2));
  if (report.outcome === 'invalid') {
    for (const e of report.errors) console.error(`${template}: ${formatFieldError(e)}`);
    return 2;
  }
  if (!opts.json) printReport(report);
  return 0;
};

const printReport = (r: RunReport) => {
  const grid = r.grid ? `${r.grid.bins} bins of ${r.grid.binSize} ${r.grid.binUnit}` : '';
  if (r.outcome === 'planned') {
    const p = r.plan!;
    console.log(`valid: ${r.templateId} (${r.mode}), ${grid}, ${p.nodes} nodes, ${p.series} series`);
    console.log(`would ${p.reuse ? 'reuse' : 'write'} ${r.runId}`);
  } else {
    const where = relative(process.cwd(), r.artifacts!.location) || r.artifacts!.location;
    console.log(
      `${r.outcome === 'reused' ? 'reused' : 'wrote'} ${r.runId}: ${r.artifacts!.seriesCount} series, ${grid}`,
    );
    console.log(`artifacts: ${where}/ (run.json, manifest.json, series/index.json, series/*.csv)`);
    if (r.evaluationMs !== undefined)
      console.log(`evaluated in ${r.evaluationMs} ms, ${r.durationMs} ms in all`);
  }
  for (const w of r.warnings) console.log(`warning: ${w.code}: ${w.message}`);
};
