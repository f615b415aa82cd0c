// Real git repositories for tests: files, commits and tags, with fixed identities and dates so a
// repository built twice from the same steps has the same commit ids.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { tempDir } from './tmp.ts';

// The user's own git configuration (signing, hooks, default branch) must not leak into tests.
const gitEnv = (date: string): NodeJS.ProcessEnv => ({
  PATH: process.env.PATH,
  HOME: process.env.HOME,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_AUTHOR_NAME: 'SimOps Test',
  GIT_AUTHOR_EMAIL: 'test@simops.dev',
  GIT_COMMITTER_NAME: 'SimOps Test',
  GIT_COMMITTER_EMAIL: 'test@simops.dev',
  GIT_AUTHOR_DATE: date,
  GIT_COMMITTER_DATE: date,
});

export interface TestRepo {
  dir: string;
  /** `file://` URL of the repository. */
  url: string;
  git(...args: string[]): string;
  /** Writes files (relative path → content; `null` deletes), commits them all, returns the sha. */
  commit(files: Record<string, string | null>, message?: string): string;
  /** A lightweight tag, or an annotated one with a message. */
  tag(name: string, opts?: { message?: string; ref?: string }): void;
  branch(name: string, ref?: string): void;
  checkout(ref: string): void;
}

export const createRepo = (dir = tempDir('simops-repo-')): TestRepo => {
  let commits = 0;
  // Each commit one second later than the last: distinct, reproducible timestamps.
  const date = () => `${1_700_000_000 + commits} +0000`;
  mkdirSync(dir, { recursive: true });
  const git = (...args: string[]) =>
    execFileSync('git', args, { cwd: dir, env: gitEnv(date()), encoding: 'utf8' }).trim();
  git('init', '--quiet', '--initial-branch=main');
  return {
    dir,
    url: `file://${dir}`,
    git,
    commit(files, message = `commit ${commits + 1}`) {
      for (const [rel, content] of Object.entries(files)) {
        const path = join(dir, rel);
        if (content === null) rmSync(path, { force: true });
        else {
          mkdirSync(dirname(path), { recursive: true });
          writeFileSync(path, content);
        }
      }
      commits++;
      git('add', '--all');
      git('commit', '--quiet', '--allow-empty', '--no-verify', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    tag(name, opts = {}) {
      const ref = opts.ref ?? 'HEAD';
      if (opts.message) git('tag', '--annotate', '-m', opts.message, name, ref);
      else git('tag', name, ref);
    },
    branch(name, ref = 'HEAD') {
      git('branch', '--force', name, ref);
    },
    checkout(ref) {
      git('checkout', '--quiet', ref);
    },
  };
};
