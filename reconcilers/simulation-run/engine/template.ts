// A FlowTime template → the model the engine compiles: parameters declared, resolved against the
// run's values and substituted; then what a template (unlike a bare engine model) must have —
// `metadata.id`, a UTC `window`, a `topology` with nodes — checked, each error naming its field.
import { parse } from 'yaml';
import type { Mode } from './context.ts';
import { type FieldError, isFiniteNumber, isRecord } from './issues.ts';
import { declareParameters, type ParamValue, resolveParameters } from './parameters.ts';
import { substitute } from './substitute.ts';

export interface TemplateInput {
  /** The template as text (YAML or JSON) or already parsed. */
  template: string | Record<string, unknown>;
  /** The id the run names (SimulationRun spec.templateId); must match `metadata.id` when given. */
  templateId?: string;
  mode: Mode;
  parameters?: Record<string, unknown>;
  /** Parameter values are strings to parse by the declared type (`--param k=v`). */
  parametersFromStrings?: boolean;
  /** Where parameter errors point (default `spec.parameters`). */
  parameterField?: string;
}

export interface PreparedTemplate {
  /** As written, parsed: what the template hash covers. */
  source: Record<string, unknown>;
  /** After substitution: what the engine compiles and `spec.yaml` records. */
  model: Record<string, unknown>;
  id: string;
  title?: string;
  version: string;
  window: { start: string; timezone: string };
  parameters: Record<string, ParamValue>;
  rng?: { kind: 'pcg32'; seed: number };
}

const TEMPLATE_ID = /^[A-Za-z0-9][-A-Za-z0-9_.]*$/;

export const parseTemplateText = (text: string): { value?: Record<string, unknown>; error?: FieldError } => {
  try {
    const value: unknown = parse(text);
    if (!isRecord(value))
      return { error: { field: '', message: 'the template must be a YAML or JSON object' } };
    return { value };
  } catch (err) {
    return { error: { field: '', message: `not valid YAML: ${(err as Error).message.split('\n')[0]}` } };
  }
};

export const prepareTemplate = (
  input: TemplateInput,
): { prepared?: PreparedTemplate; errors: FieldError[] } => {
  let source: Record<string, unknown>;
  if (typeof input.template === 'string') {
    const parsed = parseTemplateText(input.template);
    if (!parsed.value) return { errors: [parsed.error!] };
    source = parsed.value;
  } else source = input.template;

  const errors: FieldError[] = [];
  const decls = declareParameters(source.parameters, errors);
  const resolved = resolveParameters(decls, input.parameters, {
    fromStrings: input.parametersFromStrings,
    overrideField: input.parameterField,
  });
  errors.push(...resolved.errors);
  const model = substitute(source, resolved.values, errors, new Set(decls.map((d) => d.name)));

  const meta = isRecord(model.metadata) ? model.metadata : undefined;
  const id = meta?.id ?? input.templateId;
  if (!meta) errors.push({ field: 'metadata', message: 'Required value: {id, title, version}' });
  else if (typeof meta.id !== 'string' || !TEMPLATE_ID.test(meta.id)) {
    errors.push({ field: 'metadata.id', message: 'must be a name of letters, digits, "-", "_" or "."' });
  } else if (input.templateId !== undefined && meta.id !== input.templateId) {
    errors.push({
      field: 'metadata.id',
      message: `"${meta.id}" is not the run's templateId "${input.templateId}"`,
    });
  }
  const version = meta?.version === undefined ? '0' : String(meta.version);

  const window = checkWindow(model.window, errors);
  if (!isRecord(model.topology))
    errors.push({ field: 'topology', message: 'Required value: {nodes, edges}' });
  else if (!Array.isArray(model.topology.nodes) || model.topology.nodes.length === 0) {
    errors.push({ field: 'topology.nodes', message: 'must have at least one node' });
  }
  const rng = checkRng(model.rng, errors);
  if (errors.length || !window || typeof id !== 'string') return { errors };
  return {
    prepared: {
      source,
      model,
      id,
      ...(typeof meta?.title === 'string' ? { title: meta.title } : {}),
      version,
      window,
      parameters: resolved.values,
      ...(rng ? { rng } : {}),
    },
    errors,
  };
};

const checkWindow = (raw: unknown, errors: FieldError[]) => {
  if (!isRecord(raw)) {
    errors.push({ field: 'window', message: 'Required value: {start, timezone}' });
    return undefined;
  }
  const start = raw.start instanceof Date ? raw.start.toISOString() : raw.start;
  if (typeof start !== 'string' || Number.isNaN(Date.parse(start)) || !/^\d{4}-\d{2}-\d{2}T/.test(start)) {
    errors.push({
      field: 'window.start',
      message: 'must be an RFC 3339 date-time, e.g. 2025-01-01T00:00:00Z',
    });
    return undefined;
  }
  const timezone = raw.timezone ?? 'UTC';
  if (timezone !== 'UTC') {
    errors.push({
      field: 'window.timezone',
      message: `Unsupported value: ${JSON.stringify(timezone)}: supported values: "UTC"`,
    });
    return undefined;
  }
  return { start, timezone };
};

const checkRng = (raw: unknown, errors: FieldError[]) => {
  if (raw === undefined || raw === null) return undefined;
  if (!isRecord(raw) || (raw.kind ?? 'pcg32') !== 'pcg32') {
    errors.push({ field: 'rng.kind', message: 'Unsupported value: supported values: "pcg32"' });
    return undefined;
  }
  if (!isFiniteNumber(raw.seed) || !Number.isInteger(raw.seed) || raw.seed < 0) {
    errors.push({ field: 'rng.seed', message: 'must be an integer >= 0' });
    return undefined;
  }
  return { kind: 'pcg32' as const, seed: raw.seed };
};
