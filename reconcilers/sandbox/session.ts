// One sandbox's life on a runtime, driven toward what the reconciler wants: provision → start →
// (seed once) → (spec flows once per start) → (flows asked by annotation) → (snapshots asked in the
// spec) → Ready; Stopped; destroyed. Work runs here, off the reconcile loop (flow runs and snapshot
// archives are jobs, in this process or on workers: flow-job.ts, snapshot-job.ts); every change of
// state calls `onChange` (the reconciler enqueues the sandbox) and the reconciler writes status from
// `observe()`. A change of what is wanted aborts the operation under way.
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Static } from '@sinclair/typebox';
import type { SeedStep } from '../../crds/sandbox.ts';
import type { FlowT } from '../simulator/config.ts';
import { segmentOf } from './artifact-path.ts';
import type { FlowOutcome, FlowRunner } from './flow-runner.ts';
import { flowDurationSeconds, flowRunsTotal, sandboxStartSeconds } from './metrics.ts';
import type { Environment, Runtime, SandboxPlan, ServiceStatus } from './runtime.ts';
import type { SnapshotArchiver } from './snapshot-job.ts';

export type SeedStepT = Static<typeof SeedStep>;

export type SessionState =
  | 'Idle'
  | 'Provisioning'
  | 'StartingServices'
  | 'Ready'
  | 'Seeding'
  | 'RunningFlows'
  | 'Snapshotting'
  | 'Stopping'
  | 'Stopped'
  | 'Failed';

export interface FlowRunRecord {
  id: string;
  flow: string;
  trigger: 'spec' | 'annotation';
  result: 'Running' | 'Passed' | 'Failed';
  startedAt: string;
  finishedAt?: string;
  durationMs?: number;
  message?: string;
  screenshots?: string[];
  steps?: FlowOutcome['steps'];
  artifacts: string;
}

export interface SnapshotRecord {
  requestedAt: string;
  artifact?: string;
  digest?: string;
  layer: 'base' | 'data';
  dataset: string;
  created?: string;
  error?: string;
}

export interface SeedRecord {
  result: 'Running' | 'Passed' | 'Failed';
  steps: number;
  completedAt?: string;
  message?: string;
}

export interface Wanted {
  mode: 'running' | 'stopped';
  plan?: SandboxPlan;
  flows: Map<string, FlowT>;
  /** spec.flows: run once after each start. */
  specFlows: string[];
  /** The run-flows annotation not yet handled (value and flow names). */
  runFlows?: { value: string; flows: string[] };
  /** A snapshot asked for and not yet taken. */
  snapshot?: { requestedAt: string; layer: 'base' | 'data'; dataset: string };
  seed?: { steps: SeedStepT[]; key: string };
}

export interface Observation {
  state: SessionState;
  /** Set with state Failed: why, for the key that failed (a new key starts again). */
  failure?: { reason: string; message: string };
  endpoint?: string;
  workDir?: string;
  services: ServiceStatus[];
  readyAt?: string;
  flowRuns: FlowRunRecord[];
  /** The run-flows annotation value taken on. */
  acceptedRunFlows?: string;
  seed?: SeedRecord;
  snapshot?: SnapshotRecord;
  /** An artifact whose flows passed on this sandbox, to be marked verified. */
  verified?: string;
  /** A running environment that stopped answering (re-checked every heartbeat interval). */
  degraded?: string;
  /** Set while a flow's or a snapshot's job waits for a job queue (Redis) that cannot be reached: why. */
  queueUnavailable?: string;
}

const now = () => `${new Date().toISOString().slice(0, 19)}Z`;
const stamp = () => new Date().toISOString().replace(/[-:]/g, '').replace(/\..*/, '');

class Changed extends Error {}

export interface SessionDeps {
  runtime: Runtime;
  flows: FlowRunner;
  snapshots: SnapshotArchiver;
  /** Where flow runs write screenshots: `<artifactRoot>/flows/<run id>/`. */
  artifactRoot: string;
  /** Where the once-only markers go (seeded). */
  runDir: string;
  onChange: () => void;
  log: { info(o: object, m?: string): void; warn(o: object, m?: string): void };
}

export class Session {
  private readonly deps: SessionDeps;
  private wanted: Wanted = { mode: 'stopped', flows: new Map(), specFlows: [] };
  private env?: Environment;
  private envKey?: string;
  private running = false;
  private specFlowsDone = false;
  private obs: Observation = { state: 'Idle', services: [], flowRuns: [] };
  private failedKey?: string;
  private wake?: () => void;
  private op?: AbortController;
  private destroyed = false;
  private loop?: Promise<void>;
  private handledSnapshot?: string;
  private checking = false;

  constructor(deps: SessionDeps) {
    this.deps = deps;
  }

  observe(): Observation {
    return {
      ...this.obs,
      services: this.env ? this.env.services() : this.obs.services,
      flowRuns: [...this.obs.flowRuns],
    };
  }

  /** The start key of what runs: the plan's provision key. */
  private keyOf(w: Wanted) {
    return w.mode === 'running' && w.plan ? w.plan.provisionKey : undefined;
  }

  /** Sets what is wanted; aborts an operation that no longer fits. */
  want(w: Wanted, handledSnapshot: string | undefined): void {
    if (this.destroyed) return;
    if (this.handledSnapshot === undefined) this.handledSnapshot = handledSnapshot;
    const before = this.wanted;
    this.wanted = w;
    if (before.mode !== w.mode || this.keyOf(before) !== this.keyOf(w)) this.op?.abort(new Changed());
    this.loop ??= this.run();
    this.wake?.();
  }

  /** The reconciler recorded the snapshot (in the Simulator, then in status). */
  snapshotRecorded(requestedAt: string): void {
    if (this.obs.snapshot?.requestedAt === requestedAt && this.obs.snapshot.artifact)
      this.handledSnapshot = requestedAt;
  }

  verifiedRecorded(id: string): void {
    if (this.obs.verified === id) this.obs = { ...this.obs, verified: undefined };
  }

  /** Re-checks a Ready environment (every heartbeat interval). */
  async check(): Promise<void> {
    if (this.checking || !this.env || !this.running || this.obs.state !== 'Ready') return;
    this.checking = true;
    try {
      const degraded = await this.env.check();
      if (degraded !== this.obs.degraded) {
        this.obs = { ...this.obs, degraded };
        this.deps.onChange();
      }
    } finally {
      this.checking = false;
    }
  }

  /** Stops everything and removes the working state; resolves when done. */
  async destroy(): Promise<void> {
    this.destroyed = true;
    this.op?.abort(new Changed());
    this.wake?.();
    await this.loop;
    await this.env?.destroy();
    this.running = false;
  }

  /** Stops the services (controller shutdown); the working state stays. */
  async shutdown(): Promise<void> {
    this.destroyed = true;
    this.op?.abort(new Changed());
    this.wake?.();
    await this.loop;
    if (this.running) await this.env?.stop();
    this.running = false;
  }

  private set(patch: Partial<Observation>) {
    this.obs = { ...this.obs, ...patch };
    this.deps.onChange();
  }

  private idle(): Promise<void> {
    return new Promise((resolve) => {
      this.wake = resolve;
    });
  }

  /** Runs an operation that a change of what is wanted aborts. */
  private async guarded<T>(fn: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const op = new AbortController();
    this.op = op;
    try {
      return await fn(op.signal);
    } finally {
      if (this.op === op) this.op = undefined;
    }
  }

  private async run(): Promise<void> {
    while (!this.destroyed) {
      const w = this.wanted;
      const key = this.keyOf(w);
      try {
        if (w.mode === 'stopped' || !w.plan) {
          if (this.running) {
            this.set({ state: 'Stopping' });
            await this.env?.stop();
            this.running = false;
          }
          if (this.obs.state !== 'Stopped' && this.obs.state !== 'Idle')
            this.set({ state: 'Stopped', degraded: undefined });
          await this.idle();
          continue;
        }
        if (this.failedKey === key) {
          await this.idle();
          continue;
        }
        if (!this.running || this.envKey !== key) {
          await this.startEnvironment(w.plan);
          continue;
        }
        const failure = this.env?.failure();
        if (failure) throw Object.assign(new Error(failure), { reason: 'ServiceFailed' });
        if (await this.nextTask(w)) continue;
        if (this.obs.state !== 'Ready') this.set({ state: 'Ready' });
        await this.idle();
      } catch (err) {
        if (err instanceof Changed || this.destroyed || this.keyOf(this.wanted) !== key) continue;
        const message = err instanceof Error ? err.message : String(err);
        const reason = (err as { reason?: string }).reason ?? 'StartFailed';
        this.deps.log.warn({ err: message, reason }, 'sandbox failed');
        if (this.running) await this.env?.stop().catch(() => {});
        this.running = false;
        this.failedKey = key;
        this.set({ state: 'Failed', failure: { reason, message }, endpoint: undefined });
      }
    }
  }

  private async startEnvironment(plan: SandboxPlan) {
    if (this.running) {
      this.set({ state: 'Stopping' });
      await this.env?.stop();
      this.running = false;
    }
    const started = performance.now();
    this.env = this.deps.runtime.environment(plan, () => this.onEnvChange());
    this.envKey = plan.provisionKey;
    this.failedKey = undefined;
    this.set({
      state: 'Provisioning',
      failure: undefined,
      endpoint: undefined,
      readyAt: undefined,
      degraded: undefined,
      seed: undefined,
      workDir: this.env.workDir,
    });
    await this.guarded((signal) => this.env!.prepare(signal));
    this.set({ state: 'StartingServices' });
    const env = this.env;
    const { endpoint } = await this.guarded(async (signal) => {
      try {
        return await env.start(signal);
      } catch (err) {
        if (signal.aborted) await env.stop().catch(() => {});
        throw err;
      }
    });
    this.running = true;
    this.specFlowsDone = false;
    sandboxStartSeconds.observe({ runtime: this.deps.runtime.name }, (performance.now() - started) / 1000);
    this.deps.log.info({ endpoint }, 'sandbox ready');
    this.set({ state: 'Ready', endpoint, readyAt: now() });
  }

  private onEnvChange() {
    this.deps.onChange();
    if (this.env?.failure()) this.wake?.();
  }

  /** Runs the next pending task; false when there is none. */
  private async nextTask(w: Wanted): Promise<boolean> {
    if (w.seed?.steps.length && !(await this.seeded(w.seed.key))) {
      await this.seedData(w.seed);
      return true;
    }
    if (!this.specFlowsDone) {
      this.specFlowsDone = true;
      if (w.specFlows.length) {
        await this.runFlows(w.specFlows, 'spec', w);
        return true;
      }
    }
    if (w.runFlows && w.runFlows.value !== this.obs.acceptedRunFlows) {
      this.set({ acceptedRunFlows: w.runFlows.value });
      await this.runFlows(w.runFlows.flows, 'annotation', w);
      return true;
    }
    if (
      w.snapshot &&
      w.snapshot.requestedAt !== this.handledSnapshot &&
      w.snapshot.requestedAt !== this.obs.snapshot?.requestedAt
    ) {
      await this.takeSnapshot(w.snapshot);
      return true;
    }
    return false;
  }

  private seededPath() {
    return join(this.deps.runDir, 'seeded.json');
  }

  private async seeded(key: string): Promise<boolean> {
    if (this.obs.seed?.result === 'Failed') return true; // reported; a new start tries again
    const marker = await readFile(this.seededPath(), 'utf8').catch(() => undefined);
    return marker !== undefined && (JSON.parse(marker) as { key?: string }).key === key;
  }

  private async seedData(seed: { steps: SeedStepT[]; key: string }) {
    const total = seed.steps.length;
    this.set({ state: 'Seeding', seed: { result: 'Running', steps: total } });
    const endpoint = this.obs.endpoint!;
    for (const [i, step] of seed.steps.entries()) {
      const label =
        step.name ?? (step.http ? `${step.http.method ?? 'POST'} ${step.http.path}` : step.command!.command);
      try {
        await this.guarded((signal) => this.seedStep(step, endpoint, signal));
      } catch (err) {
        if (err instanceof Changed) throw err;
        this.set({
          seed: {
            result: 'Failed',
            steps: total,
            completedAt: now(),
            message: `seed step ${i + 1} (${label}) failed: ${err instanceof Error ? err.message : String(err)}`,
          },
        });
        return;
      }
    }
    await mkdir(this.deps.runDir, { recursive: true });
    await writeFile(this.seededPath(), JSON.stringify({ key: seed.key, at: now() }));
    this.set({
      seed: { result: 'Passed', steps: total, completedAt: now(), message: `${total} seed steps ran` },
    });
  }

  private async seedStep(step: SeedStepT, endpoint: string, signal: AbortSignal) {
    if (step.http) {
      const h = step.http;
      const headers: Record<string, string> = { ...(h.headers ?? {}) };
      let body: string | undefined = h.body;
      if (h.json !== undefined) {
        body = JSON.stringify(h.json);
        headers['content-type'] ??= 'application/json';
      }
      const res = await fetch(new URL(h.path, endpoint), {
        method: h.method ?? 'POST',
        headers,
        body,
        signal: AbortSignal.any([signal, AbortSignal.timeout(30_000)]),
      });
      await res.arrayBuffer();
      const ok =
        h.expectStatus !== undefined ? res.status === h.expectStatus : res.status >= 200 && res.status < 300;
      if (!ok) throw new Error(`HTTP ${res.status}${h.expectStatus ? ` (expected ${h.expectStatus})` : ''}`);
      return;
    }
    const c = step.command!;
    if (!this.env?.exec) throw new Error('command steps need the process runtime');
    const r = await this.env.exec(c.command, c.args ?? [], c.env ?? {}, signal);
    if (r.exitCode !== 0)
      throw new Error(
        `${r.signal ? `killed by ${r.signal}` : `exit code ${r.exitCode}`}${r.tail.length ? `: ${r.tail.at(-1)}` : ''}`,
      );
  }

  private async runFlows(names: string[], trigger: 'spec' | 'annotation', w: Wanted) {
    this.set({ state: 'RunningFlows' });
    let allPassed = names.length > 0;
    for (const name of names) {
      const id = `${segmentOf(name)}-${stamp()}-${Math.random().toString(16).slice(2, 6)}`;
      const dir = join(this.deps.artifactRoot, 'flows', id);
      const record: FlowRunRecord = {
        id,
        flow: name,
        trigger,
        result: 'Running',
        startedAt: now(),
        artifacts: dir,
      };
      this.pushRun(record);
      const flow = w.flows.get(name);
      let outcome: FlowOutcome;
      if (!flow) {
        outcome = {
          result: 'Failed',
          message: `no flow named ${name} (the simulator defines: ${[...w.flows.keys()].join(', ') || 'none'})`,
          steps: [],
          screenshots: [],
          durationMs: 0,
        };
      } else {
        outcome = await this.guarded((signal) =>
          this.deps.flows.run(flow, {
            baseUrl: this.obs.endpoint!,
            outDir: dir,
            signal,
            onProgress: (p) => {
              this.obs = { ...this.obs, queueUnavailable: p.queueUnavailable };
              this.pushRun({ ...record, steps: p.steps });
            },
          }),
        );
        if (this.obs.queueUnavailable) this.obs = { ...this.obs, queueUnavailable: undefined };
      }
      if (outcome.result !== 'Passed') allPassed = false;
      flowRunsTotal.inc({ result: outcome.result });
      if (flow) flowDurationSeconds.observe(outcome.durationMs / 1000);
      this.pushRun({
        ...record,
        result: outcome.result,
        finishedAt: now(),
        durationMs: outcome.durationMs,
        ...(outcome.message ? { message: outcome.message } : {}),
        screenshots: outcome.screenshots,
        steps: outcome.steps,
      });
      this.deps.log.info({ flow: name, result: outcome.result, ms: outcome.durationMs }, 'flow ran');
    }
    const source = w.plan?.source;
    if (allPassed && source?.kind === 'artifact') this.set({ verified: source.id });
  }

  private pushRun(r: FlowRunRecord) {
    const runs = this.obs.flowRuns.filter((x) => x.id !== r.id);
    runs.push(r);
    this.set({ flowRuns: runs.slice(-20) });
  }

  private async takeSnapshot(req: { requestedAt: string; layer: 'base' | 'data'; dataset: string }) {
    const env = this.env!;
    const base: SnapshotRecord = { requestedAt: req.requestedAt, layer: req.layer, dataset: req.dataset };
    const src = env.snapshotSource?.(req.layer);
    if (!src) {
      this.set({ snapshot: { ...base, error: 'snapshots need the process runtime' } });
      return;
    }
    this.set({ state: 'Snapshotting' });
    // Quiesce: stop the services so what they wrote is on disk, archive, then start them again.
    await env.stop();
    this.running = false;
    let record: SnapshotRecord;
    try {
      const a = await this.guarded((signal) =>
        this.deps.snapshots.archive(src, {
          request: req.requestedAt,
          signal,
          onQueueUnavailable: (queueUnavailable) => this.set({ queueUnavailable }),
        }),
      );
      const hex = a.digest.replace(/^sha256:/, '');
      record = { ...base, artifact: `art_${hex.slice(0, 12)}`, digest: a.digest, created: now() };
    } catch (err) {
      if (err instanceof Changed) throw err; // what is wanted changed: the loop starts what it is now
      record = { ...base, error: err instanceof Error ? err.message : String(err) };
    }
    this.set({ snapshot: record, state: 'StartingServices' });
    const { endpoint } = await this.guarded((signal) => env.start(signal));
    this.running = true;
    this.set({ state: 'Ready', endpoint });
  }
}
