// Rewrites legacy Machine manifests (spec.definition + connectionInfo.backend_fqn) into the
// category form (spec.backend), in the YAML text itself: comments, key order and the other
// documents of the file are kept; only the documents that change are printed again. Pure.
import {
  type Document,
  isMap,
  isScalar,
  LineCounter,
  type Node,
  Pair,
  parseAllDocuments,
  Scalar,
  type YAMLMap,
} from 'yaml';
import { API_VERSION } from '../../crds/common.ts';
import type { MachineSpec } from '../../crds/machine.ts';
import { builtinCatalog, type Catalog } from './catalog.ts';
import { type LegacyForm, legacyFormOf, legacyShortName } from './resolve.ts';

export interface Migrated {
  line: number;
  machine: string;
  from: LegacyForm;
  backend: string;
}

export interface MigrationProblem {
  line: number;
  col: number;
  field: string;
  message: string;
}

export interface MigrationResult {
  /** The new text (the input itself when nothing changed). */
  text: string;
  migrated: Migrated[];
  problems: MigrationProblem[];
}

const keyIndex = (map: YAMLMap, key: string) =>
  map.items.findIndex((p) => isScalar(p.key) && String(p.key.value) === key);

/** The comments written on or inside a pair, so a removed field does not take them along. */
const commentsOf = (pair: Pair): string[] => {
  const out: string[] = [];
  const key = pair.key as Node | null;
  const value = pair.value as Node | null;
  if (key?.commentBefore) out.push(key.commentBefore);
  if (value?.commentBefore) out.push(value.commentBefore);
  if (value?.comment) out.push(value.comment);
  if (isMap(value)) for (const p of value.items) out.push(...commentsOf(p as Pair));
  return out;
};

/** The backend short name a legacy machine gets: an exact FQN in the catalog, else the seed's rule. */
export const legacyBackendName = (
  category: string,
  legacy: LegacyForm,
  catalog: Catalog = builtinCatalog(),
): string | undefined => {
  const c = catalog.get(category);
  for (const fqn of [legacy.backendFqn, legacy.definition]) {
    const exact = fqn ? c?.backends.find((b) => b.fqn === fqn || b.aliases?.includes(fqn)) : undefined;
    if (exact) return exact.name;
  }
  return legacyShortName(legacy);
};

/** Edits one document in place: the legacy fields go, `backend` takes the place of `definition`. */
const rewrite = (doc: Document, spec: MachineSpec, legacy: LegacyForm, backend: string): void => {
  const map = doc.get('spec', true) as YAMLMap;
  const carried: string[] = [];
  let at = keyIndex(map, 'definition');
  if (at >= 0) {
    carried.push(...commentsOf(map.items[at] as Pair));
    map.items.splice(at, 1);
  } else {
    at = keyIndex(map, 'category') + 1;
  }
  const ci = doc.getIn(['spec', 'connectionInfo'], true);
  if (isMap(ci)) {
    const i = keyIndex(ci, 'backend_fqn');
    if (i >= 0) {
      carried.push(...commentsOf(ci.items[i] as Pair));
      ci.items.splice(i, 1);
    }
    if (ci.items.length === 0) {
      const j = keyIndex(map, 'connectionInfo');
      carried.push(...commentsOf(map.items[j] as Pair));
      map.items.splice(j, 1);
      if (j < at) at--;
    }
  }
  if (spec.backend !== undefined) return; // already chosen: only the legacy fields go
  const value = new Scalar(backend);
  value.comment = ` migrated from ${legacy.backendFqn ?? legacy.definition}`;
  const key = new Scalar('backend');
  if (carried.length) key.commentBefore = carried.join('\n');
  map.items.splice(Math.max(0, at), 0, new Pair(key, value));
};

export const migrateManifestText = (text: string, catalog: Catalog = builtinCatalog()): MigrationResult => {
  const lines = new LineCounter();
  const parsed = parseAllDocuments(text, { lineCounter: lines });
  const result: MigrationResult = { text, migrated: [], problems: [] };
  if (!Array.isArray(parsed)) return result;
  const docs = parsed as Document[];
  // Each document's slice of the text: from the end of the previous one (the first from 0).
  const bounds = docs.map((d, i) => [i === 0 ? 0 : (docs[i - 1]!.range?.[2] ?? 0), d.range?.[2] ?? 0]);
  const changed = new Set<number>();

  docs.forEach((doc, i) => {
    if (doc.errors.length) return; // `simops validate` reports it
    const o = doc.toJS() as Record<string, unknown> | null;
    if (!o || o.apiVersion !== API_VERSION || o.kind !== 'Machine') return;
    const spec = o.spec as MachineSpec | undefined;
    if (!spec || typeof spec !== 'object' || spec.simulated === false || !isMap(doc.get('spec', true)))
      return;
    const legacy = legacyFormOf(spec);
    if (!legacy) return;
    const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
    const machine = `${meta.namespace ? `${meta.namespace}/` : ''}${meta.name ?? '?'}`;
    const specNode = doc.get('spec', true) as YAMLMap;
    const ci = doc.getIn(['spec', 'connectionInfo'], true);
    const legacyKey =
      specNode.items[keyIndex(specNode, 'definition')]?.key ??
      (isMap(ci) ? ci.items[keyIndex(ci, 'backend_fqn')]?.key : undefined);
    const where = lines.linePos((legacyKey as Node | undefined)?.range?.[0] ?? doc.range?.[0] ?? 0);
    const backend = spec.backend ?? legacyBackendName(spec.category, legacy, catalog);
    if (!backend) {
      result.problems.push({
        line: where.line,
        col: where.col,
        field: legacy.definition ? 'spec.definition' : 'spec.connectionInfo.backend_fqn',
        message: `Machine ${machine}: the legacy backend ${legacy.backendFqn ?? legacy.definition} maps to no short name; set spec.backend by hand`,
      });
      return;
    }
    rewrite(doc, spec, legacy, backend);
    changed.add(i);
    result.migrated.push({ line: where.line, machine, from: legacy, backend });
  });

  if (!changed.size) return result;
  let out = '';
  docs.forEach((doc, i) => {
    const [start, end] = bounds[i]!;
    const last = i === docs.length - 1;
    const original = text.slice(start, last ? text.length : end);
    if (!changed.has(i)) {
      out += original;
      return;
    }
    // A document after the first starts at its `---` marker; the first owns the file's head.
    let printed = doc.toString();
    if (i > 0 && !original.trimStart().startsWith('---')) printed = printed.replace(/^---\n/, '');
    out += printed;
  });
  return { ...result, text: out };
};
