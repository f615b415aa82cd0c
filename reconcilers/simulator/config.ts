// A Simulator's config resolved against its repository (seed 000's plato-config): the flows of
// each dataset (inline, and the file `metadata.flowsPath` names), the services of each compose
// file, and the paths process services name. Every path stays inside the repository. The result
// carries the config hash (everything above) and, per dataset, an environment hash (what a
// sandbox runs: a change means its services must be set up again; a flow edit does not).
import { createHash } from 'node:crypto';
import type { Static } from '@sinclair/typebox';
import { parse } from 'yaml';
import { relativePath } from '../../controller/gitops/source-files.ts';
import { canonicalJson } from '../../controller/runtime/canonical-json.ts';
import { API_VERSION } from '../../crds/common.ts';
import type { Dataset, Flow, ServiceSpec, SimulatorSpec } from '../../crds/simulator.ts';
import { validateObject } from '../../crds/validate.ts';
import { type ComposeService, parseCompose } from './compose.ts';

type DatasetT = Static<typeof Dataset>;
export type FlowT = Static<typeof Flow>;
export type ServiceSpecT = Static<typeof ServiceSpec>;

export interface ProcessService {
  name: string;
  spec: ServiceSpecT;
}

export interface ResolvedDataset {
  name: string;
  spec: DatasetT;
  processServices: ProcessService[];
  /** Services of the compose files, with the secrets env of the service entry that named them. */
  composeServices: (ComposeService & { envFrom?: ServiceSpecT['envFrom'] })[];
  flows: FlowT[];
  envHash: string;
}

export interface ResolvedConfig {
  configHash: string;
  datasets: Record<string, ResolvedDataset>;
}

export type ConfigResult = { ok: true; config: ResolvedConfig } | { ok: false; errors: string[] };

/** Reads a file relative to the repository root; throws a message for a missing or escaping path. */
export type ReadFile = (path: string) => Promise<Buffer>;

export const hashOf = (v: unknown): string =>
  `sha256:${createHash('sha256').update(canonicalJson(v)).digest('hex').slice(0, 16)}`;

/** A repository path as written, or why it is refused. */
const checkedPath = (field: string, path: string): { rel: string } | { error: string } => {
  const r = relativePath(path);
  if ('error' in r) return { error: `${field}: ${JSON.stringify(path)}: ${r.error.message}` };
  if (!r.rel) return { error: `${field}: ${JSON.stringify(path)}: names no file` };
  return r;
};

/** Flows of a flows file (`flows: [...]`), validated as Simulator flows are. */
export const parseFlowsFile = (file: string, text: string): { flows: FlowT[] } | { errors: string[] } => {
  let doc: unknown;
  try {
    doc = parse(text);
  } catch (err) {
    return { errors: [`${file}: not valid YAML: ${(err as Error).message.split('\n')[0]}`] };
  }
  const flows = (doc as { flows?: unknown } | null)?.flows;
  if (!Array.isArray(flows)) return { errors: [`${file}: flows: a flows file needs a list of flows`] };
  // Validated through the Simulator schema, so a file and inline flows obey the same rules.
  const { errors, object } = validateObject({
    apiVersion: API_VERSION,
    kind: 'Simulator',
    metadata: { name: 'flows-file' },
    spec: { service: 'flows-file', datasets: { base: { compute: {} } }, flows },
  });
  if (errors.length) {
    return {
      errors: errors.map((e) => `${file}: ${e.field.replace(/^spec\./, '')}: ${e.message}`),
    };
  }
  return { flows: (object.spec as { flows: FlowT[] }).flows };
};

const processErrors = (name: string, s: ServiceSpecT, dataset: string): string[] => {
  const errors: string[] = [];
  const f = `spec.datasets.${dataset}.services.${name}`;
  if (s.command?.includes('/')) {
    const p = checkedPath(`${f}.command`, s.command);
    if ('error' in p) errors.push(p.error);
  }
  if (s.workingDir !== undefined) {
    const r = relativePath(s.workingDir);
    if ('error' in r) errors.push(`${f}.workingDir: ${JSON.stringify(s.workingDir)}: ${r.error.message}`);
  }
  return errors;
};

export const resolveConfig = async (spec: SimulatorSpec, read: ReadFile): Promise<ConfigResult> => {
  const errors: string[] = [];
  const files: Record<string, string> = {};
  const readText = async (
    field: string,
    path: string,
  ): Promise<{ rel: string; text: string } | undefined> => {
    const p = checkedPath(field, path);
    if ('error' in p) {
      errors.push(p.error);
      return undefined;
    }
    try {
      const text = (await read(p.rel)).toString('utf8');
      files[p.rel] = text;
      return { rel: p.rel, text };
    } catch (err) {
      errors.push(`${field}: ${(err as Error).message}`);
      return undefined;
    }
  };

  const inline = spec.flows ?? [];
  const datasets: Record<string, ResolvedDataset> = {};
  for (const [name, ds] of Object.entries(spec.datasets)) {
    const flows: FlowT[] = [...inline];
    const flowsPath = ds.metadata?.flowsPath;
    if (flowsPath !== undefined) {
      const file = await readText(`spec.datasets.${name}.metadata.flowsPath`, flowsPath);
      if (file) {
        const parsed = parseFlowsFile(file.rel, file.text);
        if ('errors' in parsed) errors.push(...parsed.errors);
        else
          for (const flow of parsed.flows) {
            if (flows.some((f) => f.name === flow.name))
              errors.push(`${file.rel}: flow ${flow.name} is defined twice (also inline or in the file)`);
            else flows.push(flow);
          }
      }
    }
    const processServices: ProcessService[] = [];
    const composeServices: ResolvedDataset['composeServices'] = [];
    for (const [svc, s] of Object.entries(ds.services ?? {})) {
      if (s.type === 'process') {
        errors.push(...processErrors(svc, s, name));
        processServices.push({ name: svc, spec: s });
        continue;
      }
      const field = `spec.datasets.${name}.services.${svc}.file`;
      const file = await readText(field, s.file ?? '');
      if (!file) continue;
      const parsed = parseCompose(file.text);
      if (!parsed.ok) errors.push(...parsed.errors.map((e) => `${file.rel}: ${e}`));
      else
        for (const c of parsed.services) {
          if (composeServices.some((x) => x.name === c.name))
            errors.push(`${file.rel}: services.${c.name}: a service of that name is already defined`);
          else composeServices.push({ ...c, ...(s.envFrom ? { envFrom: s.envFrom } : {}) });
        }
    }
    const names = new Set<string>();
    for (const l of ds.listeners ?? []) {
      if (names.has(l.name)) errors.push(`spec.datasets.${name}.listeners: ${l.name} is listed twice`);
      names.add(l.name);
    }
    datasets[name] = {
      name,
      spec: ds,
      processServices,
      composeServices,
      flows,
      envHash: hashOf({ dataset: { ...ds, metadata: undefined }, composeServices }),
    };
  }
  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    config: {
      configHash: hashOf({
        service: spec.service,
        target: spec.target,
        datasets: spec.datasets,
        inline,
        files,
      }),
      datasets,
    },
  };
};
