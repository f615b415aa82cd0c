// File-system primitives the store's durability rests on.
import { closeSync, fsyncSync, openSync, writeSync } from 'node:fs';

/** Writes all of `buf`: `writeSync` may write less than asked (a signal, a full disk). */
export const writeAll = (fd: number, buf: Uint8Array): void => {
  let offset = 0;
  while (offset < buf.length) offset += writeSync(fd, buf, offset, buf.length - offset);
};

/**
 * Makes a rename or a file creation in `dir` durable: on Linux the directory entry reaches the disk
 * only when the directory itself is fsynced. Windows cannot open a directory; it has no such step.
 */
export const fsyncDir = (dir: string): void => {
  if (process.platform === 'win32') return;
  const fd = openSync(dir, 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
};
