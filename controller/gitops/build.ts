// Builds the objects a GitSource applies from a checked-out source: the base manifests under the
// path, then the environment's overlay (seed 003) merged over them, every object validated.
// A build is all or nothing: with any error, no object is returned, so a broken commit applies
// nothing and prunes nothing.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { mergePatch } from '../../apiserver/patch.ts';
import type { KubeObject } from '../../apiserver/types.ts';
import { validateObject } from '../../crds/validate.ts';
import { type ManifestDocument, type ParseError, parseManifestText } from '../manifests/parse.ts';
import type { ManifestError } from '../manifests/validate.ts';
import { isNamespace, objectKey, patchDecides, withDefaultNamespace } from './object-identity.ts';
import {
  findSourceFiles,
  ignoreRules,
  pathError,
  resolveInside,
  resolveSourcePath,
  type SourceFile,
} from './source-files.ts';

export interface BuildRequest {
  /** The checked-out source (FetchResult.dir). */
  dir: string;
  /** The directory of manifests, relative to `dir`; it must stay inside it. */
  path: string;
  /** Selects `<path>/overlays/<environment>/`. */
  environment: string;
  /** gitignore-style patterns, relative to `path`. */
  ignore?: string;
  /** For namespaced objects that name none: the GitSource's own namespace. */
  defaultNamespace: string;
}

export interface BuiltObject {
  /**
   * As written in git, overlay merged and namespace defaulted; schema defaults are not added. Parts
   * of it are shared with later builds of the same file: frozen, to be copied, never changed.
   */
  object: KubeObject;
  /** The file (relative to `dir`) that defines it: the base file for a patched object. */
  file: string;
}

export interface BuildResult {
  /** Namespaces first, then by file and document order. Empty whenever there are errors. */
  objects: BuiltObject[];
  /** Each with its file (relative to `dir`), line, column and field. */
  errors: ManifestError[];
  /** YAML documents that are not Kubernetes objects (no apiVersion and no kind). */
  skipped: number;
}

const ENVIRONMENT = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;

interface Entry {
  object: Record<string, unknown>;
  /** The document that defines the object: a base one, or an overlay one that adds it. */
  origin: ManifestDocument;
  fromOverlay: boolean;
  /** Overlay documents merged into it, in order. */
  patches: ManifestDocument[];
}

const byCodePoint = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

// Parsing the YAML is most of a build, and between two commits most files are unchanged: what a
// file parses to is kept by its name and content, as JSON text (a third of the memory the objects
// take, and JSON.parse is far faster than parsing YAML), so a file is parsed once until it changes.
// A document JSON cannot carry exactly (YAML's .inf or .nan) is kept as the object itself, frozen.
// Positions are needed only to report an error: the file is parsed again, with positions, when the
// build asks where a field was written.
interface ParsedContent {
  documents: { index: number; json?: string; object?: Record<string, unknown> }[];
  errors: ParseError[];
  skipped: number;
  bytes: number;
}

/** Least recently used first; bounded by the bytes of YAML the entries were parsed from. */
const parsedFiles = new Map<string, ParsedContent>();
let parsedBytes = 0;
const PARSED_BYTES_MAX = 16 * 1024 * 1024;

const deepFreeze = <T>(v: T): T => {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
};

const keep = (index: number, object: Record<string, unknown>): ParsedContent['documents'][number] => {
  const json = JSON.stringify(object);
  return isDeepStrictEqual(JSON.parse(json), object)
    ? { index, json }
    : { index, object: deepFreeze(object) };
};

/** A private copy of a kept document. */
const documentOf = (d: ParsedContent['documents'][number]): Record<string, unknown> =>
  d.json !== undefined ? JSON.parse(d.json) : d.object!;

const parseCached = (file: string, text: string): ParsedContent => {
  const key = `${file}\u0000${createHash('sha256').update(text).digest('base64')}`;
  const hit = parsedFiles.get(key);
  if (hit) {
    parsedFiles.delete(key); // most recently used: to the end
    parsedFiles.set(key, hit);
    return hit;
  }
  const parsed = parseManifestText(file, text);
  const content: ParsedContent = {
    documents: parsed.documents.map((d) => keep(d.index, d.object)),
    errors: parsed.errors,
    skipped: parsed.skipped,
    bytes: text.length,
  };
  parsedFiles.set(key, content);
  parsedBytes += content.bytes;
  for (const [k, v] of parsedFiles) {
    if (parsedBytes <= PARSED_BYTES_MAX) break;
    parsedFiles.delete(k);
    parsedBytes -= v.bytes;
  }
  return content;
};

const parseFiles = (files: SourceFile[], errors: ManifestError[]) => {
  let skipped = 0;
  const documents: ManifestDocument[] = [];
  for (const f of files) {
    const text = readFileSync(f.abs, 'utf8');
    const parsed = parseCached(f.file, text);
    errors.push(...parsed.errors.map((e) => ({ ...e, field: '' })));
    // Parsed again, with positions, only if this build reports an error in the file.
    let positions: Map<number, ManifestDocument> | undefined;
    const withPositions = (index: number) => {
      positions ??= new Map(parseManifestText(f.file, text).documents.map((d) => [d.index, d]));
      return positions.get(index)!;
    };
    for (const d of parsed.documents) {
      documents.push({
        file: f.file,
        index: d.index,
        object: documentOf(d),
        positionOf: (path) => withPositions(d.index).positionOf(path),
      });
    }
    skipped += parsed.skipped;
  }
  return { documents, skipped };
};

const duplicate = (doc: ManifestDocument, first: ManifestDocument): ManifestError => ({
  file: doc.file,
  position: doc.positionOf(['metadata', 'name']),
  field: 'metadata.name',
  message: `Duplicate value: also defined in ${first.file}:${first.positionOf(['metadata', 'name']).line}`,
});

export const buildManifests = (req: BuildRequest): BuildResult => {
  const errors: ManifestError[] = [];
  const fail = (e: ManifestError): BuildResult => ({ objects: [], errors: [e], skipped: 0 });
  if (!ENVIRONMENT.test(req.environment)) {
    return fail(pathError('.', `invalid environment name ${JSON.stringify(req.environment)}`));
  }
  const resolved = resolveSourcePath(req.dir, req.path);
  if ('error' in resolved) return fail(resolved.error);
  const { root, base, rel } = resolved;
  const join = (...parts: string[]) => parts.filter(Boolean).join('/');
  const ig = ignoreRules(root, base, req.ignore);

  // 1. The base: everything under the path but its overlays.
  const overlaysRel = join(rel, 'overlays');
  const baseFiles = findSourceFiles(rel, base, {
    root,
    ig,
    ignoreBase: rel,
    exclude: new Set([overlaysRel]),
    recursive: true,
  });
  errors.push(...baseFiles.errors);
  const parsedBase = parseFiles(baseFiles.files, errors);
  let skipped = parsedBase.skipped;

  const entries: Entry[] = [];
  const byKey = new Map<string, Entry>();
  for (const doc of parsedBase.documents) {
    const entry: Entry = { object: doc.object, origin: doc, fromOverlay: false, patches: [] };
    const key = objectKey(doc.object, req.defaultNamespace);
    const first = key ? byKey.get(key) : undefined;
    if (first) {
      errors.push(duplicate(doc, first.origin));
      continue;
    }
    if (key) byKey.set(key, entry);
    entries.push(entry);
  }

  // 2. The overlay of this environment, if there is one: patches onto base objects, or new objects.
  const overlayRel = join(overlaysRel, req.environment);
  const overlayReal = resolveInside(root, overlayRel);
  if (overlayReal !== undefined && typeof overlayReal !== 'string') errors.push(overlayReal.error);
  else if (overlayReal !== undefined) {
    const overlayFiles = findSourceFiles(overlayRel, overlayReal, {
      root,
      ig,
      ignoreBase: rel,
      recursive: false,
    });
    errors.push(...overlayFiles.errors);
    const parsedOverlay = parseFiles(overlayFiles.files, errors);
    skipped += parsedOverlay.skipped;
    for (const doc of parsedOverlay.documents) {
      const key = objectKey(doc.object, req.defaultNamespace);
      const target = key ? byKey.get(key) : undefined;
      if (target && !target.fromOverlay) {
        target.object = mergePatch(target.object, doc.object) as Record<string, unknown>;
        target.patches.push(doc);
      } else if (target) {
        errors.push(duplicate(doc, target.origin));
      } else {
        const entry: Entry = { object: doc.object, origin: doc, fromOverlay: true, patches: [] };
        if (key) byKey.set(key, entry);
        entries.push(entry);
      }
    }
  }

  // 3. Validate every resulting object; a field's error points where its value was written.
  for (const entry of entries) {
    entry.object = withDefaultNamespace(entry.object, req.defaultNamespace);
    for (const err of validateObject(entry.object).errors) {
      const doc = entry.patches.findLast((p) => patchDecides(p.object, err.path)) ?? entry.origin;
      errors.push({
        file: doc.file,
        position: doc.positionOf(err.path),
        field: err.field,
        message: err.message,
      });
    }
  }

  if (errors.length) {
    errors.sort(
      (a, b) =>
        byCodePoint(a.file, b.file) || a.position.line - b.position.line || a.position.col - b.position.col,
    );
    return { objects: [], errors, skipped };
  }
  const objects = entries
    .map((e) => ({ e, ns: isNamespace(e.object) ? 0 : 1 }))
    .sort(
      (a, b) =>
        a.ns - b.ns || byCodePoint(a.e.origin.file, b.e.origin.file) || a.e.origin.index - b.e.origin.index,
    )
    .map(({ e }) => ({ object: e.object as KubeObject, file: e.origin.file }));
  return { objects, errors: [], skipped };
};
