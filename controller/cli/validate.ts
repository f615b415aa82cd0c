// `simops validate PATH`: errors as `file:line:col field: message`, exit 0 valid, 1 invalid.
import { existsSync } from 'node:fs';
import { relative } from 'node:path';
import { formatManifestError, validateManifests } from '../manifests/validate.ts';

export const validateCommand = (path: string, opts: { quiet?: boolean }): number => {
  if (!existsSync(path)) {
    console.error(`${path}: no such file or directory`);
    return 1;
  }
  const report = validateManifests(path);
  const shown = (file: string) => relative(process.cwd(), file) || file;
  for (const e of report.errors) console.error(formatManifestError({ ...e, file: shown(e.file) }));
  if (!opts.quiet) {
    const verdict = report.errors.length ? `${report.errors.length} error(s)` : 'valid';
    console.log(`${report.documents.length} manifest(s) in ${report.files} file(s): ${verdict}`);
  }
  return report.errors.length ? 1 : 0;
};
