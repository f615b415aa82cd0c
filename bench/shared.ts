// What bench/apiserver.ts and bench/sync.ts both need: messages from a forked child, the machine's
// CPU counters, and the formatting of their figures.
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface Message {
  type: string;
  [k: string]: unknown;
}

/** The child's next message of `type`; fails if the child exits first or after `timeoutMs`. */
export const nextMessage = <T>(child: ChildProcess, type: string, timeoutMs: number): Promise<T> =>
  new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`no ${type} message from child in ${timeoutMs} ms`)),
      timeoutMs,
    );
    const onMessage = (m: Message) => {
      if (m.type !== type) return;
      cleanup();
      resolve(m as T);
    };
    const onExit = (code: number | null, signal: string | null) => {
      cleanup();
      reject(new Error(`child exited (${code ?? signal}) before sending ${type}`));
    };
    const cleanup = () => {
      clearTimeout(timer);
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });

/** The machine's CPU time so far (jiffies, /proc/stat): idle (incl. iowait), steal, total. */
export const cpuTimes = () => {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { idle: f[3]! + f[4]!, steal: f[7] ?? 0, total: f.reduce((a, b) => a + b, 0) };
};

export const mib = (bytes: number) => bytes / 1048576;
export const round = (n: number, digits = 1) => Math.round(n * 10 ** digits) / 10 ** digits;
export const pass = (ok: boolean) => (ok ? 'PASS' : 'FAIL');
