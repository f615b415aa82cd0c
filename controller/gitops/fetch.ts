// Fetches a GitSource's repository into a cache directory and checks out the wanted ref, or, for a
// local working tree, names its current content. The only place SimOps runs git.
//
// One working directory per URL under `cacheDir` (named by a hash of the URL without
// credentials). It is made with `git init` and filled with `git fetch <url> <refspec>`: no remote is
// configured, so no URL, let alone a credential, is written to `.git/config`.
import { existsSync } from 'node:fs';
import { mkdir, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import semver from 'semver';
import { GitError, type SimpleGit, simpleGit } from 'simple-git';
import { classifyGitFailure, FetchError, scrub, summarizeGitOutput } from './fetch-error.ts';
import { type GitCredentials, gitEnv } from './git-env.ts';
import { type GitRef, highestTag, isSafeRefName, revisionOf, selectRef } from './git-ref.ts';
import { parseSourceUrl, type SourceUrl } from './source-url.ts';
import { worktreeRevision } from './worktree-revision.ts';

export { FetchError, type FetchErrorReason } from './fetch-error.ts';
export type { GitCredentials } from './git-env.ts';
export type { GitRef } from './git-ref.ts';

export interface FetchRequest {
  /** https://, http:// (loopback only), ssh://, git@host:path, file://, or a local path. */
  url: string;
  ref?: GitRef;
  /** The whole fetch, all git commands together, must finish within this. */
  timeoutMs: number;
  credentials?: GitCredentials;
  cacheDir: string;
  signal?: AbortSignal;
}

export interface FetchResult {
  /** `main@sha1:<sha>`, `v1.2.0@sha1:<sha>`, `sha1:<sha>`, or `worktree@sha256:<hex>`. */
  revision: string;
  /** The checked-out files (the working tree itself for a local path). */
  dir: string;
  /** The checked-out commit; absent for a working tree. */
  commit?: string;
}

type Remote = Extract<SourceUrl, { type: 'remote' }>;

/**
 * Resolves to the fetched revision, or rejects with a FetchError. When the caller's `signal` is
 * aborted it rejects with the signal's reason instead (an AbortError), as `fetch()` does.
 */
export const fetchSource = async (req: FetchRequest): Promise<FetchResult> => {
  const source = parseSourceUrl(req.url);
  if (source.type === 'worktree') return worktree(source.path);
  const dir = join(req.cacheDir, source.cacheKey);
  return serialized(dir, () => fetchRemote(source, dir, req));
};

const worktree = async (path: string): Promise<FetchResult> => {
  const info = await stat(path).catch(() => undefined);
  if (!info?.isDirectory()) throw new FetchError('InvalidURL', `${path} is not a directory`);
  return { revision: await worktreeRevision(path), dir: path };
};

// Two reconciles of GitSources with the same URL share one directory: one git at a time in it.
const locks = new Map<string, Promise<unknown>>();
const serialized = <T>(key: string, fn: () => Promise<T>): Promise<T> => {
  const previous = locks.get(key) ?? Promise.resolve();
  const run = previous.then(fn, fn);
  const tail = run.catch(() => {});
  locks.set(key, tail);
  void tail.then(() => {
    if (locks.get(key) === tail) locks.delete(key);
  });
  return run;
};

const fetchRemote = async (source: Remote, dir: string, req: FetchRequest): Promise<FetchResult> => {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const credentials = { ...source.userinfo, ...req.credentials };
  const env = await gitEnv(source.transport, credentials, req.timeoutMs);
  let step = 'init';
  try {
    await ensureRepository(dir);
    const git = simpleGit({
      baseDir: dir,
      abort: signal,
      allowEnvironment: env.allow,
      unsafe: {
        allowUnsafeSshCommand: true, // our own GIT_SSH_COMMAND, built from the Secret
        allowUnsafeConfigEnvCount: true, // http.extraHeader and friends, as GIT_CONFIG_*
        allowUnsafeCredentialHelper: true, // set to empty: no helper of the host is asked
      },
    }).env(env.env);
    if (!existsSync(join(dir, '.git', 'HEAD'))) await git.raw(['init']);
    step = 'fetch';
    const { name, sha } = await resolve(git, source.url, req.ref);
    step = 'checkout';
    await git.raw(['checkout', '--force', '--detach', sha]);
    return { revision: revisionOf(name, sha), dir, commit: sha };
  } catch (err) {
    throw toFetchError(err, {
      step,
      source,
      timeout,
      signal: req.signal,
      timeoutMs: req.timeoutMs,
      secrets: env.secrets,
    });
  } finally {
    await env.dispose();
  }
};

const ensureRepository = async (dir: string) => {
  // A directory left half-made by an interrupted first clone is started again.
  if (existsSync(dir) && !existsSync(join(dir, '.git', 'HEAD')))
    await rm(dir, { recursive: true, force: true });
  await mkdir(dir, { recursive: true });
};

const revParse = async (git: SimpleGit, rev: string): Promise<string> =>
  (await git.raw(['rev-parse', '--verify', `${rev}^{commit}`])).trim();

const HEADS = '+refs/heads/*:refs/remotes/origin/*';
const TAGS = '+refs/tags/*:refs/tags/*';

// Not --quiet: simple-git waits 50 ms more for a command that printed nothing at all.
const fetchRefs = (git: SimpleGit, url: string, ...refspecs: string[]) =>
  git.raw([
    'fetch',
    '--verbose',
    '--force',
    '--no-tags',
    '--prune',
    '--no-write-fetch-head',
    url,
    ...refspecs,
  ]);

/** Fetches what the ref needs (only that branch or tag when it names one) and resolves it. */
const resolve = async (
  git: SimpleGit,
  url: string,
  ref?: GitRef,
): Promise<{ name?: string; sha: string }> => {
  const wanted = selectRef(ref);
  switch (wanted.type) {
    case 'branch': {
      if (!isSafeRefName(wanted.branch))
        throw new FetchError('RefNotFound', `invalid branch name ${JSON.stringify(wanted.branch)}`);
      const local = `refs/remotes/origin/${wanted.branch}`;
      await fetchRefs(git, url, `+refs/heads/${wanted.branch}:${local}`);
      return { name: wanted.branch, sha: await revParse(git, local) };
    }
    case 'tag': {
      if (!isSafeRefName(wanted.tag))
        throw new FetchError('RefNotFound', `invalid tag name ${JSON.stringify(wanted.tag)}`);
      const local = `refs/tags/${wanted.tag}`;
      await fetchRefs(git, url, `+${local}:${local}`);
      return { name: wanted.tag, sha: await revParse(git, local) };
    }
    case 'semver': {
      if (semver.validRange(wanted.range) === null) {
        throw new FetchError('RefNotFound', `invalid semver range ${JSON.stringify(wanted.range)}`);
      }
      await fetchRefs(git, url, TAGS);
      const tags = (await git.raw(['for-each-ref', '--format=%(refname:strip=2)', 'refs/tags']))
        .split('\n')
        .filter(Boolean);
      const tag = highestTag(tags, wanted.range);
      if (!tag)
        throw new FetchError(
          'RefNotFound',
          `no tag satisfies the semver range ${JSON.stringify(wanted.range)}`,
        );
      return { name: tag, sha: await revParse(git, `refs/tags/${tag}`) };
    }
    case 'commit': {
      if (!/^[0-9a-f]{4,40}$/.test(wanted.commit)) {
        throw new FetchError('RefNotFound', `invalid commit ${JSON.stringify(wanted.commit)}`);
      }
      // Commits never change: one already fetched needs no network at all.
      const known = await revParse(git, wanted.commit).catch(() => undefined);
      if (known) return { sha: known };
      await fetchRefs(git, url, HEADS, TAGS);
      const sha = await revParse(git, wanted.commit).catch(() => undefined);
      if (!sha)
        throw new FetchError(
          'RefNotFound',
          `commit ${wanted.commit} is on no branch or tag of the repository`,
        );
      return { sha };
    }
  }
};

interface FailureContext {
  step: string;
  source: Remote;
  timeout: AbortSignal;
  signal?: AbortSignal;
  timeoutMs: number;
  secrets: string[];
}

const toFetchError = (err: unknown, ctx: FailureContext): unknown => {
  const where = `git ${ctx.step} ${ctx.source.display}`;
  if (ctx.signal?.aborted) return ctx.signal.reason;
  if (ctx.timeout.aborted) return new FetchError('Timeout', `${where}: timed out after ${ctx.timeoutMs} ms`);
  if (err instanceof FetchError) return new FetchError(err.reason, scrub(err.message, ctx.secrets));
  const text = err instanceof Error ? err.message : String(err);
  const reason = err instanceof GitError ? classifyGitFailure(text) : 'GitOperationFailed';
  return new FetchError(reason, scrub(`${where}: ${summarizeGitOutput(text)}`, ctx.secrets));
};
