// Shared by the store's tests: objects, keys and a logger that records instead of printing.
import type { KubeObject } from '../types.ts';
import type { StoreLogger } from './logger.ts';

export const sandbox = (namespace: string, name: string, spec: Record<string, unknown> = {}): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: { name, namespace },
  spec,
});

export const keyOf = (namespace: string, name: string): string =>
  `/simops.dev/sandboxes/${namespace}/${name}`;

export interface LogEntry {
  level: 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

export const recordingLogger = (): StoreLogger & { entries: LogEntry[] } => {
  const entries: LogEntry[] = [];
  return {
    entries,
    info: (fields, message) => entries.push({ level: 'info', message, fields }),
    warn: (fields, message) => entries.push({ level: 'warn', message, fields }),
    error: (fields, message) => entries.push({ level: 'error', message, fields }),
  };
};
