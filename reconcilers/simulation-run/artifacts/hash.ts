// Hashes as FlowTime writes them (`sha256:<hex>`), over bytes or over canonical JSON (keys sorted,
// so YAML formatting and key order do not change a template's identity).
import { createHash } from 'node:crypto';

export const sha256 = (data: string | Uint8Array): string => createHash('sha256').update(data).digest('hex');

export const hashRef = (data: string | Uint8Array): string => `sha256:${sha256(data)}`;

export const canonicalJson = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(
          Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)),
        )
      : v,
  );
