// Which object a manifest names (apiVersion, kind, namespace after defaulting, name), so an
// overlay document can find the base object it patches and duplicates can be told apart.
import { API_VERSION } from '../../crds/common.ts';
import { coreKinds } from '../../crds/core-kinds.ts';

type Json = Record<string, unknown>;

const isPlainObject = (v: unknown): v is Json => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every SimOps kind is namespaced; core kinds say so themselves; an unknown kind fails validation anyway. */
export const isNamespaced = (apiVersion: unknown, kind: unknown): boolean =>
  apiVersion === API_VERSION ||
  (coreKinds.find((k) => k.apiVersion === apiVersion && k.kind === kind)?.namespaced ?? true);

export const isNamespace = (o: Json): boolean => o.apiVersion === 'v1' && o.kind === 'Namespace';

/** The namespace the object lands in: its own, the default for a namespaced kind, '' otherwise. */
export const effectiveNamespace = (o: Json, defaultNamespace: string): string => {
  if (!isNamespaced(o.apiVersion, o.kind)) return '';
  const meta = isPlainObject(o.metadata) ? o.metadata : {};
  return typeof meta.namespace === 'string' && meta.namespace ? meta.namespace : defaultNamespace;
};

/** The identity of an object, or undefined when it has no name to be found by. */
export const objectKey = (o: Json, defaultNamespace: string): string | undefined => {
  const meta = isPlainObject(o.metadata) ? o.metadata : {};
  if (typeof meta.name !== 'string' || !meta.name) return undefined;
  return JSON.stringify([o.apiVersion, o.kind, effectiveNamespace(o, defaultNamespace), meta.name]);
};

/** The object with `metadata.namespace` filled in for a namespaced kind that has none. */
export const withDefaultNamespace = (o: Json, defaultNamespace: string): Json => {
  if (!isNamespaced(o.apiVersion, o.kind) || !isPlainObject(o.metadata)) return o;
  if (typeof o.metadata.namespace === 'string' && o.metadata.namespace) return o;
  return { ...o, metadata: { ...o.metadata, namespace: defaultNamespace } };
};

/**
 * Whether a JSON merge patch decides the value at `path`: it sets the path (a value, or null to
 * delete it) or replaces a whole subtree above it.
 */
export const patchDecides = (patch: unknown, path: readonly (string | number)[]): boolean => {
  let node: unknown = patch;
  for (const seg of path) {
    if (!isPlainObject(node)) return true; // a scalar or list above the path replaced it whole
    if (!Object.hasOwn(node, String(seg))) return false;
    node = node[String(seg)];
  }
  return true;
};
