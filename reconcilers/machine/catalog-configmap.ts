// The catalog from git: a ConfigMap named `simops-machine-catalog` in a Machine's namespace, whose
// `catalog.yaml` adds categories and backends to the built-in catalog or overrides them, so a new
// category or backend needs no SimOps release. Pure: text in, catalog or error out.
import { parse } from 'yaml';
import {
  type Catalog,
  type CatalogBackend,
  type CatalogCategory,
  displayNameOf,
  shortNameOf,
} from './catalog.ts';

export const CATALOG_CONFIGMAP = 'simops-machine-catalog';
export const CATALOG_KEY = 'catalog.yaml';

export type CatalogResult = { ok: true; catalog: Catalog } | { ok: false; error: string };

const CATEGORY_NAME = /^[A-Z][A-Za-z0-9]*$/;
const BACKEND_NAME = /^[a-z0-9]([-_a-z0-9]*[a-z0-9])?$/;
const FQN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)+$/;
const CATEGORY_FIELDS = new Set(['displayName', 'frontendFqn', 'backends', 'addBackends', 'plateReadings']);
const BACKEND_FIELDS = new Set(['name', 'fqn', 'aliases']);

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** Reads one backend entry: an FQN string, or `{name?, fqn, aliases?}`. */
const readBackend = (
  v: unknown,
  at: string,
  categoryName: string,
  errors: string[],
): CatalogBackend | undefined => {
  const entry = typeof v === 'string' ? { fqn: v } : v;
  if (!isObject(entry)) {
    errors.push(`${at}: must be an FQN or an object with fqn`);
    return undefined;
  }
  for (const k of Object.keys(entry)) if (!BACKEND_FIELDS.has(k)) errors.push(`${at}.${k}: unknown field`);
  const { fqn, name, aliases } = entry;
  if (typeof fqn !== 'string' || !FQN.test(fqn)) {
    errors.push(`${at}.fqn: must be a dotted class name, got ${JSON.stringify(fqn)}`);
    return undefined;
  }
  const short = name === undefined ? shortNameOf(fqn, categoryName) : name;
  if (typeof short !== 'string' || !BACKEND_NAME.test(short)) {
    errors.push(`${at}.name: must be a lower-case short name, got ${JSON.stringify(short)}`);
    return undefined;
  }
  if (aliases !== undefined && (!Array.isArray(aliases) || !aliases.every((a) => typeof a === 'string'))) {
    errors.push(`${at}.aliases: must be a list of FQNs`);
    return undefined;
  }
  return { name: short, fqn, ...(aliases ? { aliases: aliases as string[] } : {}) };
};

const readBackends = (v: unknown, at: string, categoryName: string, errors: string[]) => {
  if (!Array.isArray(v)) {
    errors.push(`${at}: must be a list`);
    return [];
  }
  return v
    .map((b, i) => readBackend(b, `${at}[${i}]`, categoryName, errors))
    .filter((b): b is CatalogBackend => b !== undefined);
};

const duplicates = (values: string[]) => values.filter((v, i) => values.indexOf(v) !== i);

/** Merges one category entry over the built-in one (or creates it). */
const readCategory = (
  name: string,
  v: unknown,
  base: CatalogCategory | undefined,
  errors: string[],
): CatalogCategory | undefined => {
  const at = `categories.${name}`;
  if (!CATEGORY_NAME.test(name)) {
    errors.push(`${at}: a category name is a class name such as LiquidHandler`);
    return undefined;
  }
  if (!isObject(v)) {
    errors.push(`${at}: must be an object (or null to remove the category)`);
    return undefined;
  }
  for (const k of Object.keys(v)) if (!CATEGORY_FIELDS.has(k)) errors.push(`${at}.${k}: unknown field`);
  const { displayName, frontendFqn, backends, addBackends, plateReadings } = v;
  if (displayName !== undefined && (typeof displayName !== 'string' || !displayName.trim()))
    errors.push(`${at}.displayName: must be a non-empty string`);
  if (frontendFqn !== undefined && (typeof frontendFqn !== 'string' || !FQN.test(frontendFqn)))
    errors.push(`${at}.frontendFqn: must be a dotted class name`);
  if (!base && frontendFqn === undefined) errors.push(`${at}.frontendFqn: required for a new category`);
  if (!base && backends === undefined) errors.push(`${at}.backends: required for a new category`);
  if (
    plateReadings !== undefined &&
    (!Array.isArray(plateReadings) || !plateReadings.every((p) => typeof p === 'string'))
  )
    errors.push(`${at}.plateReadings: must be a list of operation names`);
  const list = [
    ...(backends !== undefined
      ? readBackends(backends, `${at}.backends`, name, errors)
      : (base?.backends ?? [])),
    ...(addBackends !== undefined ? readBackends(addBackends, `${at}.addBackends`, name, errors) : []),
  ];
  if (!list.length) errors.push(`${at}: a category needs at least one simulated backend`);
  for (const d of new Set(duplicates(list.map((b) => b.name))))
    errors.push(`${at}: backend name ${d} is used twice`);
  for (const d of new Set(duplicates(list.flatMap((b) => [b.fqn, ...(b.aliases ?? [])]))))
    errors.push(`${at}: backend FQN ${d} is listed twice`);
  return {
    name,
    displayName: (displayName as string | undefined) ?? base?.displayName ?? displayNameOf(name),
    frontendFqn: (frontendFqn as string | undefined) ?? base?.frontendFqn ?? '',
    backends: list,
    ...((plateReadings ?? base?.plateReadings)
      ? { plateReadings: (plateReadings as string[] | undefined) ?? base?.plateReadings }
      : {}),
  };
};

/**
 * The base catalog with `catalog.yaml` applied:
 *
 * ```yaml
 * categories:
 *   Microscope:                       # a new category
 *     frontendFqn: acme.microscopy.Microscope
 *     backends: [acme.microscopy.MicroscopeSimulatorBackend]   # short name derived: simulator
 *   LiquidHandler:                    # a built-in one, extended
 *     addBackends:
 *       - { name: replay, fqn: acme.lh.ReplayBackend }
 * ```
 */
export const applyCatalogText = (base: Catalog, text: string, source: string): CatalogResult => {
  const fail = (errors: string[]): CatalogResult => ({
    ok: false,
    error: `${source}: ${errors.slice(0, 5).join('; ')}${errors.length > 5 ? ` (and ${errors.length - 5} more)` : ''}`,
  });
  let doc: unknown;
  try {
    doc = parse(text, { uniqueKeys: true });
  } catch (err) {
    return fail([`not valid YAML: ${(err as Error).message.split('\n')[0]}`]);
  }
  if (doc === null || doc === undefined) return { ok: true, catalog: base };
  if (!isObject(doc)) return fail(['must be a mapping with categories']);
  const errors: string[] = [];
  for (const k of Object.keys(doc)) if (k !== 'categories') errors.push(`${k}: unknown field`);
  const categories = doc.categories ?? {};
  if (!isObject(categories)) return fail(['categories: must be a mapping of category name to entry']);
  const merged = new Map(base);
  for (const [name, v] of Object.entries(categories)) {
    if (v === null) {
      merged.delete(name);
      continue;
    }
    const c = readCategory(name, v, base.get(name), errors);
    if (c) merged.set(name, c);
  }
  return errors.length ? fail(errors) : { ok: true, catalog: merged };
};

/** The catalog for a namespace: the built-in one with the ConfigMap's data (if any) applied. */
export const catalogFromConfigMap = (
  base: Catalog,
  configMap: { metadata: { namespace?: string; name?: string }; data?: unknown } | undefined,
): CatalogResult => {
  if (!configMap) return { ok: true, catalog: base };
  const source = `ConfigMap ${configMap.metadata.namespace}/${configMap.metadata.name} ${CATALOG_KEY}`;
  const data = (configMap.data ?? {}) as Record<string, unknown>;
  const text = data[CATALOG_KEY];
  if (typeof text !== 'string') return { ok: false, error: `${source}: the key is missing` };
  return applyCatalogText(base, text, source);
};
