// Paths a job carries are relative to the artifact directory, which the controller and every worker
// mount (the same volume, perhaps at another path): made relative when queued, resolved by the
// process that runs the job. A job's directory is emptied before it runs, so a path naming the
// artifact directory itself (``, `.`, `a/..`) is refused as firmly as one that leaves it.
import { isAbsolute, join, relative } from 'node:path';

/** `path` (under `artifactDir`) relative to it, refusing one outside it or the directory itself. */
export const relativeToArtifacts = (artifactDir: string, path: string): string => {
  const rel = relative(artifactDir, path);
  return checked(rel);
};

/** `rel` resolved under `artifactDir`, refusing a path that would leave it or name it. */
export const underArtifacts = (artifactDir: string, rel: string): string => join(artifactDir, checked(rel));

const checked = (rel: string): string => {
  const parts = rel.split(/[\\/]/).filter((p) => p !== '' && p !== '.');
  if (isAbsolute(rel) || parts.includes('..') || parts.length === 0)
    throw new Error(`${JSON.stringify(rel)} is not a path under the artifact directory`);
  return rel;
};

/** A path segment made of a name from a manifest (a flow's): nothing but letters, digits, `.`, `_`
 * and `-`, so a name like `../x` or `a/b` names a directory of its own, not another one. */
export const segmentOf = (name: string): string => name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
