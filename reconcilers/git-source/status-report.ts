// Pure: the status report a GitSource writes back to git (spec.writeBack), one YAML file per object
// it applied plus index.yaml and README.md. Deterministic (sorted keys and objects, no timestamps)
// so that an unchanged world yields the same bytes and write-back commits nothing.
import { stringify } from 'yaml';
import type { KubeObject } from '../../apiserver/types.ts';
import { getCondition } from '../../controller/runtime/conditions.ts';
import type { ChaosScenarioStatus } from '../../crds/chaos-scenario.ts';
import type { Condition } from '../../crds/common.ts';
import type { MachineStatus } from '../../crds/machine.ts';
import type { SandboxStatus } from '../../crds/sandbox.ts';
import type { SimulationRunStatus } from '../../crds/simulation-run.ts';
import type { SimulatorStatus } from '../../crds/simulator.ts';
import { groupOf } from './inventory.ts';

export interface ReportSource {
  namespace: string;
  name: string;
  /** The GitSource's last applied revision. */
  revision?: string;
}

interface Ready {
  status: string;
  reason?: string;
  message?: string;
}

interface Entry {
  file: string;
  object: KubeObject;
  phase?: string;
  ready?: Ready;
}

const toYaml = (value: unknown) => stringify(value, { sortMapEntries: true, lineWidth: 0 });

/** `<kind>[.<group>]/[<namespace>/]<name>.yaml`: by kind first, as `kubectl get` lists them. */
export const reportFile = (o: KubeObject): string => {
  const group = groupOf(o.apiVersion);
  const kind = `${o.kind.toLowerCase()}${group && group !== 'simops.dev' ? `.${group}` : ''}`;
  const ns = o.metadata.namespace ? `${o.metadata.namespace}/` : '';
  return `${kind}/${ns}${o.metadata.name}.yaml`;
};

/** The one or two figures per kind that a pull request or dashboard wants (as printer columns do). */
const figures = (o: KubeObject): Record<string, unknown> | undefined => {
  if (o.apiVersion !== 'simops.dev/v1alpha1' || !o.status) return undefined;
  switch (o.kind) {
    case 'Sandbox': {
      const s = o.status as SandboxStatus;
      return { endpoint: s.endpoint, artifact: s.resolvedSource?.artifact, digest: s.resolvedSource?.digest };
    }
    case 'SimulationRun': {
      const s = o.status as SimulationRunStatus;
      return { runId: s.runId, artifacts: s.artifacts };
    }
    case 'ChaosScenario': {
      const s = o.status as ChaosScenarioStatus;
      return {
        runId: s.runId,
        summary: s.summary,
        violations: s.violations?.length ?? s.summary?.violations,
      };
    }
    case 'Simulator': {
      const s = o.status as SimulatorStatus;
      return { tags: s.tags };
    }
    case 'Machine': {
      const s = o.status as MachineStatus;
      return { backend: s.backend?.name, endpoint: s.endpoint };
    }
    default:
      return undefined;
  }
};

/** Drops undefined values and objects left empty, so absent figures leave no `{}` behind. */
const compact = (value: Record<string, unknown> | undefined) => {
  if (!value) return undefined;
  const kept = Object.entries(value).filter(([, v]) => v !== undefined);
  return kept.length ? Object.fromEntries(kept) : undefined;
};

const entryOf = (o: KubeObject): Entry => {
  const status = (o.status ?? {}) as { phase?: unknown; conditions?: Condition[] };
  const c = getCondition(status.conditions, 'Ready');
  return {
    file: reportFile(o),
    object: o,
    phase: typeof status.phase === 'string' ? status.phase : undefined,
    ready: c && { status: c.status, reason: c.reason || undefined, message: c.message || undefined },
  };
};

const objectDocument = (e: Entry, source: ReportSource): string => {
  const { object: o } = e;
  const observed = (o.status as { observedGeneration?: number } | undefined)?.observedGeneration;
  const generation = o.metadata.generation;
  return toYaml({
    apiVersion: o.apiVersion,
    kind: o.kind,
    namespace: o.metadata.namespace,
    name: o.metadata.name,
    source: { gitSource: `${source.namespace}/${source.name}`, revision: source.revision },
    phase: e.phase,
    ready: e.ready,
    generation,
    observedGeneration: observed,
    // Whether status speaks for the current spec yet.
    upToDate: generation !== undefined && observed !== undefined ? observed === generation : undefined,
    figures: compact(figures(o)),
  });
};

const indexDocument = (entries: Entry[], source: ReportSource): string =>
  toYaml({
    source: { gitSource: `${source.namespace}/${source.name}`, revision: source.revision },
    summary: {
      objects: entries.length,
      ready: entries.filter((e) => e.ready?.status === 'True').length,
    },
    objects: entries.map((e) => ({
      file: e.file,
      kind: e.object.kind,
      namespace: e.object.metadata.namespace,
      name: e.object.metadata.name,
      phase: e.phase,
      ready: e.ready?.status,
      reason: e.ready?.reason,
    })),
  });

const cell = (s: string | undefined) => (s ? s.replace(/[\r\n]+/g, ' ').replace(/\|/g, '\\|') : '–');

const readme = (entries: Entry[], source: ReportSource): string => {
  const ready = entries.filter((e) => e.ready?.status === 'True').length;
  const rows = entries.map(
    (e) =>
      `| ${e.object.kind} | ${cell(e.object.metadata.namespace)} | [${cell(e.object.metadata.name)}](${e.file}) | ${cell(e.phase)} | ${cell(e.ready?.status)} | ${cell(e.ready?.reason)} |`,
  );
  return [
    `# Status of GitSource ${source.namespace}/${source.name}`,
    '',
    `Revision \`${source.revision ?? 'none applied'}\`: ${ready} of ${entries.length} objects Ready.`,
    '',
    '| Kind | Namespace | Name | Phase | Ready | Reason |',
    '| --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
};

/** Report files (relative to the write-back path) for the objects a GitSource applied. */
export const statusReport = (
  objects: readonly KubeObject[],
  source: ReportSource,
): Record<string, string> => {
  const entries = objects.map(entryOf).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  const files: Record<string, string> = {
    'index.yaml': indexDocument(entries, source),
    'README.md': readme(entries, source),
  };
  for (const e of entries) files[e.file] = objectDocument(e, source);
  return files;
};
