// A snapshot's archive as a job. The session quiesces the sandbox (stops its services), the job
// archives the working directory into the content-addressed snapshot store, and the session starts
// the services again. The input is plain data (the working directory and the store, relative to the
// artifact directory, and the manifest the archive carries), so a worker that mounts the same
// artifact volume can write it. The same content gives the same archive and digest: a job run twice
// leaves one archive.
import { basename } from 'node:path';
import { awaitJob, type JobContext, type JobRunner } from '../simulation-run/jobs.ts';
import { archiveDirectory } from './archive.ts';
import { relativeToArtifacts, underArtifacts } from './artifact-path.ts';
import { type ArtifactManifest, MANIFEST_FILE } from './runtime.ts';

/** What a snapshot archives: absolute paths, as the environment knows them. */
export interface SnapshotSource {
  workDir: string;
  snapshotDir: string;
  manifest: ArtifactManifest;
}

export interface SnapshotJobInput {
  /** Relative to the artifact directory. */
  workDir: string;
  snapshotDir: string;
  manifest: ArtifactManifest;
}

export interface Snapshot {
  /** `sha256:<hex>` of the uncompressed archive. */
  digest: string;
  path: string;
}

export type SnapshotJobs = JobRunner<SnapshotJobInput, Snapshot>;

/** Archives the working directory, with the manifest as its first file. */
export const archiveSnapshot = async (src: SnapshotSource): Promise<Snapshot> => {
  const a = await archiveDirectory(src.workDir, src.snapshotDir, {
    skip: (rel) => rel === MANIFEST_FILE,
    extra: [{ path: MANIFEST_FILE, content: Buffer.from(JSON.stringify(src.manifest)) }],
  });
  return { digest: a.digest, path: a.path };
};

export const snapshotJob =
  (deps: { artifactDir: string }) =>
  async (input: SnapshotJobInput, ctx: JobContext): Promise<Snapshot> => {
    ctx.stage('writing');
    const a = await archiveSnapshot({
      workDir: underArtifacts(deps.artifactDir, input.workDir),
      snapshotDir: underArtifacts(deps.artifactDir, input.snapshotDir),
      manifest: input.manifest,
    });
    // The store's file name is the digest; its directory is the reader's own.
    return { digest: a.digest, path: basename(a.path) };
  };

export interface SnapshotArchiver {
  archive(
    src: SnapshotSource,
    opts: {
      /** The snapshot request (spec.snapshot.requestedAt): one job per request. */
      request: string;
      signal: AbortSignal;
      /** Why the job waits for an unreachable queue; undefined once it does not. */
      onQueueUnavailable?: (message: string | undefined) => void;
    },
  ): Promise<Snapshot>;
}

/** A SnapshotArchiver whose archives are jobs on `jobs`, for the sandbox `key`. A cancelled job
 * rejects with the signal's reason. */
export const jobSnapshotArchiver = (
  jobs: SnapshotJobs,
  opts: { key: string; artifactDir: string },
): SnapshotArchiver => ({
  async archive(src, run) {
    let unavailable: string | undefined;
    const end = await awaitJob(
      jobs,
      `${opts.key}/snapshot/${run.request}`,
      1,
      {
        workDir: relativeToArtifacts(opts.artifactDir, src.workDir),
        snapshotDir: relativeToArtifacts(opts.artifactDir, src.snapshotDir),
        manifest: src.manifest,
      },
      {
        signal: run.signal,
        onState: (s) => {
          if (s.queueUnavailable === unavailable) return;
          unavailable = s.queueUnavailable;
          run.onQueueUnavailable?.(unavailable);
        },
      },
    );
    if (unavailable) run.onQueueUnavailable?.(undefined);
    if (end.cancelled) throw run.signal.reason ?? new Error('the snapshot was cancelled');
    if (!end.result) throw new Error(`the snapshot job failed: ${end.error ?? 'no result'}`);
    return { digest: end.result.digest, path: `${src.snapshotDir}/${end.result.path}` };
  },
});
