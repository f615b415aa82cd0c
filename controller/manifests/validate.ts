// Validates every manifest under a path: parse errors and schema errors, each with its place.
import { readFileSync } from 'node:fs';
import { validateObject } from '../../crds/validate.ts';
import { findManifestFiles } from './files.ts';
import { type ManifestDocument, type Position, parseManifestText } from './parse.ts';

export interface ManifestError {
  file: string;
  position: Position;
  /** The field path, empty for a parse error. */
  field: string;
  message: string;
}

export interface ValidationReport {
  files: number;
  documents: ManifestDocument[];
  errors: ManifestError[];
}

export const formatManifestError = (e: ManifestError): string =>
  `${e.file}:${e.position.line}:${e.position.col}${e.field ? ` ${e.field}` : ''}: ${e.message}`;

const objectKey = (o: Record<string, unknown>) => {
  const meta = (o.metadata ?? {}) as { name?: string; namespace?: string };
  return `${o.apiVersion}/${o.kind}/${meta.namespace ?? ''}/${meta.name ?? ''}`;
};

export const validateManifests = (root: string): ValidationReport => {
  const files = findManifestFiles(root);
  const report: ValidationReport = { files: files.length, documents: [], errors: [] };
  const seen = new Map<string, ManifestDocument>();
  for (const file of files) {
    const parsed = parseManifestText(file, readFileSync(file, 'utf8'));
    report.errors.push(...parsed.errors.map((e) => ({ ...e, field: '' })));
    for (const doc of parsed.documents) {
      report.documents.push(doc);
      for (const err of validateObject(doc.object).errors) {
        report.errors.push({
          file,
          position: doc.positionOf(err.path),
          field: err.field,
          message: err.message,
        });
      }
      const key = objectKey(doc.object);
      const first = seen.get(key);
      if (first) {
        report.errors.push({
          file,
          position: doc.positionOf(['metadata', 'name']),
          field: 'metadata.name',
          message: `Duplicate value: also defined in ${first.file}:${first.positionOf(['metadata', 'name']).line}`,
        });
      } else seen.set(key, doc);
    }
  }
  return report;
};
