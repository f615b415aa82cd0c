// Runs the real kubectl (installed into .tools/bin by `node scripts/tools.ts`) against a test server.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { constants } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './tmp.ts';

export type KubectlResult = { code: number; stdout: string; stderr: string };
export type KubectlOptions = {
  kubeconfig: string;
  /** Written to kubectl's stdin, e.g. for `apply -f -`. */
  input?: string;
  /** Kill kubectl after this long (default 30 s); the result then has code 124, like timeout(1). */
  timeoutMs?: number;
};

export const kubectlPath = fileURLToPath(new URL('../../.tools/bin/kubectl', import.meta.url));

let home: string | undefined;
/** One HOME per test process: kubectl caches discovery under it, and must not see the user's ~/.kube. */
const kubectlHome = (): string => {
  if (home === undefined) {
    home = tempDir('simops-kubectl-');
    mkdirSync(join(home, '.kube', 'cache'), { recursive: true });
  }
  return home;
};

const exitCode = (code: number | null, signal: NodeJS.Signals | null): number =>
  code ?? 128 + (signal === null ? 0 : (constants.signals[signal] ?? 0));

export const kubectl = (args: string[], opts: KubectlOptions): Promise<KubectlResult> => {
  if (!existsSync(kubectlPath)) {
    return Promise.reject(
      new Error(`${kubectlPath} is missing: run \`node scripts/tools.ts\` (linux-x64 only)`),
    );
  }
  const dir = kubectlHome();
  const timeoutMs = opts.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(kubectlPath, args, {
      env: {
        ...process.env,
        HOME: dir,
        KUBECONFIG: opts.kubeconfig,
        KUBECACHEDIR: join(dir, '.kube', 'cache'),
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.setEncoding('utf8').on('data', (s: string) => {
      stdout += s;
    });
    child.stderr.setEncoding('utf8').on('data', (s: string) => {
      stderr += s;
    });
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (timedOut)
        resolve({ code: 124, stdout, stderr: `${stderr}[kubectl killed after ${timeoutMs} ms]\n` });
      else resolve({ code: exitCode(code, signal), stdout, stderr });
    });
    // kubectl may exit before reading stdin (e.g. a usage error); that is not the test's failure.
    child.stdin.on('error', () => {});
    child.stdin.end(opts.input ?? '');
  });
};
