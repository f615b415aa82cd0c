// The API server's bearer token: one random secret per data directory, kept across restarts.
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { readPrivateFile, writePrivateFile } from './private-file.ts';

/** 32 random bytes, base64url: 43 characters, safe in headers and YAML without quoting. */
export const newToken = (): string => randomBytes(32).toString('base64url');

const wellFormed = /^[A-Za-z0-9_-]{43,}$/;

/** Returns the token stored at `path`, creating it (0600) if it is missing or malformed. */
export const loadOrCreateToken = (path: string): string => {
  const stored = readPrivateFile(path)?.trim();
  if (stored !== undefined && wellFormed.test(stored)) return stored;
  const token = newToken();
  writePrivateFile(path, `${token}\n`);
  return token;
};

const digest = (s: string): Buffer => createHash('sha256').update(s).digest();

/**
 * True when `header` is `Bearer <token>`. Both sides are hashed first so timingSafeEqual gets
 * equal-length buffers and the comparison time reveals neither the token nor its length.
 */
export const tokenMatches = (header: string | undefined, token: string): boolean => {
  if (header === undefined || token === '') return false;
  const match = /^Bearer[ \t]+(\S+)[ \t]*$/i.exec(header);
  if (match === null) return false;
  return timingSafeEqual(digest(match[1]!), digest(token));
};
