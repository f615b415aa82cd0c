// The files of a write-back, placed in a checkout without ever writing outside it: the report path
// and every file name are relative with no `..` (the same check a build's path gets), none of them
// reaches into `.git`, no existing part of the path may be a symlink, and the report directory is
// removed and made afresh, so every file lands in a directory we just created and nothing stale
// survives.
import { lstat, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { relativePath } from './source-files.ts';

export class InvalidPathError extends Error {}

export interface ReportFiles {
  /** The report directory relative to the repository root, `/`-separated; '' is the root. */
  dir: string;
  /** Paths relative to `dir` → content, sorted by path. */
  files: [string, string][];
}

const checked = (path: string, what: string): string => {
  const r = relativePath(path);
  if ('error' in r) throw new InvalidPathError(`${what} ${JSON.stringify(path)}: ${r.error.message}`);
  if (r.rel.split('/').includes('.git'))
    throw new InvalidPathError(`${what} ${JSON.stringify(path)}: must not name .git`);
  return r.rel;
};

/** Checks the report path and file names before any git runs. */
export const reportFiles = (path: string, files: Record<string, string>): ReportFiles => {
  const dir = checked(path, 'write-back path');
  const out = Object.entries(files).map(([name, content]): [string, string] => {
    const rel = checked(name, 'file');
    if (!rel) throw new InvalidPathError(`file ${JSON.stringify(name)}: names no file`);
    return [rel, content];
  });
  out.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const names = new Set(out.map(([rel]) => rel));
  if (names.size !== out.length) throw new InvalidPathError('two file names name the same file');
  for (const [rel] of out) {
    const parts = rel.split('/');
    for (let i = 1; i < parts.length; i++) {
      const parent = parts.slice(0, i).join('/');
      if (names.has(parent)) throw new InvalidPathError(`file ${parent} is also a directory of ${rel}`);
    }
  }
  return { dir, files: out };
};

/** Refuses a path whose existing parts are symlinks or files: git content may hold either. */
const assertRealDirs = async (root: string, dir: string) => {
  let at = root;
  for (const segment of dir ? dir.split('/') : []) {
    at = join(at, segment);
    const info = await lstat(at).catch(() => undefined);
    if (!info) return; // the rest is made afresh
    if (info.isSymbolicLink()) throw new InvalidPathError(`write-back path ${dir}: ${segment} is a symlink`);
    if (!info.isDirectory())
      throw new InvalidPathError(`write-back path ${dir}: ${segment} is not a directory`);
  }
};

/** Makes `report.dir` under `root` hold exactly `report.files`. */
export const replaceFiles = async (root: string, report: ReportFiles): Promise<void> => {
  await assertRealDirs(root, report.dir);
  const base = join(root, report.dir);
  if (report.dir) await rm(base, { recursive: true, force: true });
  else {
    for (const entry of await readdir(root)) {
      if (entry !== '.git') await rm(join(root, entry), { recursive: true, force: true });
    }
  }
  await mkdir(base, { recursive: true });
  for (const [rel, content] of report.files) {
    const file = join(base, rel);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, content);
  }
};
