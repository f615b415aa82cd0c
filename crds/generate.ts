// Writes the generated CRD YAML (crds/, the Helm chart's crds/, manifests/crds.yaml).
// `--check` writes nothing and exits 1 when a checked-in file is out of date.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { crdFileName, crdYaml } from './crd.ts';
import { kinds } from './index.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Every generated file with the content it should have. */
export const generatedFiles = (): Map<string, string> => {
  const files = new Map<string, string>();
  for (const def of kinds) {
    const yaml = crdYaml(def);
    files.set(join('crds', crdFileName(def)), yaml);
    files.set(join('charts', 'simops', 'crds', crdFileName(def)), yaml);
  }
  files.set(join('manifests', 'crds.yaml'), kinds.map((def) => crdYaml(def)).join('---\n'));
  return files;
};

export const staleFiles = (): string[] =>
  [...generatedFiles()]
    .filter(([path, content]) => {
      try {
        return readFileSync(join(root, path), 'utf8') !== content;
      } catch {
        return true;
      }
    })
    .map(([path]) => path);

if (import.meta.url === `file://${process.argv[1]}`) {
  if (process.argv.includes('--check')) {
    const stale = staleFiles();
    for (const path of stale) console.error(`out of date: ${path} (run npm run gen:crds)`);
    process.exit(stale.length ? 1 : 0);
  }
  for (const [path, content] of generatedFiles()) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
    console.log(`wrote ${path}`);
  }
}
