// Which ref a GitSource follows, with Flux's precedence (commit > semver > tag > branch), and the
// revision string Flux writes for it.
import semver from 'semver';

export interface GitRef {
  branch?: string;
  tag?: string;
  /** A semver range over the repository's tags (with or without a leading `v`). */
  semver?: string;
  /** A full or abbreviated commit id. */
  commit?: string;
}

export type ResolvedRef =
  | { type: 'commit'; commit: string }
  | { type: 'semver'; range: string }
  | { type: 'tag'; tag: string }
  | { type: 'branch'; branch: string };

export const DEFAULT_BRANCH = 'main';

export const selectRef = (ref: GitRef = {}): ResolvedRef => {
  if (ref.commit) return { type: 'commit', commit: ref.commit.toLowerCase() };
  if (ref.semver) return { type: 'semver', range: ref.semver };
  if (ref.tag) return { type: 'tag', tag: ref.tag };
  return { type: 'branch', branch: ref.branch || DEFAULT_BRANCH };
};

/** The highest tag in the range; ties (`v1.0.0` and `1.0.0`) go to the first in sorted order. */
export const highestTag = (tags: readonly string[], range: string): string | undefined => {
  const candidates = [...tags].sort().filter((t) => semver.valid(t) !== null);
  return semver.maxSatisfying(candidates, range) ?? undefined;
};

/** Flux's revision format: `<branch or tag>@sha1:<sha>`, or `sha1:<sha>` for a pinned commit. */
export const revisionOf = (name: string | undefined, sha: string): string =>
  name ? `${name}@sha1:${sha}` : `sha1:${sha}`;

/**
 * Branch and tag names are passed to git as refspecs; refuse what git itself would refuse
 * (and anything that could read as an option or a refspec of our own).
 */
export const isSafeRefName = (name: string): boolean =>
  name.length > 0 &&
  !name.startsWith('-') &&
  !name.startsWith('/') &&
  !name.endsWith('/') &&
  !name.endsWith('.lock') &&
  !name.endsWith('.') &&
  ![...name].some((c) => c.charCodeAt(0) <= 0x20 || c.charCodeAt(0) === 0x7f) &&
  !/(\.\.|\/\/|@\{|[~^:?*[\\])/.test(name);
