// Errors answered as Kubernetes `Status` objects.
import type { FieldError } from '../crds/validate.ts';

export type StatusReason =
  | 'BadRequest'
  | 'Unauthorized'
  | 'Forbidden'
  | 'NotFound'
  | 'AlreadyExists'
  | 'Conflict'
  | 'Gone'
  | 'Expired'
  | 'Invalid'
  | 'MethodNotAllowed'
  | 'NotAcceptable'
  | 'RequestEntityTooLarge'
  | 'UnsupportedMediaType'
  | 'InternalError';

export interface StatusCause {
  reason?: string;
  message: string;
  field?: string;
}

export interface StatusDetails {
  name?: string;
  group?: string;
  kind?: string;
  uid?: string;
  causes?: StatusCause[];
}

export class ApiError extends Error {
  readonly code: number;
  readonly reason: StatusReason;
  readonly details?: StatusDetails;
  constructor(code: number, reason: StatusReason, message: string, details?: StatusDetails) {
    super(message);
    this.code = code;
    this.reason = reason;
    this.details = details;
  }

  toStatus() {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

export interface Target {
  group: string;
  plural: string;
  name?: string;
}

const resourceName = (t: Target) => (t.group ? `${t.plural}.${t.group}` : t.plural);

export const notFound = (t: Target) =>
  new ApiError(404, 'NotFound', `${resourceName(t)} "${t.name}" not found`, {
    name: t.name,
    group: t.group,
    kind: t.plural,
  });

export const alreadyExists = (t: Target) =>
  new ApiError(409, 'AlreadyExists', `${resourceName(t)} "${t.name}" already exists`, {
    name: t.name,
    group: t.group,
    kind: t.plural,
  });

export const conflict = (
  t: Target,
  why = 'the object has been modified; please apply your changes to the latest version and try again',
) =>
  new ApiError(409, 'Conflict', `Operation cannot be fulfilled on ${resourceName(t)} "${t.name}": ${why}`, {
    name: t.name,
    group: t.group,
    kind: t.plural,
  });

export const badRequest = (message: string) => new ApiError(400, 'BadRequest', message);

export const invalid = (kind: string, group: string, name: string | undefined, errors: FieldError[]) =>
  new ApiError(
    422,
    'Invalid',
    `${kind}${group ? `.${group}` : ''} "${name ?? ''}" is invalid: ${errors.map((e) => `${e.field}: ${e.message}`).join(', ')}`,
    {
      name,
      group,
      kind,
      causes: errors.map((e) => ({ reason: e.reason, message: e.message, field: e.field })),
    },
  );

export const internalError = (err: unknown) =>
  new ApiError(
    500,
    'InternalError',
    `Internal error occurred: ${err instanceof Error ? err.message : String(err)}`,
  );
