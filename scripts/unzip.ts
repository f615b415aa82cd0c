// A minimal zip reader (central directory + deflate via node:zlib), so installing the test tools needs
// neither the `unzip` command nor a zip package. Reads entries by offset: the archive is never loaded whole.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { crc32, inflateRawSync } from 'node:zlib';

export type ZipEntry = {
  name: string;
  /** 0 stored, 8 deflated. */
  method: number;
  crc32: number;
  compressedSize: number;
  size: number;
  /** Unix permission bits when the archive was made on Unix, else 0. */
  mode: number;
  localHeaderOffset: number;
};

export type ZipFile = {
  entries: ZipEntry[];
  /** Decompresses one entry and checks its size and CRC-32. */
  read(entry: ZipEntry): Buffer;
  close(): void;
};

const EOCD_SIG = 0x06054b50;
const CENTRAL_SIG = 0x02014b50;
const LOCAL_SIG = 0x04034b50;
const EOCD_MIN = 22;
/** The end record may be followed by a comment of up to 64 KiB. */
const EOCD_SEARCH = EOCD_MIN + 0xffff;
const ZIP64_MARK = 0xffffffff;

const readAt = (fd: number, position: number, length: number): Buffer => {
  const buf = Buffer.alloc(length);
  const n = readSync(fd, buf, 0, length, position);
  if (n !== length) throw new Error(`zip: short read at ${position}`);
  return buf;
};

const findEndOfCentralDirectory = (fd: number, fileSize: number): Buffer => {
  const tailLength = Math.min(fileSize, EOCD_SEARCH);
  const tail = readAt(fd, fileSize - tailLength, tailLength);
  for (let i = tail.length - EOCD_MIN; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG) return tail.subarray(i);
  }
  throw new Error('zip: end of central directory not found');
};

const parseCentralDirectory = (dir: Buffer, count: number): ZipEntry[] => {
  const entries: ZipEntry[] = [];
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (dir.readUInt32LE(p) !== CENTRAL_SIG) throw new Error('zip: bad central directory entry');
    const nameLength = dir.readUInt16LE(p + 28);
    const extraLength = dir.readUInt16LE(p + 30);
    const commentLength = dir.readUInt16LE(p + 32);
    const entry: ZipEntry = {
      name: dir.toString('utf8', p + 46, p + 46 + nameLength),
      method: dir.readUInt16LE(p + 10),
      crc32: dir.readUInt32LE(p + 16),
      compressedSize: dir.readUInt32LE(p + 20),
      size: dir.readUInt32LE(p + 24),
      // Made on Unix (high byte 3): the high 16 bits of the external attributes are st_mode.
      mode: dir.readUInt8(p + 5) === 3 ? (dir.readUInt32LE(p + 38) >>> 16) & 0o7777 : 0,
      localHeaderOffset: dir.readUInt32LE(p + 42),
    };
    // Our archive has no entry over 4 GiB; fail loudly rather than misread one that does.
    if ([entry.compressedSize, entry.size, entry.localHeaderOffset].includes(ZIP64_MARK)) {
      throw new Error(`zip: ${entry.name} needs zip64, which this reader does not support`);
    }
    entries.push(entry);
    p += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
};

export const openZip = (path: string): ZipFile => {
  const fd = openSync(path, 'r');
  try {
    const eocd = findEndOfCentralDirectory(fd, statSync(path).size);
    const count = eocd.readUInt16LE(10);
    const dirSize = eocd.readUInt32LE(12);
    const dirOffset = eocd.readUInt32LE(16);
    if (count === 0xffff || dirOffset === ZIP64_MARK)
      throw new Error('zip: zip64 archives are not supported');
    const entries = parseCentralDirectory(readAt(fd, dirOffset, dirSize), count);
    const read = (entry: ZipEntry): Buffer => {
      const local = readAt(fd, entry.localHeaderOffset, 30);
      if (local.readUInt32LE(0) !== LOCAL_SIG) throw new Error(`zip: bad local header for ${entry.name}`);
      // The local name/extra lengths can differ from the central ones; the data starts after them.
      const dataOffset = entry.localHeaderOffset + 30 + local.readUInt16LE(26) + local.readUInt16LE(28);
      const raw = readAt(fd, dataOffset, entry.compressedSize);
      let data: Buffer;
      if (entry.method === 0) data = raw;
      else if (entry.method === 8) data = inflateRawSync(raw);
      else throw new Error(`zip: ${entry.name} uses unsupported compression method ${entry.method}`);
      if (data.length !== entry.size || crc32(data) !== entry.crc32) {
        throw new Error(`zip: ${entry.name} is corrupt (size or CRC-32 mismatch)`);
      }
      return data;
    };
    return { entries, read, close: () => closeSync(fd) };
  } catch (err) {
    closeSync(fd);
    throw err;
  }
};
