// The process runtime: each process service of a sandbox runs as a child process (its own process
// group) in the sandbox's working directory, made by copying the repository or restoring an
// artifact. Listeners get ports of their own (in SIMOPS_PORT_<NAME>) and are health-checked before
// the sandbox is Ready; output goes to log artifacts; a crashed service is restarted with backoff,
// and one that keeps crashing fails the sandbox.
//
// Layout under `<root>/<namespace>/<name>/`: work/ (the environment), run/ (ports, pid files,
// markers), logs/<service>.log. Snapshots go to `<snapshotDir>/<sha256 hex>.tar.gz`.
import { existsSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { backoffDelay } from '../../controller/runtime/work-queue.ts';
import { extractArchive } from './archive.ts';
import { checkListener, describeTarget, type ListenerTarget, waitForListeners } from './health.ts';
import { type LogFile, openLogFile } from './log-file.ts';
import { freePort, isFree } from './ports.ts';
import {
  CommandError,
  portVariable,
  resolveCommand,
  resolveWorkingDir,
  serviceEnv,
} from './process-command.ts';
import { type Spawned, spawnGroup, stopGroup, sweepPidFiles } from './process-group.ts';
import {
  type ArtifactManifest,
  type CommandResult,
  type Environment,
  MANIFEST_FILE,
  type Runtime,
  type SandboxPlan,
  type ServiceStatus,
} from './runtime.ts';
import type { SnapshotSource } from './snapshot-job.ts';

export interface ProcessRuntimeOptions {
  /** Sandbox directories go under `<root>/<namespace>/<name>/`. */
  root: string;
  /** Snapshot archives. */
  snapshotDir: string;
  /** How long listeners may take to answer after a start (default 60 s). */
  startupTimeoutMs?: number;
  /** SIGTERM → SIGKILL grace of a stop (default 5 s). */
  stopGraceMs?: number;
  /** A service that crashes this many times in a row, each within `crashWindowMs` of its start, fails the sandbox (default 5). */
  maxRestarts?: number;
  crashWindowMs?: number;
  /** First restart delay; doubles per crash up to 10 s (default 250 ms). */
  restartBaseMs?: number;
}

export const sandboxDir = (root: string, namespace: string, name: string) => join(root, namespace, name);

interface Marker {
  provisionKey: string;
  manifest: ArtifactManifest;
}

interface Service {
  name: string;
  status: ServiceStatus;
  proc?: Spawned;
  log: LogFile;
  startedAt: number;
  crashes: number;
  timer?: NodeJS.Timeout;
  stopping: boolean;
  /** How it last ended, for the status of the restarted service. */
  lastExit?: string;
}

const manifestOf = (plan: SandboxPlan, layer: 'base' | 'data' = 'base'): ArtifactManifest => ({
  simulator: plan.simulator,
  dataset: plan.dataset.name,
  layer,
  services: plan.dataset.processServices,
  listeners: plan.dataset.spec.listeners ?? [],
  appPort: plan.dataset.spec.compute.appPort,
});

/** The listener the endpoint names: the one on the dataset's appPort, else the first http one, else the first. */
export const appListener = (m: Pick<ArtifactManifest, 'listeners' | 'appPort'>) =>
  m.listeners.find((l) => l.port === m.appPort) ??
  m.listeners.find((l) => l.protocol === 'http') ??
  m.listeners[0];

export const processRuntime = (opts: ProcessRuntimeOptions): Runtime => {
  const environments = new Set<ProcessEnvironment>();
  let closed = false;
  // Whatever a previous controller left running (it was killed) goes first.
  sweepPidFiles(opts.root);

  class ProcessEnvironment implements Environment {
    readonly plan: SandboxPlan;
    readonly dir: string;
    readonly workDir: string;
    readonly runDir: string;
    private readonly onChange: () => void;
    private manifest?: ArtifactManifest;
    private ports: Record<string, number> = {};
    private secretValues: string[] = [];
    private readonly svc = new Map<string, Service>();
    private failed?: string;
    private stopped = true;

    constructor(plan: SandboxPlan, onChange: () => void) {
      this.plan = plan;
      this.onChange = onChange;
      this.dir = sandboxDir(opts.root, plan.namespace, plan.name);
      this.workDir = join(this.dir, 'work');
      this.runDir = join(this.dir, 'run');
    }

    async prepare(signal: AbortSignal): Promise<void> {
      const markerPath = join(this.runDir, 'source.json');
      const marker = await readFile(markerPath, 'utf8')
        .then((t) => JSON.parse(t) as Marker)
        .catch(() => undefined);
      if (marker?.provisionKey === this.plan.provisionKey && existsSync(this.workDir)) {
        this.manifest = marker.manifest;
        return;
      }
      await rm(this.workDir, { recursive: true, force: true });
      await rm(join(this.runDir, 'seeded.json'), { force: true });
      const source = this.plan.source;
      if (source.kind === 'config') {
        const repo = await source.repository();
        signal.throwIfAborted();
        await repo.copyTo(this.workDir);
        this.manifest = manifestOf(this.plan);
      } else {
        const archive = join(opts.snapshotDir, `${source.digest.replace(/^sha256:/, '')}.tar.gz`);
        if (!existsSync(archive))
          throw new Error(`the archive of ${source.id} (${archive}) is missing from the snapshot store`);
        const taken = await extractArchive(archive, this.workDir, source.digest, [MANIFEST_FILE]);
        const raw = taken[MANIFEST_FILE];
        if (!raw) throw new Error(`${source.id} has no ${MANIFEST_FILE}: not a sandbox snapshot`);
        this.manifest = JSON.parse(raw.toString('utf8')) as ArtifactManifest;
      }
      signal.throwIfAborted();
      await mkdir(this.runDir, { recursive: true });
      await writeFile(
        markerPath,
        JSON.stringify({ provisionKey: this.plan.provisionKey, manifest: this.manifest }),
      );
    }

    private get listeners(): ListenerTarget[] {
      return (this.manifest?.listeners ?? []).map((l) => ({
        name: l.name,
        host: '127.0.0.1',
        port: this.ports[l.name]!,
        protocol: l.protocol ?? 'http',
        path: l.path,
      }));
    }

    /** One port per listener, kept across restarts while it is free. */
    private async allocatePorts() {
      const path = join(this.runDir, 'ports.json');
      const saved = await readFile(path, 'utf8')
        .then((t) => JSON.parse(t) as Record<string, number>)
        .catch(() => ({}) as Record<string, number>);
      const ports: Record<string, number> = {};
      for (const l of this.manifest!.listeners) {
        const keep = saved[l.name];
        ports[l.name] = keep && (await isFree(keep)) ? keep : await freePort();
      }
      this.ports = ports;
      await writeFile(path, JSON.stringify(ports));
    }

    async start(signal: AbortSignal): Promise<{ endpoint: string }> {
      const m = this.manifest;
      if (!m) throw new Error('the environment was not prepared');
      if (closed) throw new Error('the controller is stopping');
      this.failed = undefined;
      this.stopped = false;
      environments.add(this);
      await this.allocatePorts();
      const names = m.services.map((s) => s.name);
      const secrets = await this.plan.secrets(names);
      this.secretValues = Object.values(secrets).flatMap((s) => Object.values(s));
      const base: Record<string, string> = {
        HOME: this.workDir,
        SIMOPS_SANDBOX: `${this.plan.namespace}/${this.plan.name}`,
        SIMOPS_WORKDIR: this.workDir,
      };
      for (const l of m.listeners) base[portVariable(l.name)] = String(this.ports[l.name]);
      for (const s of m.services) {
        const log = openLogFile(join(this.dir, 'logs', `${s.name}.log`), this.secretValues);
        const service: Service = {
          name: s.name,
          status: { name: s.name, state: 'Starting', restarts: 0, log: log.path },
          log,
          startedAt: Date.now(),
          crashes: 0,
          stopping: false,
        };
        this.svc.set(s.name, service);
        const env = serviceEnv(base, s.spec.env, secrets[s.name] ?? {});
        try {
          await this.spawn(service, s.spec, env);
        } catch (err) {
          const message = `service ${s.name}: ${(err as Error).message}`;
          await this.stop();
          throw err instanceof CommandError ? new CommandError(message) : new Error(message);
        }
      }
      const app = appListener(m);
      try {
        await waitForListeners(this.listeners, {
          timeoutMs: opts.startupTimeoutMs ?? 60_000,
          signal,
          stillAlive: () => this.failed,
        });
      } catch (err) {
        await this.stop();
        throw err;
      }
      for (const s of this.svc.values()) if (s.status.state === 'Starting') s.status.state = 'Running';
      const endpoint = app ? `http://127.0.0.1:${this.ports[app.name]}` : `file://${this.workDir}`;
      return { endpoint };
    }

    private async spawn(
      service: Service,
      spec: ArtifactManifest['services'][number]['spec'],
      env: Record<string, string>,
    ) {
      const command = await resolveCommand(spec.command!, this.workDir);
      const cwd = await resolveWorkingDir(this.workDir, spec.workingDir);
      const args = (spec.args ?? []).map((a) =>
        a.replace(/\$\(([A-Za-z_][A-Za-z0-9_]*)\)/g, (m, n: string) => env[n] ?? m),
      );
      const proc = await spawnGroup(command, args, {
        cwd,
        env,
        pidFile: join(this.runDir, 'pids', service.name),
      });
      service.proc = proc;
      service.startedAt = Date.now();
      service.log.note(`started ${spec.command} (pid ${proc.pid})`);
      proc.child.stdout?.on('data', (c: Buffer) => service.log.write('stdout', c));
      proc.child.stderr?.on('data', (c: Buffer) => service.log.write('stderr', c));
      void proc.exited.then(({ code, signal }) => this.exited(service, spec, env, code, signal));
    }

    private exited(
      service: Service,
      spec: ArtifactManifest['services'][number]['spec'],
      env: Record<string, string>,
      code: number | null,
      signal: NodeJS.Signals | null,
    ) {
      const how = signal ? `was killed by ${signal}` : `exited with code ${code}`;
      service.log.note(how);
      service.proc = undefined;
      if (service.stopping || this.stopped) {
        service.status = { ...service.status, state: 'Stopped', message: undefined };
        return;
      }
      service.crashes =
        Date.now() - service.startedAt < (opts.crashWindowMs ?? 10_000) ? service.crashes + 1 : 1;
      const last = service.log
        .tail()
        .filter((l) => !l.startsWith('[simops '))
        .at(-1);
      const why = `${how}${last ? `: ${last.slice(0, 300)}` : ''}`;
      if (service.crashes > (opts.maxRestarts ?? 5)) {
        service.status = { ...service.status, state: 'Failed', message: why };
        this.failed = `service ${service.name} keeps crashing (${service.status.restarts} restarts); it ${why}`;
        this.onChange();
        return;
      }
      service.lastExit = why;
      const delay = backoffDelay(service.crashes - 1, { baseMs: opts.restartBaseMs ?? 250, maxMs: 10_000 });
      service.status = {
        ...service.status,
        state: 'Restarting',
        message: `${why}; restarting in ${delay < 1000 ? `${delay} ms` : `${Math.round(delay / 1000)} s`}`,
      };
      service.log.note(`restarting in ${delay} ms`);
      this.onChange();
      service.timer = setTimeout(() => {
        if (service.stopping || this.stopped) return;
        service.status = { ...service.status, restarts: service.status.restarts + 1 };
        this.spawn(service, spec, env).then(
          () => {
            service.status = {
              ...service.status,
              state: 'Running',
              message: `restarted: it ${service.lastExit}`,
            };
            this.onChange();
          },
          (err: Error) => {
            service.status = { ...service.status, state: 'Failed', message: err.message };
            this.failed = `service ${service.name} could not be restarted: ${err.message}`;
            this.onChange();
          },
        );
      }, delay);
    }

    async stop(): Promise<void> {
      this.stopped = true;
      environments.delete(this);
      await Promise.all(
        [...this.svc.values()].map(async (s) => {
          s.stopping = true;
          clearTimeout(s.timer);
          if (s.proc) await stopGroup(s.proc, opts.stopGraceMs ?? 5000);
          s.status = { ...s.status, state: s.status.state === 'Failed' ? 'Failed' : 'Stopped' };
          await s.log.close();
        }),
      );
    }

    async destroy(): Promise<void> {
      await this.stop();
      await rm(this.workDir, { recursive: true, force: true });
      await rm(this.runDir, { recursive: true, force: true });
    }

    services(): ServiceStatus[] {
      return [...this.svc.values()].map((s) => ({ ...s.status }));
    }

    failure(): string | undefined {
      return this.failed;
    }

    async check(): Promise<string | undefined> {
      if (this.stopped || this.failed) return undefined;
      for (const t of this.listeners) {
        const r = await checkListener(t, 2000);
        if (!r.ok) return `listener ${t.name} (${describeTarget(t)}) stopped answering: ${r.error}`;
      }
      return undefined;
    }

    snapshotSource(layer: 'base' | 'data'): SnapshotSource {
      return { workDir: this.workDir, snapshotDir: opts.snapshotDir, manifest: { ...this.manifest!, layer } };
    }

    async exec(
      command: string,
      args: readonly string[],
      env: Readonly<Record<string, string>>,
      signal: AbortSignal,
    ): Promise<CommandResult> {
      const base: Record<string, string> = { HOME: this.workDir, SIMOPS_WORKDIR: this.workDir };
      for (const l of this.manifest?.listeners ?? []) base[portVariable(l.name)] = String(this.ports[l.name]);
      const full = serviceEnv(base, env, {});
      const exe = await resolveCommand(command, this.workDir);
      const log = openLogFile(join(this.dir, 'logs', 'seed.log'), this.secretValues);
      const proc = await spawnGroup(exe, args, {
        cwd: this.workDir,
        env: full,
        pidFile: join(this.runDir, 'pids', 'seed'),
      });
      log.note(`seed: ${command} ${args.join(' ')} (pid ${proc.pid})`);
      proc.child.stdout?.on('data', (c: Buffer) => log.write('stdout', c));
      proc.child.stderr?.on('data', (c: Buffer) => log.write('stderr', c));
      const abort = () => void stopGroup(proc, 1000);
      signal.addEventListener('abort', abort, { once: true });
      const { code, signal: sig } = await proc.exited;
      signal.removeEventListener('abort', abort);
      log.note(sig ? `killed by ${sig}` : `exited with code ${code}`);
      await log.close();
      return { exitCode: code, signal: sig, tail: log.tail().filter((l) => !l.startsWith('[simops ')) };
    }
  }

  return {
    name: 'process',
    environment(plan, onChange) {
      return new ProcessEnvironment(plan, onChange);
    },
    async shutdown() {
      closed = true;
      await Promise.all([...environments].map((e) => e.stop()));
      environments.clear();
    },
  };
};
