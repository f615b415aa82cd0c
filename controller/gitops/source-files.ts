// The files a build reads, found without ever leaving the source directory: `..` in the path,
// an absolute path, or a symlink (file or directory) resolving outside it is an error, not a read.
import { readdirSync, readFileSync, realpathSync, type Stats, statSync } from 'node:fs';
import { isAbsolute, join, sep } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import type { ManifestError } from '../manifests/validate.ts';
import { isSkippedDir } from './worktree-revision.ts';

export interface SourceFile {
  /** Relative to the source directory, with `/` separators: what errors and objects name. */
  file: string;
  /** Where to read it (the symlink's target resolved). */
  abs: string;
}

export interface FileSet {
  files: SourceFile[];
  errors: ManifestError[];
}

const YAML = /\.ya?ml$/;

export const pathError = (file: string, message: string): ManifestError => ({
  file,
  position: { line: 1, col: 1 },
  field: '',
  message,
});

const within = (root: string, real: string) => real === root || real.startsWith(root + sep);

/** `path` as `/`-separated segments relative to a root ('' for the root), or why it may leave it. */
export const relativePath = (path: string): { rel: string } | { error: ManifestError } => {
  const shown = path || '.';
  if (isAbsolute(path) || /^[A-Za-z]:/.test(path)) {
    return { error: pathError(shown, 'the path must be relative to the repository root') };
  }
  const segments = path.split(/[\\/]+/).filter((s) => s && s !== '.');
  if (segments.includes('..')) return { error: pathError(shown, 'the path must not contain ".." segments') };
  return { rel: segments.join('/') };
};

/** The source directory's real path and `path`'s inside it, or why `path` is not acceptable. */
export const resolveSourcePath = (
  dir: string,
  path: string,
): { root: string; base: string; rel: string } | { error: ManifestError } => {
  const checked = relativePath(path);
  if ('error' in checked) return checked;
  const { rel } = checked;
  let root: string;
  try {
    root = realpathSync(dir);
  } catch {
    return { error: pathError('.', `the source directory ${dir} does not exist`) };
  }
  const inside = resolveInside(root, rel);
  if (inside === undefined) return { error: pathError(rel || '.', 'the path does not exist in the source') };
  if (typeof inside !== 'string') return inside;
  return { root, base: inside, rel };
};

/**
 * The real path of the directory `rel` under `root`: undefined when it does not exist, an error
 * when it resolves outside `root` or is not a directory.
 */
export const resolveInside = (root: string, rel: string): string | undefined | { error: ManifestError } => {
  let real: string;
  try {
    real = realpathSync(join(root, rel));
  } catch {
    return undefined;
  }
  if (!within(root, real))
    return { error: pathError(rel, 'the path resolves outside the source (a symlink)') };
  if (!statSync(real).isDirectory()) return { error: pathError(rel, 'the path is not a directory') };
  return real;
};

/** gitignore rules: the GitSource's `ignore` and the `.sourceignore` at the path, if any. */
export const ignoreRules = (root: string, baseAbs: string, patterns: string | undefined): Ignore => {
  const ig = ignore();
  if (patterns) ig.add(patterns);
  try {
    const file = realpathSync(join(baseAbs, '.sourceignore'));
    if (within(root, file)) ig.add(readFileSync(file, 'utf8'));
  } catch {
    // no .sourceignore: nothing more to skip
  }
  return ig;
};

interface WalkOptions {
  root: string;
  /** Ignore rules, matched against paths relative to `ignoreBase` (the build's path). */
  ig: Ignore;
  ignoreBase: string;
  /** Relative paths (to root) of directories not to enter. */
  exclude?: ReadonlySet<string>;
  recursive: boolean;
}

/**
 * YAML files under the directory `startRel` (relative to root; `startReal` is its real path), in
 * code-point order of their relative paths.
 */
export const findSourceFiles = (startRel: string, startReal: string, opts: WalkOptions): FileSet => {
  const out: FileSet = { files: [], errors: [] };
  const visited = new Set<string>();
  const prefix = opts.ignoreBase ? `${opts.ignoreBase}/` : '';
  const ignored = (rel: string, isDir: boolean) => {
    if (!rel.startsWith(prefix)) return false;
    const fromBase = rel.slice(prefix.length);
    return fromBase !== '' && opts.ig.ignores(isDir ? `${fromBase}/` : fromBase);
  };
  const walk = (rel: string, real: string) => {
    if (visited.has(real)) return; // a symlink loop, or a directory linked twice
    visited.add(real);
    const entries = readdirSync(real, { withFileTypes: true }).sort((a, b) =>
      a.name < b.name ? -1 : a.name > b.name ? 1 : 0,
    );
    for (const entry of entries) {
      const childRel = rel ? `${rel}/${entry.name}` : entry.name;
      let target = join(real, entry.name);
      let stats: Stats | undefined;
      if (entry.isSymbolicLink()) {
        try {
          target = realpathSync(target);
          stats = statSync(target);
        } catch {
          continue; // a dangling link names nothing to read
        }
        if (!within(opts.root, target)) {
          out.errors.push(pathError(childRel, 'a symlink that points outside the source is not followed'));
          continue;
        }
      }
      const isDir = stats ? stats.isDirectory() : entry.isDirectory();
      const isFile = stats ? stats.isFile() : entry.isFile();
      if (isDir) {
        if (!opts.recursive || isSkippedDir(entry.name) || opts.exclude?.has(childRel)) continue;
        if (ignored(childRel, true)) continue;
        walk(childRel, target);
      } else if (
        isFile &&
        YAML.test(entry.name) &&
        !entry.name.startsWith('.') &&
        !ignored(childRel, false)
      ) {
        // Dot-files (.gitlab-ci.yml, .pre-commit-config.yaml) are tooling, as `simops validate` sees it.
        out.files.push({ file: childRel, abs: target });
      }
    }
  };
  walk(startRel, startReal);
  out.files.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  return out;
};
