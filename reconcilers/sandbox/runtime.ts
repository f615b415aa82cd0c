// The runtimes a Sandbox runs on, behind one small interface: `process` (child processes on this
// host) and `kubernetes` (one Pod and a Service). A runtime makes one Environment per sandbox start.
import type { Static } from '@sinclair/typebox';
import type { ServiceState } from '../../crds/sandbox.ts';
import type { ResolvedDataset } from '../simulator/config.ts';
import type { Repository } from '../simulator/repository.ts';
import type { SnapshotSource } from './snapshot-job.ts';

export type ServiceStatus = Static<typeof ServiceState>;

/** What a sandbox starts from: its repository (the config), or an artifact's archive. */
export type PlanSource =
  | { kind: 'config'; repository: () => Promise<Repository> }
  | { kind: 'artifact'; id: string; digest: string };

export interface SandboxPlan {
  namespace: string;
  name: string;
  /** The Sandbox's uid, for owner references. */
  uid: string;
  simulator: string;
  dataset: ResolvedDataset;
  source: PlanSource;
  /** A new key means a new environment (a new working directory, restored or copied again). */
  provisionKey: string;
  /** Secret variables of each service, read when the services start (never logged). */
  secrets: (serviceNames: readonly string[]) => Promise<Record<string, Record<string, string>>>;
}

/** The file in a snapshot's archive that holds its manifest. */
export const MANIFEST_FILE = '.simops-artifact.json';

/** The archive manifest of a snapshot: what runs in the restored directory. */
export interface ArtifactManifest {
  simulator: string;
  dataset: string;
  layer: 'base' | 'data';
  services: ResolvedDataset['processServices'];
  listeners: NonNullable<ResolvedDataset['spec']['listeners']>;
  appPort: number;
}

export interface CommandResult {
  exitCode: number | null;
  signal: string | null;
  /** The last lines of its output (secrets redacted). */
  tail: string[];
}

export interface Environment {
  /** Makes the working state: copies the repository or restores the artifact (unless already made for this plan). */
  prepare(signal: AbortSignal): Promise<void>;
  /** Starts the services and resolves with the endpoint once every listener answers. */
  start(signal: AbortSignal): Promise<{ endpoint: string }>;
  /** Stops every service (the working state stays). */
  stop(): Promise<void>;
  /** Stops and removes everything the environment made. */
  destroy(): Promise<void>;
  services(): ServiceStatus[];
  /** Why the environment failed for good while running (a crash loop, a failed Pod), if it did. */
  failure(): string | undefined;
  /** Re-checks a running environment: a message when something stopped answering. */
  check(): Promise<string | undefined>;
  /** Process runtime: the working directory. */
  readonly workDir?: string;
  /** What a snapshot of the stopped environment archives (process runtime only): the working
   * directory, the snapshot store and the manifest; the archive itself is a job (snapshot-job.ts). */
  snapshotSource?(layer: 'base' | 'data'): SnapshotSource;
  /** Runs a command in the working directory (process runtime only). */
  exec?(
    command: string,
    args: readonly string[],
    env: Readonly<Record<string, string>>,
    signal: AbortSignal,
  ): Promise<CommandResult>;
}

export interface Runtime {
  readonly name: 'process' | 'kubernetes';
  environment(plan: SandboxPlan, onChange: () => void): Environment;
  /** Stops everything of every sandbox (controller shutdown); working state stays. */
  shutdown(): Promise<void>;
}
