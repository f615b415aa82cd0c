// Child processes that never outlive their sandbox: each service runs as the leader of its own
// process group, so a stop reaches whatever it started; every live group is written to a pid file
// (with the kernel's start time of the leader, so a reused pid is never mistaken for ours) that a
// later controller sweeps after a crash; and groups still alive when this process exits are killed.
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const live = new Set<number>();
let hooked = false;

const hookExit = () => {
  if (hooked) return;
  hooked = true;
  process.on('exit', () => {
    for (const pgid of live) killGroup(pgid, 'SIGKILL');
  });
};

/** Sends a signal to a whole process group; false when none is left. */
export const killGroup = (pgid: number, signal: NodeJS.Signals): boolean => {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
};

/** The start time of a process in clock ticks since boot (field 22 of /proc/<pid>/stat). */
export const startTimeOf = (pid: number): string | undefined => {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
};

export interface Spawned {
  child: ChildProcess;
  pid: number;
  /** Resolves with the exit of the leader. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export const spawnGroup = async (
  command: string,
  args: readonly string[],
  opts: { cwd: string; env: Record<string, string>; pidFile: string },
): Promise<Spawned> => {
  hookExit();
  const child = spawn(command, args, {
    cwd: opts.cwd,
    env: opts.env,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const pid = await new Promise<number>((resolve, reject) => {
    child.once('spawn', () => resolve(child.pid!));
    child.once('error', reject);
  });
  live.add(pid);
  // Written before the exit below can be seen, so the file never outlives the process.
  mkdirSync(dirname(opts.pidFile), { recursive: true });
  writeFileSync(opts.pidFile, JSON.stringify({ pid, startTime: startTimeOf(pid) }));
  void exited.then(() => {
    // The leader is gone; anything it left in its group goes with it.
    killGroup(pid, 'SIGKILL');
    live.delete(pid);
    rmSync(opts.pidFile, { force: true });
  });
  return { child, pid, exited };
};

/** SIGTERM to the group, SIGKILL after the grace period; resolves when the leader has exited. */
export const stopGroup = async (s: Spawned, graceMs: number): Promise<void> => {
  if (s.child.exitCode !== null || s.child.signalCode !== null) {
    killGroup(s.pid, 'SIGKILL');
    return;
  }
  killGroup(s.pid, 'SIGTERM');
  const timer = setTimeout(() => killGroup(s.pid, 'SIGKILL'), graceMs);
  await s.exited;
  clearTimeout(timer);
  killGroup(s.pid, 'SIGKILL');
};

const list = (dir: string): string[] => {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
};

/**
 * Kills the process groups named by pid files under `root` (`<namespace>/<name>/run/pids/*`) whose
 * leader is still the process that was started — what a controller that died left running.
 */
export const sweepPidFiles = (root: string): number => {
  let killed = 0;
  for (const ns of list(root))
    for (const name of list(join(root, ns))) {
      const pids = join(root, ns, name, 'run', 'pids');
      for (const file of list(pids)) {
        const path = join(pids, file);
        try {
          const { pid, startTime } = JSON.parse(readFileSync(path, 'utf8')) as {
            pid: number;
            startTime?: string;
          };
          if (startTime && !live.has(pid) && startTimeOf(pid) === startTime && killGroup(pid, 'SIGKILL'))
            killed++;
        } catch {
          // not a pid file of ours
        }
        rmSync(path, { force: true });
      }
    }
  return killed;
};
