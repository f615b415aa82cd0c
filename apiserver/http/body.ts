// Request bodies: size-limited, JSON or YAML.
import type { IncomingMessage } from 'node:http';
import { parse } from 'yaml';
import { ApiError, badRequest } from '../errors.ts';

/** Kubernetes' limit for a request body. */
export const MAX_BODY_BYTES = 3 * 1024 * 1024;
/** Far deeper than any object served here; deep enough bodies overflow the recursive validators. */
export const MAX_BODY_DEPTH = 100;

const tooDeep = (value: unknown, max: number): boolean => {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > max) return true;
    for (const child of Object.values(v)) stack.push([child, depth + 1]);
  }
  return false;
};

export const readBody = (req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${limit} bytes`));
      req.resume();
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      if (size > limit) return; // discarding the rest, so the 413 reaches the client
      size += chunk.length;
      if (size > limit) {
        chunks.length = 0;
        reject(new ApiError(413, 'RequestEntityTooLarge', `the request body is larger than ${limit} bytes`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

/** JSON for JSON media types, YAML (a superset) for YAML ones; anything else is refused. */
export const parseBody = (raw: Buffer, contentType: string): unknown => {
  const text = raw.toString('utf8');
  if (!text.trim()) throw badRequest('the request body is empty');
  const yaml = /yaml/.test(contentType);
  if (!yaml && !/json/.test(contentType)) {
    throw new ApiError(
      415,
      'UnsupportedMediaType',
      `the body of the request was in an unknown format: ${contentType || 'none'}`,
    );
  }
  let body: unknown;
  try {
    body = yaml ? parse(text, { maxAliasCount: 50 }) : JSON.parse(text);
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    throw badRequest(`the request body could not be decoded: ${message}`);
  }
  if (tooDeep(body, MAX_BODY_DEPTH))
    throw badRequest(`the request body is nested deeper than ${MAX_BODY_DEPTH} levels`);
  return body;
};
