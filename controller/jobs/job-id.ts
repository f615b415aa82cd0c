// Queue job ids: `<namespace>/<name>/<generation>/<digest of the input>`. The object's key and
// generation make a resubmission (another reconcile, a restarted controller, a new leader) collapse
// into the job already queued, running or finished; the digest keeps an object deleted and created
// again with another spec, whose generation starts again at 1, from collapsing into the old job.
// BullMQ refuses ids that contain `:` or are integer strings; these have neither.
import { createHash } from 'node:crypto';

/** JSON with sorted keys, so that the digest does not depend on key order. */
const canonical = (v: unknown): string => {
  if (Array.isArray(v)) return `[${v.map(canonical).join(',')}]`;
  if (v && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>)
      .filter(([, x]) => x !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonical(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
};

export const inputDigest = (input: unknown): string =>
  createHash('sha256').update(canonical(input)).digest('hex').slice(0, 12);

/** `id` is the runner's id (`namespace/name`). */
export const queueJobId = (id: string, generation: number, input: unknown): string => {
  const jobId = `${id}/${generation}/${inputDigest(input)}`;
  // Kubernetes names cannot hold `:`; a caller passing something else gets it replaced.
  return jobId.replaceAll(':', '_');
};
