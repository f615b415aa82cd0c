// Parses manifest files into documents that remember where every field was written, so an error
// can name file, line and column.
import { type Document, isMap, isScalar, LineCounter, type Node, parseAllDocuments } from 'yaml';

export interface Position {
  line: number;
  col: number;
}

export interface ManifestDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  object: Record<string, unknown>;
  /** Where a field path was written (the deepest part of it that exists). */
  positionOf(path: readonly (string | number)[]): Position;
}

export interface ParseError {
  file: string;
  position: Position;
  message: string;
}

export interface ParsedFile {
  documents: ManifestDocument[];
  errors: ParseError[];
  /** Documents that are YAML but not Kubernetes objects (no apiVersion and no kind): skipped. */
  skipped: number;
}

const positionFinder =
  (doc: Document, lines: LineCounter) =>
  (path: readonly (string | number)[]): Position => {
    let node: Node | null = doc.contents;
    let offset = node?.range?.[0] ?? 0;
    for (const seg of path) {
      if (!node) break;
      if (isMap(node)) {
        const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
        if (!pair) break;
        // Point at the key: that is where a person looks for the field.
        offset = (pair.key as Node).range?.[0] ?? offset;
        node = (pair.value as Node | null) ?? null;
        continue;
      }
      const child: unknown = (node as { get?: (k: unknown, keep: boolean) => unknown }).get?.(seg, true);
      if (!child || typeof child !== 'object') break;
      node = child as Node;
      offset = node.range?.[0] ?? offset;
    }
    const { line, col } = lines.linePos(offset);
    return { line, col };
  };

export const parseManifestText = (file: string, text: string): ParsedFile => {
  const lines = new LineCounter();
  const docs = parseAllDocuments(text, { lineCounter: lines, prettyErrors: false, uniqueKeys: true });
  const result: ParsedFile = { documents: [], errors: [], skipped: 0 };
  if (!Array.isArray(docs)) return result; // an empty stream
  docs.forEach((doc, index) => {
    if (doc.errors.length) {
      for (const e of doc.errors) {
        const { line, col } = lines.linePos(e.pos[0]);
        result.errors.push({ file, position: { line, col }, message: e.message.split('\n')[0] ?? e.message });
      }
      return;
    }
    const value: unknown = doc.toJS({ maxAliasCount: 100 });
    if (value === null || value === undefined) return;
    const positionOf = positionFinder(doc, lines);
    if (typeof value !== 'object' || Array.isArray(value)) {
      result.errors.push({ file, position: positionOf([]), message: 'a manifest must be a YAML mapping' });
      return;
    }
    const object = value as Record<string, unknown>;
    if (object.apiVersion === undefined && object.kind === undefined) {
      result.skipped++;
      return;
    }
    result.documents.push({ file, index, object, positionOf });
  });
  return result;
};
