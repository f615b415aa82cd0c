// Checks the rules Kubernetes applies to CRD schemas (structural schemas, apiextensions v1), so a
// generated CRD that a real API server would reject fails our tests first.
type Schema = Record<string, unknown>;

const ALLOWED_TYPES = new Set(['object', 'array', 'string', 'integer', 'number', 'boolean']);
// Keywords of JSON Schema that OpenAPI v3.0 / apiextensions v1 do not accept.
const FORBIDDEN = [
  '$ref',
  '$id',
  '$schema',
  'const',
  'definitions',
  'patternProperties',
  'dependencies',
  'if',
  'then',
  'else',
];
const NOT_IN_JUNCTORS = [
  'type',
  'default',
  'description',
  'additionalProperties',
  'nullable',
  'x-kubernetes-preserve-unknown-fields',
];

export const structuralProblems = (schema: Schema, path = 'openAPIV3Schema', inJunctor = false): string[] => {
  const problems: string[] = [];
  const say = (msg: string) => problems.push(`${path}: ${msg}`);
  for (const key of FORBIDDEN) if (key in schema) say(`${key} is not allowed`);
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum']) {
    if (key in schema && typeof schema[key] !== 'boolean') say(`${key} must be a boolean in OpenAPI v3.0`);
  }
  if (inJunctor) {
    for (const key of NOT_IN_JUNCTORS)
      if (key in schema) say(`${key} is not allowed inside allOf/anyOf/oneOf/not`);
  } else {
    const free =
      schema['x-kubernetes-preserve-unknown-fields'] === true ||
      schema['x-kubernetes-int-or-string'] === true;
    if (!free && !ALLOWED_TYPES.has(schema.type as string)) say('type must be set');
  }
  if (schema.properties && schema.additionalProperties !== undefined) {
    say('properties and additionalProperties are mutually exclusive');
  }
  if (schema.additionalProperties === false) say('additionalProperties: false is not allowed');
  for (const [name, sub] of Object.entries((schema.properties ?? {}) as Record<string, Schema>)) {
    problems.push(...structuralProblems(sub, `${path}.properties[${name}]`, inJunctor));
  }
  if (schema.items) problems.push(...structuralProblems(schema.items as Schema, `${path}.items`, inJunctor));
  if (schema.additionalProperties && typeof schema.additionalProperties === 'object') {
    problems.push(
      ...structuralProblems(schema.additionalProperties as Schema, `${path}.additionalProperties`, inJunctor),
    );
  }
  for (const junctor of ['allOf', 'anyOf', 'oneOf']) {
    for (const [i, sub] of ((schema[junctor] ?? []) as Schema[]).entries()) {
      problems.push(...structuralProblems(sub, `${path}.${junctor}[${i}]`, true));
    }
  }
  if (schema.not) problems.push(...structuralProblems(schema.not as Schema, `${path}.not`, true));
  if (Array.isArray(schema.required)) {
    const props = (schema.properties ?? {}) as Record<string, unknown>;
    for (const r of schema.required as string[])
      if (!(r in props)) say(`required field ${r} is not in properties`);
  }
  return problems;
};
