// Paths a job carries are relative to the artifact directory, which the controller and every worker
// mount (the same volume, perhaps at another path): made relative when queued, resolved by the
// process that runs the job.
import { isAbsolute, join, relative } from 'node:path';

/** `path` (under `artifactDir`) relative to it, refusing one outside it. */
export const relativeToArtifacts = (artifactDir: string, path: string): string => {
  const rel = relative(artifactDir, path);
  return checked(rel);
};

/** `rel` resolved under `artifactDir`, refusing a path that would leave it. */
export const underArtifacts = (artifactDir: string, rel: string): string => join(artifactDir, checked(rel));

const checked = (rel: string): string => {
  if (isAbsolute(rel) || rel.split(/[\\/]/).includes('..'))
    throw new Error(`${JSON.stringify(rel)} is not a path under the artifact directory`);
  return rel;
};
