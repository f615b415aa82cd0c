// Child process entry: makes one certificate and sends it back (see inWorker in pki.ts).

import type { CertKeyPem } from './pki.ts';
import { makeCa, makeServing } from './pki-generate.ts';

type Job = { kind: 'ca' } | { kind: 'serving'; ca: CertKeyPem; hosts: string[] };

process.once('message', async (job: Job) => {
  const pair = job.kind === 'ca' ? await makeCa() : await makeServing(job.ca, job.hosts);
  process.send?.(pair, () => process.exit(0));
});
