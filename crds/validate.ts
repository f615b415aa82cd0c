// Validation of whole objects (apiVersion, kind, metadata, spec, status) against the kind schemas,
// with errors shaped as Kubernetes field causes. Used by `simops validate` and the API server.
import { type TSchema, Type } from '@sinclair/typebox';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { API_VERSION, type KindDefinition, Obj, ruleCheck } from './common.ts';
import { type CoreKind, coreKinds } from './core-kinds.ts';
import { kinds } from './index.ts';
import { ObjectMeta } from './object-meta.ts';

export type CauseReason =
  | 'FieldValueRequired'
  | 'FieldValueInvalid'
  | 'FieldValueNotSupported'
  | 'FieldValueTypeInvalid'
  | 'FieldValueUnknown';

/** One problem with one field, as a Kubernetes `StatusCause`. */
export interface FieldError {
  /** Path segments from the object root: map keys as strings, list indexes as numbers. */
  path: (string | number)[];
  /** The path as Kubernetes prints it: `spec.flows[0].steps[1].url`. */
  field: string;
  reason: CauseReason;
  message: string;
}

export const formatFieldPath = (path: readonly (string | number)[]): string =>
  path.reduce<string>(
    (acc, seg) => (typeof seg === 'number' ? `${acc}[${seg}]` : acc ? `${acc}.${seg}` : seg),
    '',
  );

export type UnknownFields = 'reject' | 'prune';

const newAjv = (unknownFields: UnknownFields): Ajv => {
  const ajv = new Ajv({
    allErrors: true,
    useDefaults: true,
    strict: true,
    strictRequired: false,
    verbose: true,
    removeAdditional: unknownFields === 'prune',
  });
  addFormats.default(ajv);
  for (const keyword of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-int-or-string',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addKeyword({
    keyword: 'x-kubernetes-validations',
    schemaType: 'array',
    errors: true,
    validate: function check(rules: { rule: string; message: string }[], data: unknown): boolean {
      // Every rule is on an object; a null there is reported by `type`, and the checks would throw.
      if (data === null || typeof data !== 'object') return true;
      const failed = rules.filter((r) => ruleCheck(r.rule)?.(data) === false);
      (check as { errors?: Partial<ErrorObject>[] }).errors = failed.map((r) => ({
        keyword: 'x-kubernetes-validations',
        message: r.message,
        params: { rule: r.rule },
      }));
      return failed.length === 0;
    },
  });
  return ajv;
};

const metaSchema = ObjectMeta;

const customSchema = (def: KindDefinition): TSchema =>
  Obj(
    {
      apiVersion: Type.Literal(API_VERSION),
      kind: Type.Literal(def.kind),
      metadata: metaSchema,
      spec: def.spec,
      status: Type.Optional(def.status),
    },
    { $id: `${API_VERSION}/${def.kind}` },
  );

const coreSchema = (k: CoreKind): TSchema =>
  Obj(
    {
      apiVersion: Type.Literal(k.apiVersion),
      kind: Type.Literal(k.kind),
      metadata: metaSchema,
      ...k.fields,
    },
    { $id: `${k.apiVersion}/${k.kind}` },
  );

export const knownKinds = (): { apiVersion: string; kind: string }[] => [
  ...kinds.map((k) => ({ apiVersion: API_VERSION, kind: k.kind })),
  ...coreKinds.map((k) => ({ apiVersion: k.apiVersion, kind: k.kind })),
];

const validators = new Map<string, ValidateFunction>();
const validatorFor = (apiVersion: string, kind: string, unknownFields: UnknownFields) => {
  const key = `${unknownFields}:${apiVersion}/${kind}`;
  let v = validators.get(key);
  if (!v) {
    const ajv = ajvs[unknownFields];
    const def = apiVersion === API_VERSION ? kinds.find((k) => k.kind === kind) : undefined;
    const core = coreKinds.find((k) => k.apiVersion === apiVersion && k.kind === kind);
    if (def) v = ajv.compile(customSchema(def));
    else if (core) v = ajv.compile(coreSchema(core));
    else return undefined;
    validators.set(key, v);
  }
  return v;
};

const ajvs: Record<UnknownFields, Ajv> = { reject: newAjv('reject'), prune: newAjv('prune') };

const parsePointer = (pointer: string, root: unknown): (string | number)[] => {
  if (!pointer) return [];
  const out: (string | number)[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      out.push(Number(seg));
      node = node[Number(seg)];
    } else {
      out.push(seg);
      node = node && typeof node === 'object' ? (node as Record<string, unknown>)[seg] : undefined;
    }
  }
  return out;
};

const quote = (v: unknown) => JSON.stringify(v);

const toFieldError = (e: ErrorObject, root: unknown): FieldError => {
  const path = parsePointer(e.instancePath, root);
  const at = (p: (string | number)[], reason: CauseReason, message: string): FieldError => ({
    path: p,
    field: formatFieldPath(p),
    reason,
    message,
  });
  switch (e.keyword) {
    case 'required':
      return at([...path, e.params.missingProperty as string], 'FieldValueRequired', 'Required value');
    case 'additionalProperties':
      return at([...path, e.params.additionalProperty as string], 'FieldValueUnknown', 'unknown field');
    case 'enum':
      return at(
        path,
        'FieldValueNotSupported',
        `Unsupported value: ${quote(e.data)}: supported values: ${(e.params.allowedValues as unknown[]).map(quote).join(', ')}`,
      );
    case 'const':
      return at(
        path,
        'FieldValueNotSupported',
        `Unsupported value: ${quote(e.data)}: must be ${quote(e.params.allowedValue)}`,
      );
    case 'x-kubernetes-validations':
      return at(path, 'FieldValueInvalid', e.message ?? 'invalid');
    case 'type':
      return at(
        path,
        'FieldValueTypeInvalid',
        `Invalid value: ${quote(e.data)}: must be of type ${e.params.type}`,
      );
    default:
      return at(path, 'FieldValueInvalid', `Invalid value: ${quote(e.data)}: ${e.message ?? 'invalid'}`);
  }
};

export interface ValidationResult {
  errors: FieldError[];
  /** The object with schema defaults filled in (and unknown fields removed under `prune`). */
  object: Record<string, unknown>;
}

/**
 * Validates one object. Unknown apiVersion/kind pairs are reported as an error on `kind`.
 * The input is not changed.
 */
export const validateObject = (input: unknown, unknownFields: UnknownFields = 'reject'): ValidationResult => {
  const object = structuredClone(input) as Record<string, unknown>;
  if (object === null || typeof object !== 'object' || Array.isArray(object)) {
    return {
      object: {},
      errors: [{ path: [], field: '', reason: 'FieldValueTypeInvalid', message: 'must be an object' }],
    };
  }
  const { apiVersion, kind } = object;
  const missing: FieldError[] = [];
  if (typeof apiVersion !== 'string')
    missing.push({
      path: ['apiVersion'],
      field: 'apiVersion',
      reason: 'FieldValueRequired',
      message: 'Required value',
    });
  if (typeof kind !== 'string')
    missing.push({ path: ['kind'], field: 'kind', reason: 'FieldValueRequired', message: 'Required value' });
  if (missing.length) return { object, errors: missing };
  const validate = validatorFor(apiVersion as string, kind as string, unknownFields);
  if (!validate) {
    const known = knownKinds()
      .map((k) => `${k.apiVersion}/${k.kind}`)
      .join(', ');
    return {
      object,
      errors: [
        {
          path: ['kind'],
          field: 'kind',
          reason: 'FieldValueNotSupported',
          message: `Unsupported value: ${quote(`${apiVersion}/${kind}`)}: supported kinds: ${known}`,
        },
      ],
    };
  }
  const errors: FieldError[] = [];
  if (!validate(object)) errors.push(...(validate.errors ?? []).map((e) => toFieldError(e, object)));
  const meta = object.metadata as { name?: unknown; generateName?: unknown } | undefined;
  if (meta && typeof meta === 'object' && meta.name === undefined && meta.generateName === undefined) {
    errors.push({
      path: ['metadata', 'name'],
      field: 'metadata.name',
      reason: 'FieldValueRequired',
      message: 'name or generateName is required',
    });
  }
  return { object, errors };
};
