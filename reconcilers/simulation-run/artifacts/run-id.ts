// Run ids. Deterministic: `run_<templateId>_<first 16 hex of the input hash>`, where the input hash
// covers the template, its version, the mode, the parameter values, the rng and any telemetry data,
// so the same inputs name the same run (and reuse it). Otherwise `run_<UTC time>_<8 random hex>`.
import { randomBytes } from 'node:crypto';

export const RUN_ID = /^[A-Za-z0-9][-A-Za-z0-9_]*$/;

export const deterministicRunId = (templateId: string, inputHash: string): string =>
  `run_${templateId.replace(/[^A-Za-z0-9_-]/g, '-')}_${inputHash.replace(/^sha256:/, '').slice(0, 16)}`;

export const randomRunId = (now = new Date()): string =>
  `run_${now
    .toISOString()
    .replace(/[-:]/g, '')
    .replace(/\.\d+Z$/, 'Z')}_${randomBytes(4).toString('hex')}`;
