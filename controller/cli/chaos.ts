// `simops chaos run FILE|NAME`: the seed's CI gate as one command. It applies the ChaosScenario in
// FILE (or names one already in the cluster), asks for a fresh run (the simops.dev/requestedAt
// annotation), waits for the verdict of that run, prints the summary, and exits 0 when it passed,
// 1 when it failed (violations, or aborted on a sustained breach), 2 when there was no verdict
// (invalid spec, target not allowed, run error, stopped, timed out).
import { existsSync, readFileSync, statSync } from 'node:fs';
import { KubeConfig } from '@kubernetes/client-node';
import type { KubeObject } from '../../apiserver/types.ts';
import type { ChaosScenarioStatus } from '../../crds/chaos-scenario.ts';
import { formatManifestError, validateManifests } from '../manifests/validate.ts';
import { parseDuration } from '../runtime/duration.ts';
import { simopsKind } from '../runtime/kinds.ts';
import { KubeClient } from '../runtime/kube-client.ts';
import { REQUESTED_AT } from '../runtime/status.ts';

const CHAOS = simopsKind('ChaosScenario');
const TERMINAL = new Set(['Passed', 'Failed', 'Stopped', 'Error']);

export interface ChaosRunOptions {
  kubeconfig?: string;
  namespace: string;
  timeout: string;
  json?: boolean;
  quiet?: boolean;
}

type Status = ChaosScenarioStatus & {
  observedGeneration?: number;
  lastHandledReconcileAt?: string;
  conditions?: { type: string; status: string; reason: string; message: string }[];
};

const pct = (x: number) => `${Math.round(x * 10000) / 100}%`;

/** The verdict as a person reads it, from status alone (works against any cluster). */
export const statusSummary = (o: KubeObject): string => {
  const s = (o.status ?? {}) as Status;
  const ready = s.conditions?.find((c) => c.type === 'Ready');
  const lines = [
    `ChaosScenario ${o.metadata.namespace}/${o.metadata.name}: ${s.phase ?? 'no phase'}${ready ? ` (${ready.reason}: ${ready.message})` : ''}`,
  ];
  if (s.runId)
    lines.push(`  run ${s.runId}, seed ${s.seed}, schedule ${s.scheduleDigest}, target ${s.target}`);
  const m = s.summary;
  if (m) {
    lines.push(
      `  ${m.requests} requests in ${m.realSeconds} s (${m.throughputRps} req/s), ${m.agentsSpawned} agents; p50 ${m.p50Ms} ms, p95 ${m.p95Ms} ms, p99 ${m.p99Ms} ms; errors ${m.errors} (${pct(m.errorRate)}), resets ${m.resets}, timeouts ${m.timeouts}; tick drift p99 ${m.tickDriftP99Ms} ms`,
      '',
      'Invariants:',
    );
    for (const i of m.invariants)
      lines.push(
        `  ${i.verdict.toUpperCase().padEnd(6)} ${i.name}: ${i.metric} ${i.op} ${i.threshold}, value ${i.value ?? 'none'} [${i.severity}]`,
      );
  }
  if (s.violations?.length) {
    lines.push('', 'Violations:');
    for (const v of s.violations)
      lines.push(
        `  ${v.at === 'end' ? 'end' : `sim ${v.simTime}`}  ${v.invariant}: ${v.metric} ${v.observed}, want ${v.op} ${v.threshold} [${v.severity}]${v.during?.length ? ` during ${v.during.join(', ')}` : ''}  (seed ${v.seed}, run ${v.runId})`,
      );
    if ((m?.violations ?? 0) > s.violations.length)
      lines.push(
        `  … ${m!.violations - s.violations.length} more in ${s.artifacts?.summary ?? 'summary.json'}`,
      );
  }
  if (s.artifacts)
    lines.push('', `Artifacts: ${s.artifacts.location} (summary.json, timeline.jsonl, chart.svg)`);
  return `${lines.join('\n')}\n`;
};

const loadScenario = (file: string): { object?: KubeObject; errors: string[] } => {
  const report = validateManifests(file);
  if (report.errors.length) return { errors: report.errors.map(formatManifestError) };
  const docs = report.documents.filter((d) => d.object.kind === 'ChaosScenario');
  if (docs.length !== 1) return { errors: [`${file}: expected one ChaosScenario, found ${docs.length}`] };
  return { object: docs[0]!.object as unknown as KubeObject, errors: [] };
};

export const chaosRunCommand = async (what: string, opts: ChaosRunOptions): Promise<number> => {
  const kc = new KubeConfig();
  const kubeconfig = opts.kubeconfig ?? process.env.KUBECONFIG;
  if (kubeconfig) kc.loadFromFile(kubeconfig);
  else kc.loadFromDefault();
  const client = new KubeClient(kc);
  let timeoutMs: number;
  try {
    timeoutMs = parseDuration(opts.timeout);
  } catch (err) {
    console.error(`--timeout: ${(err as Error).message}`);
    return 2;
  }
  const token = `simops-chaos-run-${new Date().toISOString()}`;
  let namespace = opts.namespace;
  let name = what;
  try {
    if (existsSync(what) && statSync(what).isFile()) {
      const loaded = loadScenario(what);
      if (!loaded.object) {
        for (const e of loaded.errors) console.error(e);
        return 2;
      }
      const o = loaded.object;
      namespace = o.metadata.namespace ?? namespace;
      name = o.metadata.name!;
      await client.apply(
        {
          ...o,
          metadata: {
            ...o.metadata,
            namespace,
            annotations: { ...(o.metadata.annotations ?? {}), [REQUESTED_AT]: token },
          },
        },
        { fieldManager: 'simops-chaos-run' },
      );
    } else {
      const existing = await client.get(CHAOS, namespace, name);
      if (!existing) {
        console.error(`ChaosScenario ${namespace}/${name} not found (and ${what} is not a file)`);
        return 2;
      }
      await client.mergePatch(CHAOS, namespace, name, {
        metadata: { annotations: { [REQUESTED_AT]: token } },
      });
    }
  } catch (err) {
    console.error(`could not start the run: ${(err as Error).message}`);
    return 2;
  }
  if (!opts.quiet)
    console.error(`ChaosScenario ${namespace}/${name}: run requested (${token}); waiting for the verdict`);

  const end = Date.now() + timeoutMs;
  let lastLine = '';
  let o: KubeObject | undefined;
  for (;;) {
    o = await client.get(CHAOS, namespace, name).catch(() => undefined);
    const s = (o?.status ?? {}) as Status;
    const current = o && s.lastHandledReconcileAt === token && s.observedGeneration === o.metadata.generation;
    if (current && TERMINAL.has(s.phase ?? '')) break;
    if (!opts.quiet && current) {
      const ready = s.conditions?.find((c) => c.type === 'Ready');
      const p = s.progress;
      const line = p
        ? `${s.phase} sim ${p.simTime} (${p.percent}%): ${p.agents} agents, ${p.requests} requests, p95 ${p.p95Ms ?? '-'} ms, errors ${p.errors}, ${p.violations} violations`
        : `${s.phase ?? 'Pending'}: ${ready?.reason ?? ''} ${ready?.message ?? ''}`;
      if (line !== lastLine) console.error(line);
      lastLine = line;
    }
    if (Date.now() > end) {
      console.error(`timed out after ${opts.timeout} waiting for the verdict of ${namespace}/${name}`);
      if (o) process.stdout.write(statusSummary(o));
      return 2;
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  const s = (o!.status ?? {}) as Status;
  if (opts.json) process.stdout.write(`${JSON.stringify(o!.status, null, 2)}\n`);
  else {
    const text = s.artifacts ? readText(`${s.artifacts.location}/summary.txt`) : undefined;
    process.stdout.write(text ?? statusSummary(o!));
    if (text && s.artifacts) process.stdout.write(`\nArtifacts: ${s.artifacts.location}\n`);
  }
  return s.phase === 'Passed' ? 0 : s.phase === 'Failed' ? 1 : 2;
};

/** The run's own summary.txt when the artifacts are on this machine (embedded mode). */
const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};
