// The process table, read from /proc: which processes run in (or name) a directory. Tests use it to
// check that sandboxes leave no stray process behind.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

export interface ProcessInfo {
  pid: number;
  cwd: string;
  cmdline: string;
}

export const processes = (): ProcessInfo[] => {
  const out: ProcessInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z')) continue; // a zombie has exited
      out.push({
        pid: Number(entry),
        cwd: readlinkSync(`/proc/${entry}/cwd`),
        cmdline: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').join(' ').trim(),
      });
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return out;
};

/** Processes whose working directory is under `dir`, or whose command line names it. */
export const processesUnder = (dir: string): ProcessInfo[] =>
  processes().filter((p) => p.pid !== process.pid && (p.cwd.startsWith(dir) || p.cmdline.includes(dir)));

/** Waits until no process is under `dir`; returns the ones left after the timeout. */
export const settledProcessesUnder = async (dir: string, timeoutMs = 5000): Promise<ProcessInfo[]> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const left = processesUnder(dir);
    if (!left.length || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
};
