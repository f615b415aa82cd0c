// Reads a JSON-lines file and tells its complete lines from a torn tail (bytes after the last newline).
import { readFileSync } from 'node:fs';

export interface FileLines {
  /** The newline-terminated lines, without their newlines. */
  lines: string[];
  /** Byte length of those lines: where a torn tail starts. */
  completeBytes: number;
  /** Bytes after the last newline: a write cut short by a crash. */
  tornBytes: number;
}

/**
 * Undefined when the file does not exist. The file is decoded as one string, which bounds it to
 * V8's string limit (~512 MB): far above the WAL (compacted at 64 MiB) and a 10,000-object snapshot.
 */
export const readLines = (path: string): FileLines | undefined => {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  const completeBytes = buf.lastIndexOf(0x0a) + 1;
  const text = buf.toString('utf8', 0, completeBytes);
  const lines = completeBytes === 0 ? [] : text.slice(0, -1).split('\n');
  return { lines, completeBytes, tornBytes: buf.length - completeBytes };
};
