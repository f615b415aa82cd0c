// `simops validate PATH`: errors as `file:line:col field: message`, exit 0 valid, 1 invalid.
// A directory is built as a GitSource builds it, once per environment overlay it has.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { buildManifests } from '../gitops/build.ts';
import { formatManifestError, validateManifests } from '../manifests/validate.ts';

const environments = (dir: string): string[] => {
  const overlays = join(dir, 'overlays');
  const found = existsSync(overlays)
    ? readdirSync(overlays, { withFileTypes: true })
        .filter((e) => e.isDirectory())
        .map((e) => e.name)
    : [];
  return [...new Set(['simulation', ...found])];
};

export const validateCommand = (path: string, opts: { quiet?: boolean }): number => {
  if (!existsSync(path)) {
    console.error(`${path}: no such file or directory`);
    return 1;
  }
  const shown = (file: string) => relative(process.cwd(), file) || file;
  if (statSync(path).isFile()) {
    const report = validateManifests(path);
    for (const e of report.errors) console.error(formatManifestError({ ...e, file: shown(e.file) }));
    if (!opts.quiet)
      console.log(
        `${report.documents.length} manifest(s): ${report.errors.length ? `${report.errors.length} error(s)` : 'valid'}`,
      );
    return report.errors.length ? 1 : 0;
  }
  const dir = resolve(path);
  const seen = new Set<string>();
  const counts: string[] = [];
  for (const environment of environments(dir)) {
    const built = buildManifests({ dir, path: './', environment, defaultNamespace: 'default' });
    for (const e of built.errors) {
      const line = formatManifestError({ ...e, file: shown(resolve(dir, e.file)) });
      if (!seen.has(line)) console.error(line);
      seen.add(line);
    }
    counts.push(`${built.objects.length} object(s) for ${environment}`);
  }
  if (!opts.quiet) console.log(`${counts.join(', ')}: ${seen.size ? `${seen.size} error(s)` : 'valid'}`);
  return seen.size ? 1 : 0;
};
