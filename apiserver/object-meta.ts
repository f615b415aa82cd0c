// Server-side metadata rules: names, timestamps, generation, what a write may not change.
import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import type { FieldError } from '../crds/validate.ts';
import type { ResourceInfo } from './resources.ts';
import type { KubeObject } from './types.ts';

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

/** Kubernetes timestamps have second precision. */
export const timestamp = (d: Date): string => `${d.toISOString().slice(0, 19)}Z`;

export const nameErrors = (r: ResourceInfo, name: string, field = 'metadata.name'): FieldError[] => {
  const label = r.kind === 'Namespace';
  const ok = label
    ? DNS_LABEL.test(name) && name.length <= 63
    : DNS_SUBDOMAIN.test(name) && name.length <= 253;
  if (ok) return [];
  const what = label
    ? "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character"
    : "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character";
  return [
    {
      path: field.split('.'),
      field,
      reason: 'FieldValueInvalid',
      message: `Invalid value: ${JSON.stringify(name)}: ${what}`,
    },
  ];
};

export const generateName = (prefix: string): string => {
  const alphabet = 'bcdfghjklmnpqrstvwxz2456789';
  const bytes = randomBytes(5);
  return prefix + [...bytes].map((b) => alphabet[b % alphabet.length]).join('');
};

export const newIdentity = (now: Date) => ({ uid: randomUUID(), creationTimestamp: timestamp(now) });

/** Everything but metadata and status: what `generation` counts changes of. */
export const desiredState = (o: KubeObject): Record<string, unknown> => {
  const { metadata: _m, status: _s, apiVersion: _a, kind: _k, ...rest } = o;
  return rest;
};

/** Deep equality that ignores key order (patches reorder keys). */
export const sameJson = (a: unknown, b: unknown): boolean => isDeepStrictEqual(a, b);

/** Equal apart from what every write changes (resourceVersion, managedFields timestamps). */
export const sameContent = (a: KubeObject, b: KubeObject): boolean => {
  const strip = (o: KubeObject) => ({
    ...o,
    metadata: {
      ...o.metadata,
      resourceVersion: undefined,
      managedFields: o.metadata.managedFields?.map((e) => ({ ...e, time: undefined })),
    },
  });
  return sameJson(strip(a), strip(b));
};
