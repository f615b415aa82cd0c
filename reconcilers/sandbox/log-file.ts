// A service's output as a log artifact: appended line by line to a file, with the values of its
// Secret variables replaced by `[redacted]` (a secret never reaches a log), and the last lines kept
// for status messages.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { dirname } from 'node:path';

export const REDACTED = '[redacted]';
const TAIL = 20;

/** Replaces every occurrence of a secret value (longest first, so a value inside another goes too). */
export const redact = (line: string, secrets: readonly string[]): string => {
  let out = line;
  for (const s of secrets) if (s) out = out.split(s).join(REDACTED);
  return out;
};

export interface LogFile {
  readonly path: string;
  /** A chunk of the service's output on one of its streams. */
  write(stream: 'stdout' | 'stderr', chunk: Buffer | string): void;
  /** A line of SimOps' own about the service (started, exited, restarting). */
  note(message: string): void;
  /** The last lines written (redacted). */
  tail(): string[];
  close(): Promise<void>;
}

export const openLogFile = (path: string, secretValues: readonly string[]): LogFile => {
  mkdirSync(dirname(path), { recursive: true });
  const out: WriteStream = createWriteStream(path, { flags: 'a' });
  out.on('error', () => {}); // a full disk must not crash the controller
  // Short values would redact half the log and say nothing secret; longest first.
  const secrets = [...new Set(secretValues.filter((s) => s.length >= 3))].sort((a, b) => b.length - a.length);
  const partial: Record<'stdout' | 'stderr', string> = { stdout: '', stderr: '' };
  const last: string[] = [];
  const emit = (line: string) => {
    const clean = redact(line, secrets);
    out.write(`${clean}\n`);
    last.push(clean);
    if (last.length > TAIL) last.shift();
  };
  return {
    path,
    write(stream, chunk) {
      const text = partial[stream] + chunk.toString();
      const lines = text.split('\n');
      partial[stream] = lines.pop() ?? '';
      // A line that never ends is written in pieces rather than held without bound.
      if (partial[stream].length > 64 * 1024) {
        lines.push(partial[stream]);
        partial[stream] = '';
      }
      for (const line of lines) emit(line);
    },
    note(message) {
      emit(`[simops ${new Date().toISOString()}] ${message}`);
    },
    tail: () => [...last],
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of ['stdout', 'stderr'] as const) {
          if (partial[s]) emit(partial[s]);
          partial[s] = '';
        }
        out.end(() => resolve());
      }),
  };
};
