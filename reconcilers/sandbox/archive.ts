// Deterministic tar archives of a directory, for content-addressed snapshots: entries in code-point
// order, no times, owners or host-specific modes (files 0644 or 0755, directories 0755), so the same
// content always gives the same bytes and the same sha256. Extraction refuses anything that would
// land outside the target (absolute paths, `..`, links) — an archive is never trusted.
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { lstat, mkdir, readdir, readlink, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { Readable, Transform, type TransformCallback, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createGzip } from 'node:zlib';

const BLOCK = 512;

interface Entry {
  path: string;
  type: 'file' | 'dir' | 'symlink';
  abs: string;
  size: number;
  executable: boolean;
  target?: string;
}

const octal = (n: number, width: number) => n.toString(8).padStart(width - 1, '0');

const ustarHeader = (e: {
  name: string;
  prefix?: string;
  type: string;
  size: number;
  mode: number;
  target?: string;
}) => {
  const h = Buffer.alloc(BLOCK);
  h.write(e.name, 0, 100, 'utf8');
  h.write(octal(e.mode, 8), 100, 8, 'ascii');
  h.write(octal(0, 8), 108, 8, 'ascii');
  h.write(octal(0, 8), 116, 8, 'ascii');
  h.write(octal(e.size, 12), 124, 12, 'ascii');
  h.write(octal(0, 12), 136, 12, 'ascii');
  h.fill(' ', 148, 156);
  h.write(e.type, 156, 1, 'ascii');
  if (e.target) h.write(e.target, 157, 100, 'utf8');
  h.write('ustar\u000000', 257, 8, 'ascii');
  h.write(e.prefix ?? '', 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${octal(sum, 7)}\u0000 `, 148, 8, 'ascii');
  return h;
};

/** A PAX record `"<len> key=value\n"`, whose length counts itself. */
const paxRecord = (key: string, value: string) => {
  const body = ` ${key}=${value}\n`;
  let len = Buffer.byteLength(body);
  while (String(len + String(len).length).length !== String(len).length) len++;
  len += String(len).length;
  return `${len}${body}`;
};

/** The header blocks of one entry: a PAX header first when the path or link does not fit ustar. */
const header = (e: { path: string; type: Entry['type']; size: number; mode: number; target?: string }) => {
  const name = e.path + (e.type === 'dir' ? '/' : '');
  const type = e.type === 'dir' ? '5' : e.type === 'symlink' ? '2' : '0';
  const long = Buffer.byteLength(name) > 100 || Buffer.byteLength(e.target ?? '') > 100;
  if (!long) return ustarHeader({ name, type, size: e.size, mode: e.mode, target: e.target });
  const pax = Buffer.from(
    paxRecord('path', name) +
      (e.target && Buffer.byteLength(e.target) > 100 ? paxRecord('linkpath', e.target) : ''),
  );
  return Buffer.concat([
    ustarHeader({ name: 'PaxHeader', type: 'x', size: pax.length, mode: 0o644 }),
    pax,
    Buffer.alloc((BLOCK - (pax.length % BLOCK)) % BLOCK),
    ustarHeader({
      name: Buffer.from(name)
        .subarray(0, 100)
        .toString('utf8')
        .replace(/\uFFFD$/, ''),
      type,
      size: e.size,
      mode: e.mode,
      target:
        e.target &&
        Buffer.from(e.target)
          .subarray(0, 100)
          .toString('utf8')
          .replace(/\uFFFD$/, ''),
    }),
  ]);
};

const list = async (root: string, rel: string, skip: (rel: string) => boolean, out: Entry[]) => {
  const names = (await readdir(join(root, rel))).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  for (const name of names) {
    const path = rel ? `${rel}/${name}` : name;
    if (skip(path)) continue;
    const abs = join(root, path);
    const st = await lstat(abs);
    if (st.isDirectory()) {
      out.push({ path, type: 'dir', abs, size: 0, executable: true });
      await list(root, path, skip, out);
    } else if (st.isFile()) {
      out.push({ path, type: 'file', abs, size: st.size, executable: (st.mode & 0o111) !== 0 });
    } else if (st.isSymbolicLink()) {
      const target = await readlink(abs);
      // Only links that stay inside the tree are kept.
      const resolved = posix.normalize(posix.join(posix.dirname(path), target));
      if (!posix.isAbsolute(target) && !resolved.startsWith('..'))
        out.push({ path, type: 'symlink', abs, size: 0, executable: false, target });
    }
    // sockets, fifos and devices are not content
  }
};

async function* tarStream(
  root: string,
  entries: Entry[],
  extra: { path: string; content: Buffer }[],
): AsyncGenerator<Buffer> {
  const pad = (n: number) => Buffer.alloc((BLOCK - (n % BLOCK)) % BLOCK);
  for (const x of extra) {
    yield header({ path: x.path, type: 'file', size: x.content.length, mode: 0o644 });
    yield x.content;
    yield pad(x.content.length);
  }
  for (const e of entries) {
    const mode = e.type === 'dir' || e.executable ? 0o755 : e.type === 'symlink' ? 0o777 : 0o644;
    yield header({ path: e.path, type: e.type, size: e.size, mode, target: e.target });
    if (e.type !== 'file') continue;
    let written = 0;
    for await (const chunk of createReadStream(join(root, e.path))) {
      const b = chunk as Buffer;
      const take = b.subarray(0, Math.max(0, e.size - written));
      written += take.length;
      yield take;
    }
    if (written < e.size) yield Buffer.alloc(e.size - written); // the file shrank while archived
    yield pad(e.size);
  }
  yield Buffer.alloc(BLOCK * 2);
}

export interface Archived {
  /** `sha256:<hex>` of the uncompressed archive. */
  digest: string;
  /** The compressed archive. */
  path: string;
  bytes: number;
}

/**
 * Archives `root` into `<outDir>/<hex>.tar.gz` (skipping what `skip` says, relative paths), with
 * `extra` files first. An archive with the same digest already there is kept as it is.
 */
export const archiveDirectory = async (
  root: string,
  outDir: string,
  opts: { skip?: (rel: string) => boolean; extra?: { path: string; content: Buffer }[] } = {},
): Promise<Archived> => {
  const entries: Entry[] = [];
  await list(root, '', opts.skip ?? (() => false), entries);
  await mkdir(outDir, { recursive: true });
  const tmp = join(outDir, `.tmp-${process.pid}-${Date.now()}-${Math.random().toString(16).slice(2)}.tar.gz`);
  const hash = createHash('sha256');
  let bytes = 0;
  const tap = new Transform({
    transform(chunk: Buffer, _enc, cb: TransformCallback) {
      hash.update(chunk);
      bytes += chunk.length;
      cb(null, chunk);
    },
  });
  try {
    await pipeline(
      Readable.from(tarStream(root, entries, opts.extra ?? [])),
      tap,
      createGzip(),
      createWriteStream(tmp),
    );
    const hex = hash.digest('hex');
    const path = join(outDir, `${hex}.tar.gz`);
    await rename(tmp, path);
    return { digest: `sha256:${hex}`, path, bytes };
  } finally {
    await rm(tmp, { force: true });
  }
};

const field = (h: Buffer, start: number, len: number) => {
  const raw = h.subarray(start, start + len);
  const end = raw.indexOf(0);
  return raw.subarray(0, end < 0 ? len : end).toString('utf8');
};

export class ArchiveError extends Error {}

const parsePax = (text: string): Record<string, string> => {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^\d+ ([^=]+)=(.*)$/.exec(line);
    if (m) out[m[1]!] = m[2]!;
  }
  return out;
};

const safePath = (path: string) => {
  const norm = posix.normalize(path).replace(/\/$/, '');
  if (!norm || norm === '.' || posix.isAbsolute(path) || norm.split('/').includes('..'))
    throw new ArchiveError(`${path}: an entry outside the archive root`);
  return norm;
};

/**
 * Extracts a `.tar.gz` made by archiveDirectory into `dest` after checking its digest (nothing is
 * written from an archive whose digest is not the expected one). Files listed in `take` are
 * returned instead of written.
 */
export const extractArchive = async (
  archive: string,
  dest: string,
  expectDigest: string,
  take: readonly string[] = [],
): Promise<Record<string, Buffer>> => {
  const chunks: Buffer[] = [];
  await pipeline(
    createReadStream(archive),
    createGunzip(),
    new Writable({
      write(chunk: Buffer, _enc, cb) {
        chunks.push(chunk);
        cb();
      },
    }),
  );
  const tar = Buffer.concat(chunks);
  const digest = `sha256:${createHash('sha256').update(tar).digest('hex')}`;
  if (digest !== expectDigest)
    throw new ArchiveError(
      `the archive's digest is ${digest}, not ${expectDigest}: it was changed or damaged`,
    );
  const taken: Record<string, Buffer> = {};
  await mkdir(dest, { recursive: true });
  let pax: Record<string, string> = {};
  for (let at = 0; at + BLOCK <= tar.length; ) {
    const h = tar.subarray(at, at + BLOCK);
    at += BLOCK;
    if (h.every((b) => b === 0)) break;
    const size = Number.parseInt(field(h, 124, 12).trim() || '0', 8);
    const type = String.fromCharCode(h[156] ?? 48);
    if (type === 'x') {
      pax = parsePax(tar.subarray(at, at + size).toString('utf8'));
      at += size + ((BLOCK - (size % BLOCK)) % BLOCK);
      continue;
    }
    const name = field(h, 0, 100);
    const prefix = field(h, 345, 155);
    const path = safePath(pax.path ?? (prefix ? `${prefix}/${name}` : name));
    const mode = Number.parseInt(field(h, 100, 8).trim() || '644', 8);
    const linkpath = pax.linkpath;
    pax = {};
    const out = join(dest, path);
    if (type === '5') await mkdir(out, { recursive: true });
    else if (type === '2') {
      const target = linkpath ?? field(h, 157, 100);
      if (
        posix.isAbsolute(target) ||
        posix.normalize(posix.join(posix.dirname(path), target)).startsWith('..')
      )
        throw new ArchiveError(`${path}: a link leading outside the archive root`);
      await mkdir(dirname(out), { recursive: true });
      await symlink(target, out);
    } else if (type === '0' || type === '\u0000') {
      const content = tar.subarray(at, at + size);
      if (take.includes(path)) taken[path] = Buffer.from(content);
      else {
        await mkdir(dirname(out), { recursive: true });
        await writeFile(out, content, { mode: mode & 0o111 ? 0o755 : 0o644 });
      }
      at += size + ((BLOCK - (size % BLOCK)) % BLOCK);
    } else throw new ArchiveError(`${path}: unsupported entry type ${JSON.stringify(type)}`);
  }
  return taken;
};
