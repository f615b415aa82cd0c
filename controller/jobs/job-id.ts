// Queue job ids: `<namespace>/<name>/<generation>/<digest of the input>`. The object's key and
// generation make a resubmission (another reconcile, a restarted controller, a new leader) collapse
// into the job already queued, running or finished; the digest keeps an object deleted and created
// again with another spec, whose generation starts again at 1, from collapsing into the old job.
// BullMQ refuses ids that contain `:` or are integer strings; these have neither.
import { createHash } from 'node:crypto';
import { canonicalJson } from '../runtime/canonical-json.ts';

/** JSON with sorted keys, so that the digest does not depend on key order. */

export const inputDigest = (input: unknown): string =>
  createHash('sha256').update(canonicalJson(input)).digest('hex').slice(0, 12);

// Kubernetes names cannot hold `:`; a caller passing something else gets it replaced.
const idPart = (id: string) => id.replaceAll(':', '_');

/** `id` is the runner's id (`namespace/name`). */
export const queueJobId = (id: string, generation: number, input: unknown): string =>
  `${idPart(id)}/${generation}/${inputDigest(input)}`;

/** Whether `jobId` is a job of `id`, of any generation and input (a job an earlier controller
 * added, before a restart or a change of leader). */
export const isJobOf = (id: string, jobId: string): boolean => {
  const prefix = `${idPart(id)}/`;
  return jobId.startsWith(prefix) && /^\d+\/[0-9a-f]{12}$/.test(jobId.slice(prefix.length));
};
