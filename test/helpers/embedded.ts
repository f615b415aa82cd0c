// Starts the embedded control plane in a temp data directory, as `simops up` does.
import { type Embedded, type EmbeddedOptions, startEmbedded } from '../../apiserver/embedded.ts';
import { tempDir } from './tmp.ts';

export const startTestServer = (opts: Partial<EmbeddedOptions> = {}): Promise<Embedded> =>
  startEmbedded({
    dataDir: opts.dataDir ?? tempDir('simops-api-'),
    port: 0,
    bookmarkIntervalMs: 500,
    ...opts,
  });
