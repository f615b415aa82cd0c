// Owner-only files for secrets (keys, token): never readable by others, not even for a moment.
import {
  chmodSync,
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeSync,
} from 'node:fs';

/** Creates `dir` (and parents) and makes sure it is 0700 even if it already existed. */
export const ensurePrivateDir = (dir: string): void => {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  chmodSync(dir, 0o700);
};

/**
 * Writes `data` to `path` as a 0600 file. It goes to a temporary file first and is renamed into place,
 * so a crash mid-write never leaves a truncated key that a later start would trip over.
 */
export const writePrivateFile = (path: string, data: string): void => {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o600);
  try {
    // A stale temp file from a crashed run keeps its old mode: fix it before writing a secret into it.
    chmodSync(tmp, 0o600);
    writeSync(fd, data);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, path);
};

/** Reads a private file, tightening its mode to 0600 if someone loosened it; undefined if missing. */
export const readPrivateFile = (path: string): string | undefined => {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  if ((statSync(path).mode & 0o077) !== 0) chmodSync(path, 0o600);
  return text;
};
