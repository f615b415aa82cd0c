// What validation and evaluation report: errors that name the template field (the seed's 400), and
// warnings in FlowTime's run.json shape ({code, message, nodeId}).

export interface FieldError {
  /** The template field, e.g. `topology.nodes[0].semantics.arrivals`, or `spec.parameters.x`. */
  field: string;
  message: string;
}

export interface Warning {
  code: string;
  message: string;
  nodeId?: string;
}

/** Thrown by the template and model checks; carries every error found, not only the first. */
export class ValidationError extends Error {
  readonly errors: FieldError[];
  constructor(errors: FieldError[]) {
    super(errors.map(formatFieldError).join('; '));
    this.errors = errors;
  }
}

export const formatFieldError = (e: FieldError): string => (e.field ? `${e.field}: ${e.message}` : e.message);

/** `a.b[2].c` from a path of keys and indexes. */
export const fieldPath = (...parts: (string | number)[]): string =>
  parts.reduce<string>((acc, p) => (typeof p === 'number' ? `${acc}[${p}]` : acc ? `${acc}.${p}` : p), '');

export const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export const isFiniteNumber = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
