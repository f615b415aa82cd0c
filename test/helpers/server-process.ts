// A child process running the embedded server, for tests that kill it: prints `READY <url>`.
import { startEmbedded } from '../../apiserver/embedded.ts';

const [dataDir, port, compactBytes] = process.argv.slice(2);
const embedded = await startEmbedded({
  dataDir: dataDir!,
  port: Number(port ?? 0),
  compactBytes: compactBytes ? Number(compactBytes) : undefined,
});
console.log(`READY ${embedded.server.url}`);
process.on('SIGTERM', () => {
  void embedded.stop().then(() => process.exit(0));
});
