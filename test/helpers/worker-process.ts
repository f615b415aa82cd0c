// `simops worker` as a child process (the real CLI, bin/simops.js), for tests and the benchmark that
// run several and kill some: its name and health URL from its 'worker running' log line, its
// Prometheus counters, SIGTERM (drain) and SIGKILL.
import { type ChildProcess, spawn } from 'node:child_process';

const BIN = new URL('../../bin/simops.js', import.meta.url).pathname;

export interface WorkerProcessOptions {
  kubeconfig: string;
  redisUrl: string;
  artifactDir: string;
  cacheDir: string;
  /** Extra CLI arguments (e.g. `--lock-duration 1500`). */
  args?: string[];
}

export interface WorkerProcess {
  name: string;
  pid: number;
  healthUrl: string;
  lines: string[];
  exited: Promise<number | null>;
  /** The sum of a counter's samples on /metrics (e.g. `simops_run_created_total`). */
  counter(name: string, labels?: Record<string, string>): Promise<number>;
  /** SIGTERM: the worker finishes its running jobs and exits. */
  stop(): Promise<number | null>;
  kill(): Promise<void>;
}

export const startWorkerProcess = async (opts: WorkerProcessOptions): Promise<WorkerProcess> => {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      BIN,
      'worker',
      '--kubeconfig',
      opts.kubeconfig,
      '--redis-url',
      opts.redisUrl,
      '--health-bind',
      '127.0.0.1:0',
      '--artifact-dir',
      opts.artifactDir,
      '--cache-dir',
      opts.cacheDir,
      ...(opts.args ?? []),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  process.on('exit', () => child.kill('SIGKILL'));
  const lines: string[] = [];
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (s: string) => {
    stderr += s;
  });
  const started = new Promise<{ worker: string; health: string }>((resolve, reject) => {
    let partial = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      const parts = (partial + s).split('\n');
      partial = parts.pop() ?? '';
      for (const line of parts) {
        lines.push(line);
        if (line.includes('"worker running"')) resolve(JSON.parse(line));
      }
    });
    void exited.then((code) => reject(new Error(`simops worker exited with ${code}: ${stderr}`)));
  });
  const { worker, health } = await started;

  const counter = async (name: string, labels: Record<string, string> = {}) => {
    const text = await (await fetch(`${health}/metrics`)).text();
    let sum = 0;
    for (const line of text.split('\n')) {
      const m = /^([a-z_]+)(\{[^}]*\})? ([0-9.e+-]+)$/.exec(line);
      if (!m || m[1] !== name) continue;
      const ls = m[2] ?? '';
      if (Object.entries(labels).every(([k, v]) => ls.includes(`${k}="${v}"`))) sum += Number(m[3]);
    }
    return sum;
  };
  return {
    name: worker,
    pid: child.pid!,
    healthUrl: health,
    lines,
    exited,
    counter,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
    kill: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
};
