// Schema building blocks shared by every kind. Each helper yields JSON Schema that is at once a
// valid Kubernetes *structural* schema (for the CRD) and an ajv schema (for validation), and a
// static TypeScript type through TypeBox.
import {
  type ObjectOptions,
  type SchemaOptions,
  type Static,
  type TObject,
  type TProperties,
  type TSchema,
  Type,
} from '@sinclair/typebox';

export const GROUP = 'simops.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const CATEGORY = 'simops';

/** An object that rejects unknown fields under strict validation; the CRD generator drops the flag. */
export const Obj = <P extends TProperties>(props: P, opts: ObjectOptions = {}): TObject<P> =>
  Type.Object(props, { additionalProperties: false, ...opts });

/** A string limited to some values: `enum` rather than TypeBox's anyOf of literals, which is not structural. */
export const StringEnum = <const T extends readonly string[]>(values: T, opts: SchemaOptions = {}) =>
  Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...opts });

/** A map from free-form keys to values of one schema (`additionalProperties`, structural). */
export const MapOf = <S extends TSchema>(value: S, opts: SchemaOptions = {}) =>
  Type.Unsafe<Record<string, Static<S>>>({ type: 'object', additionalProperties: value, ...opts });

export const StringMap = (opts: SchemaOptions = {}) => MapOf(Type.String(), opts);

/** Free-form JSON kept as written (template bodies, event parameters). */
export const FreeForm = (opts: SchemaOptions = {}) =>
  Type.Unsafe<Record<string, unknown>>({
    type: 'object',
    'x-kubernetes-preserve-unknown-fields': true,
    ...opts,
  });

/** A Go-style duration as Flux writes them: `30s`, `5m`, `1h30m`, `250ms`. */
export const Duration = (opts: SchemaOptions = {}) =>
  Type.String({ pattern: '^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$', ...opts });

export const Port = (opts: SchemaOptions = {}) => Type.Integer({ minimum: 1, maximum: 65535, ...opts });

/** A DNS-1123 label, the shape of names that refer to other objects. */
export const NAME_PATTERN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const LocalObjectReference = (description: string) =>
  Obj(
    { name: Type.String({ pattern: NAME_PATTERN, maxLength: 253, description: 'Name of the object.' }) },
    { description },
  );

/**
 * A CEL rule as Kubernetes evaluates it (`x-kubernetes-validations`), paired with the same check in
 * TypeScript so the embedded server and `simops validate` enforce it without a CEL engine.
 */
export interface Rule<T> {
  rule: string;
  message: string;
  check: (self: T) => boolean;
}

const ruleChecks = new Map<string, (self: unknown) => boolean>();

/** Attaches CEL rules to a schema and registers their TypeScript twins (looked up by rule text). */
export const withRules = <S extends TSchema>(schema: S, rules: Rule<Static<S>>[]): S => {
  for (const r of rules) ruleChecks.set(r.rule, r.check as (self: unknown) => boolean);
  const existing = (schema['x-kubernetes-validations'] as { rule: string; message: string }[]) ?? [];
  return {
    ...schema,
    'x-kubernetes-validations': [...existing, ...rules.map(({ rule, message }) => ({ rule, message }))],
  };
};

export const ruleCheck = (rule: string): ((self: unknown) => boolean) | undefined => ruleChecks.get(rule);

/** Counts how many of the given values are set, for "exactly one of" rules. */
export const countSet = (...values: unknown[]): number =>
  values.filter((v) => v !== undefined && v !== null && v !== false).length;

/** `metav1.Condition`, as kstatus, Flux and `kubectl wait` read it. */
export const Condition = Obj({
  type: Type.String({ maxLength: 316 }),
  status: StringEnum(['True', 'False', 'Unknown']),
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  lastTransitionTime: Type.String({ format: 'date-time' }),
  reason: Type.String({ maxLength: 1024 }),
  message: Type.String({ maxLength: 32768 }),
});
export type Condition = Static<typeof Condition>;

/** Fields every status carries (kstatus and the manual-reconcile convention). */
export const statusBase = {
  observedGeneration: Type.Optional(Type.Integer({ minimum: 0 })),
  conditions: Type.Optional(
    Type.Array(Condition, {
      'x-kubernetes-list-type': 'map',
      'x-kubernetes-list-map-keys': ['type'],
    }),
  ),
  lastHandledReconcileAt: Type.Optional(Type.String()),
};

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
  format?: string;
}

export const readyColumn: PrinterColumn = {
  name: 'Ready',
  type: 'string',
  jsonPath: '.status.conditions[?(@.type=="Ready")].status',
};
export const phaseColumn: PrinterColumn = { name: 'Phase', type: 'string', jsonPath: '.status.phase' };
export const ageColumn: PrinterColumn = {
  name: 'Age',
  type: 'date',
  jsonPath: '.metadata.creationTimestamp',
};

/** Everything needed to serve, validate and generate the CRD for one kind. */
export interface KindDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: string[];
  description: string;
  spec: TObject;
  status: TObject;
  printerColumns: PrinterColumn[];
}
