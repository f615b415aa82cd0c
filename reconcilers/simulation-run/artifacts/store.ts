// The run directories under `<artifact root>/runs/`. A run is written into a temporary directory
// and renamed into place whole, so `runs/<runId>/` either holds a complete run or does not exist;
// a cancelled or failed run leaves nothing behind.
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';

export interface RunFile {
  /** Relative to the run directory. */
  path: string;
  bytes: Buffer | string;
}

export const runsDir = (root: string) => join(root, 'runs');
export const runDir = (root: string, runId: string) => join(runsDir(root), runId);

export const runExists = (root: string, runId: string): boolean =>
  existsSync(join(runDir(root, runId), 'run.json'));

export interface StagedRun {
  dir: string;
  write(file: RunFile): Promise<void>;
  /** Moves the run into place (replacing an existing one when `replace`); false if one exists. */
  commit(replace: boolean): Promise<boolean>;
  discard(): Promise<void>;
}

/**
 * Removes what earlier attempts at this run left half-written (a process killed mid-write): once an
 * attempt has committed, or found the run complete, no other attempt's staging is worth keeping.
 */
const removeLeftovers = async (root: string, runId: string, keep: string) => {
  const prefix = `.tmp-${runId}-`;
  const names = await readdir(runsDir(root)).catch(() => [] as string[]);
  await Promise.all(
    names
      .filter((n) => n.startsWith(prefix) && join(runsDir(root), n) !== keep)
      .map((n) => rm(join(runsDir(root), n), { recursive: true, force: true })),
  );
};

export const stageRun = async (root: string, runId: string): Promise<StagedRun> => {
  const dir = join(runsDir(root), `.tmp-${runId}-${randomBytes(4).toString('hex')}`);
  await mkdir(dir, { recursive: true });
  const made = new Set<string>([dir]);
  return {
    dir,
    async write(file) {
      const path = join(dir, file.path);
      const parent = dirname(path);
      if (!made.has(parent)) {
        await mkdir(parent, { recursive: true });
        made.add(parent);
      }
      await writeFile(path, file.bytes);
    },
    async commit(replace) {
      const target = runDir(root, runId);
      if (existsSync(target)) {
        if (!replace) {
          await rm(dir, { recursive: true, force: true });
          await removeLeftovers(root, runId, dir);
          return false;
        }
        const old = join(runsDir(root), `.old-${runId}-${randomBytes(4).toString('hex')}`);
        await rename(target, old);
        await rename(dir, target);
        await rm(old, { recursive: true, force: true });
        await removeLeftovers(root, runId, dir);
        return true;
      }
      await rename(dir, target);
      await removeLeftovers(root, runId, dir);
      return true;
    },
    async discard() {
      await rm(dir, { recursive: true, force: true });
    },
  };
};

export interface ExistingRun {
  runJson: {
    grid: { bins: number; binSize: number; binUnit: string };
    warnings: { code: string; message: string; nodeId?: string }[];
    series: unknown[];
  };
  seriesCount: number;
}

export const readRun = async (root: string, runId: string): Promise<ExistingRun> => {
  const dir = runDir(root, runId);
  const run = JSON.parse(await readFile(join(dir, 'run.json'), 'utf8')) as ExistingRun['runJson'];
  return { runJson: run, seriesCount: Array.isArray(run.series) ? run.series.length : 0 };
};

/** What a complete run directory has, for status (`artifacts` and `canReplay`). */
export const runContents = (root: string, runId: string) => {
  const dir = runDir(root, runId);
  const has = (p: string) => existsSync(join(dir, p));
  return {
    location: dir,
    runJson: has('run.json'),
    manifestJson: has('manifest.json'),
    seriesIndex: has('series/index.json'),
    spec: has('spec.yaml'),
  };
};
