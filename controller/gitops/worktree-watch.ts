// Watches a local working tree so an edit is applied within a second instead of at the next
// interval. A burst of events (an editor's save, a `git checkout`) becomes one call.
import { relative, sep } from 'node:path';
import { watch } from 'chokidar';
import { isSkippedDir, SKIP_DIRS } from './worktree-revision.ts';

export interface WorktreeWatcher {
  /** Resolves once the initial scan is done: edits from then on are seen. */
  ready: Promise<void>;
  close(): Promise<void>;
}

export interface WatchOptions {
  /** Quiet time after the last event before `onChange` runs (default 100 ms). */
  debounceMs?: number;
  /** A stream of events that never goes quiet still calls `onChange` this often (default 1 s). */
  maxWaitMs?: number;
  onError?: (err: unknown) => void;
}

export const watchWorktree = (
  dir: string,
  onChange: () => void,
  opts: WatchOptions = {},
): WorktreeWatcher => {
  const debounceMs = opts.debounceMs ?? 100;
  const maxWaitMs = Math.max(opts.maxWaitMs ?? 1000, debounceMs);
  // The same directories the revision leaves out; a dot-file (.sourceignore) still counts.
  const ignored = (path: string, stats?: { isDirectory(): boolean }) => {
    const parts = relative(dir, path).split(sep);
    const last = parts.pop() ?? '';
    if (parts.some(isSkippedDir) || SKIP_DIRS.has(last)) return true;
    // chokidar asks first without stats; a dot-directory is known once it has them.
    return last.startsWith('.') && stats?.isDirectory() === true;
  };
  const watcher = watch(dir, { ignoreInitial: true, ignored });

  let timer: NodeJS.Timeout | undefined;
  let firstEventAt: number | undefined;
  let closed = false;
  const fire = () => {
    timer = undefined;
    firstEventAt = undefined;
    if (!closed) onChange();
  };
  const schedule = () => {
    const now = Date.now();
    firstEventAt ??= now;
    if (timer) clearTimeout(timer);
    const wait = Math.min(debounceMs, Math.max(0, firstEventAt + maxWaitMs - now));
    timer = setTimeout(fire, wait);
  };
  watcher.on('all', schedule);
  watcher.on('error', (err) => opts.onError?.(err));
  const ready = new Promise<void>((resolve) => watcher.once('ready', () => resolve()));

  return {
    ready,
    close: async () => {
      closed = true;
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
};
