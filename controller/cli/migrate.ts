// `simops migrate machines PATH`: rewrites legacy Machine manifests (spec.definition and
// connectionInfo.backend_fqn) in a working tree into the category form, keeping comments, so the
// repository itself moves to the new form. Exit 0 when every legacy Machine was migrated (or there
// was none), 1 when one could not be (its file:line says which) or PATH does not exist.
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { relative } from 'node:path';
import { migrateManifestText } from '../../reconcilers/machine/migrate-manifest.ts';
import { findManifestFiles } from '../manifests/files.ts';

export const migrateMachinesCommand = (path: string, opts: { dryRun?: boolean }): number => {
  if (!existsSync(path)) {
    console.error(`${path}: no such file or directory`);
    return 1;
  }
  const shown = (file: string) => relative(process.cwd(), file) || file;
  let machines = 0;
  let files = 0;
  let problems = 0;
  for (const file of findManifestFiles(path)) {
    const text = readFileSync(file, 'utf8');
    const r = migrateManifestText(text);
    for (const p of r.problems) console.error(`${shown(file)}:${p.line}:${p.col} ${p.field}: ${p.message}`);
    problems += r.problems.length;
    if (!r.migrated.length) continue;
    for (const m of r.migrated)
      console.log(
        `${shown(file)}:${m.line}: Machine ${m.machine}: ${m.from.backendFqn ?? m.from.definition} → backend ${m.backend}`,
      );
    machines += r.migrated.length;
    files++;
    if (!opts.dryRun) writeFileSync(file, r.text);
  }
  const verb = opts.dryRun ? 'would migrate' : 'migrated';
  console.log(
    machines
      ? `${verb} ${machines} Machine(s) in ${files} file(s)${opts.dryRun ? '' : '; review with `git diff` and commit'}`
      : 'no legacy Machine manifests to migrate',
  );
  return problems ? 1 : 0;
};
