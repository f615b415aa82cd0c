// The job a ChaosScenario run becomes. Its input is plain data (the spec, the resolved target URLs,
// the run id), so another runner can carry it to a `simops worker`; the hook secret is read by the
// worker itself, never carried in the input.
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { ChaosScenarioSpec } from '../../crds/chaos-scenario.ts';
import { MissingSecretError, readSecret } from '../git-source/credentials.ts';
import type { JobContext } from '../simulation-run/jobs.ts';
import { type RunArtifacts, runDirectory, writeArtifacts } from './artifacts.ts';
import { metricsSink, runFinished } from './metrics.ts';
import { resolveScenario } from './resolve.ts';
import { type LiveProgress, type RunReport, runScenario } from './runner.ts';

export interface ChaosJobInput {
  namespace: string;
  name: string;
  spec: ChaosScenarioSpec;
  runId: string;
  scheduleDigest: string;
  target: { url: string; hookUrl?: string; metricsUrl?: string };
}

/** The report without its timeline (that is in timeline.jsonl), and where the files are. */
export type FinalReport = Omit<RunReport, 'timeline'> & { artifacts?: RunArtifacts };

export interface ChaosJobDetail extends LiveProgress {
  /** Set when the run is over (also when it was stopped). */
  final?: FinalReport;
}

export type ChaosJobResult = FinalReport;

export interface ChaosJobDeps {
  artifactDir: string;
  /** The chaos hook's signing secret, from the Secret the spec names. */
  hookSecret(namespace: string, ref: { name: string; key?: string }): Promise<string | undefined>;
}

/** Reads the hook secret with `client`: the controller's in process, the worker's own in a worker. */
export const hookSecretFrom =
  (client: KubeClient): ChaosJobDeps['hookSecret'] =>
  async (namespace, ref) => {
    try {
      return (await readSecret(client, namespace, ref.name))(ref.key ?? 'secret');
    } catch (err) {
      // Only a missing Secret is "not found"; a refused or failed read is the error it is (retried).
      if (err instanceof MissingSecretError) return undefined;
      throw err;
    }
  };

export const chaosJob =
  (deps: ChaosJobDeps) =>
  async (input: ChaosJobInput, ctx: JobContext<ChaosJobDetail>): Promise<ChaosJobResult> => {
    const resolved = resolveScenario(input.spec);
    if (!resolved.ok) throw new Error(resolved.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
    ctx.stage('validating', input.runId);
    const ref = input.spec.target.chaosHookSecretRef;
    const hookSecret = ref ? await deps.hookSecret(input.namespace, ref) : undefined;
    if (ref && hookSecret === undefined)
      throw new Error(`the chaos hook secret ${ref.name}[${ref.key ?? 'secret'}] was not found`);
    ctx.stage('evaluating', input.runId);
    const scenarioName = `${input.namespace}/${input.name}`;
    const report = await runScenario(
      {
        scenario: resolved.scenario,
        runId: input.runId,
        scenarioName,
        scheduleDigest: input.scheduleDigest,
        notes: resolved.notes,
        target: { ...input.target, ...(hookSecret ? { hookSecret } : {}) },
      },
      {
        signal: ctx.signal,
        onProgress: (p) => ctx.progress(p.percent / 100, p),
        metrics: metricsSink(scenarioName),
      },
    );
    ctx.stage('writing', input.runId);
    const artifacts = await writeArtifacts(
      runDirectory(deps.artifactDir, input.namespace, input.name, input.runId),
      report,
    );
    runFinished(scenarioName, report.verdict);
    const { timeline: _, ...rest } = report;
    const final: FinalReport = { ...rest, artifacts };
    const last = report.timeline[report.timeline.length - 1];
    ctx.progress(1, {
      simMinutes: report.simMinutes,
      totalSimMinutes: report.totalSimMinutes,
      percent:
        report.verdict === 'Stopped' ? Math.floor((report.simMinutes / report.totalSimMinutes) * 100) : 100,
      realSeconds: report.realSeconds,
      agents: 0,
      agentsSpawned: report.agentsSpawned,
      agentsThrottled: report.agentsThrottled,
      requests: report.totals.requests,
      errors: report.totals.errors,
      errorRate: report.totals.errorRate,
      ...(last ? { p95Ms: report.totals.p95Ms } : {}),
      violations: report.violations.length,
      notices: report.notices,
      final,
    });
    return final;
  };
