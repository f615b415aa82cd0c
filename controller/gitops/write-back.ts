// Writes a report back to a branch of a GitSource's repository: results readable from git by pull
// requests and dashboards. Its own checkout (not the fetch checkout, which must stay at the applied
// revision), the same credential handling as fetch (nothing in `.git/config`, URLs or messages),
// a commit only when the tree changed, and one retry when the branch moved under us.
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { GitError, type SimpleGit, simpleGit } from 'simple-git';
import {
  classifyGitFailure,
  FetchError,
  type FetchErrorReason,
  scrub,
  summarizeGitOutput,
} from './fetch-error.ts';
import { type GitCredentials, gitEnv } from './git-env.ts';
import { isSafeRefName } from './git-ref.ts';
import { serialized } from './keyed-lock.ts';
import { parseSourceUrl, type SourceUrl } from './source-url.ts';
import { InvalidPathError, type ReportFiles, replaceFiles, reportFiles } from './write-back-files.ts';

export interface WriteBackRequest {
  /** The GitSource's URL; a local working tree is never written to. */
  url: string;
  credentials?: GitCredentials;
  /** The write-back checkouts live under `<cacheDir>/write-back/`. */
  cacheDir: string;
  branch: string;
  /** The report directory, relative to the repository root. */
  path: string;
  /** Relative to `path` → content: exactly what the directory holds afterwards. */
  files: Record<string, string>;
  message: string;
  author?: { name: string; email: string };
  /** The whole write-back, all git commands together, must finish within this. */
  timeoutMs: number;
  signal?: AbortSignal;
}

export interface WriteBackResult {
  committed: boolean;
  /** The commit pushed, when one was. */
  commit?: string;
}

export type WriteBackErrorReason = FetchErrorReason | 'InvalidPath' | 'PushRejected';

export class WriteBackError extends Error {
  readonly reason: WriteBackErrorReason;

  constructor(reason: WriteBackErrorReason, message: string) {
    super(message);
    this.name = 'WriteBackError';
    this.reason = reason;
  }
}

const DEFAULT_AUTHOR = { name: 'SimOps', email: 'simops@simops.dev' };

type Remote = Extract<SourceUrl, { type: 'remote' }>;

/**
 * Resolves to whether a commit was pushed, or rejects with a WriteBackError (an AbortError when the
 * caller's `signal` aborts). Working trees resolve to `{ committed: false }`: there is nothing to
 * push to, and the caller says so.
 */
export const writeBack = async (req: WriteBackRequest): Promise<WriteBackResult> => {
  let report: ReportFiles;
  let source: SourceUrl;
  try {
    report = reportFiles(req.path, req.files);
    source = parseSourceUrl(req.url);
  } catch (err) {
    if (err instanceof InvalidPathError) throw new WriteBackError('InvalidPath', err.message);
    if (err instanceof FetchError) throw new WriteBackError(err.reason, err.message);
    throw err;
  }
  if (!isSafeRefName(req.branch))
    throw new WriteBackError('InvalidPath', `invalid branch name ${JSON.stringify(req.branch)}`);
  if (source.type === 'worktree') return { committed: false };
  const key = createHash('sha256').update(`${source.cacheKey}\0${req.branch}`).digest('hex').slice(0, 32);
  const dir = join(req.cacheDir, 'write-back', key);
  return serialized(dir, () => writeRemote(source, dir, report, req));
};

const writeRemote = async (
  source: Remote,
  dir: string,
  report: ReportFiles,
  req: WriteBackRequest,
): Promise<WriteBackResult> => {
  const timeout = AbortSignal.timeout(req.timeoutMs);
  const signal = req.signal ? AbortSignal.any([req.signal, timeout]) : timeout;
  const env = await gitEnv(source.transport, { ...source.userinfo, ...req.credentials }, req.timeoutMs);
  const author = req.author ?? DEFAULT_AUTHOR;
  const identity = {
    GIT_AUTHOR_NAME: author.name,
    GIT_AUTHOR_EMAIL: author.email,
    GIT_COMMITTER_NAME: author.name,
    GIT_COMMITTER_EMAIL: author.email,
  };
  let step = 'init';
  try {
    // A directory left half-made by an interrupted first run is started again.
    if (existsSync(dir) && !existsSync(join(dir, '.git', 'HEAD')))
      await rm(dir, { recursive: true, force: true });
    await mkdir(dir, { recursive: true });
    const git = simpleGit({
      baseDir: dir,
      abort: signal,
      allowEnvironment: [...env.allow, ...Object.keys(identity)],
      unsafe: {
        allowUnsafeSshCommand: true, // our own GIT_SSH_COMMAND, built from the Secret
        allowUnsafeConfigEnvCount: true, // http.extraHeader and friends, as GIT_CONFIG_*
        allowUnsafeCredentialHelper: true, // set to empty: no helper of the host is asked
      },
    }).env({ ...env.env, ...identity });
    if (!existsSync(join(dir, '.git', 'HEAD'))) await git.raw(['init']);

    for (let attempt = 1; ; attempt++) {
      step = 'fetch';
      const base = await fetchBranch(git, source.url, req.branch);
      step = 'checkout';
      await checkout(git, base);
      // An orphan branch with nothing in it is not worth creating.
      if (!base && report.files.length === 0) return { committed: false };
      step = 'write';
      await replaceFiles(dir, report);
      step = 'commit';
      await git.raw(['add', '--all', '--', report.dir || '.']);
      const tree = (await git.raw(['write-tree'])).trim();
      if (base && tree === (await revParse(git, `${base}^{tree}`))) return { committed: false };
      const parents = base ? ['-p', base] : [];
      const commit = (
        await git.raw(['commit-tree', '--no-gpg-sign', tree, ...parents, '-m', req.message])
      ).trim();
      step = 'push';
      try {
        await git.raw(['push', '--no-verify', source.url, `${commit}:refs/heads/${req.branch}`]);
        return { committed: true, commit };
      } catch (err) {
        if (!remoteMoved(err)) throw err;
        if (attempt === 2)
          throw new WriteBackError('PushRejected', `the branch ${req.branch} moved twice while writing back`);
      }
    }
  } catch (err) {
    if (req.signal?.aborted) throw req.signal.reason;
    const where = `git ${step} ${source.display}`;
    if (timeout.aborted) throw new WriteBackError('Timeout', `${where}: timed out after ${req.timeoutMs} ms`);
    if (err instanceof InvalidPathError) throw new WriteBackError('InvalidPath', err.message);
    if (err instanceof WriteBackError) throw new WriteBackError(err.reason, scrub(err.message, env.secrets));
    const text = err instanceof Error ? err.message : String(err);
    const reason = err instanceof GitError ? classifyGitFailure(text) : 'GitOperationFailed';
    throw new WriteBackError(reason, scrub(`${where}: ${summarizeGitOutput(text)}`, env.secrets));
  } finally {
    await env.dispose();
  }
};

const revParse = async (git: SimpleGit, rev: string): Promise<string> =>
  (await git.raw(['rev-parse', '--verify', rev])).trim();

/** The branch's commit on the remote, or undefined when the remote has no such branch. */
const fetchBranch = async (git: SimpleGit, url: string, branch: string): Promise<string | undefined> => {
  const local = `refs/remotes/origin/${branch}`;
  try {
    // Not --quiet: simple-git waits 50 ms more for a command that printed nothing at all.
    await git.raw([
      'fetch',
      '--verbose',
      '--force',
      '--no-tags',
      '--no-write-fetch-head',
      url,
      `+refs/heads/${branch}:${local}`,
    ]);
  } catch (err) {
    if (err instanceof GitError && /couldn't find remote ref/i.test(err.message)) return undefined;
    throw err;
  }
  return revParse(git, `${local}^{commit}`);
};

/** The index and working tree become the base commit's, or empty for an orphan branch. */
const checkout = async (git: SimpleGit, base: string | undefined) => {
  if (base) await git.raw(['checkout', '--force', '--detach', base]);
  else await git.raw(['read-tree', '--empty']);
  await git.raw(['clean', '-ffdx']);
};

// Rejected because the branch is not where we fetched it: by git's own check (fetch first,
// non-fast-forward) or by the server's compare-and-swap when two pushes race.
const remoteMoved = (err: unknown) =>
  err instanceof GitError &&
  /\((fetch first|non-fast-forward)\)|failed to update ref|cannot lock ref/i.test(err.message);
