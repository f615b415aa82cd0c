// Sandbox: fetch → deletion (destroy the environment, release the finalizer) → finalizer → resolve
// the Simulator, the source and the config → tell the session what is wanted (run, stop, expire;
// flows, seeding, snapshots) → record what it produced in the Simulator (artifacts, verification)
// → one status patch. The session does the work off the loop and enqueues the sandbox on change.
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import type { KubeObject } from '../../apiserver/types.ts';
import { startInformer } from '../../controller/runtime/informer.ts';
import { coreKind, simopsKind } from '../../controller/runtime/kinds.ts';
import type { KubeClient } from '../../controller/runtime/kube-client.ts';
import type { Log } from '../../controller/runtime/logger.ts';
import type { ReconcileContext, Reconciler, Request } from '../../controller/runtime/reconciler.ts';
import {
  finalizerGate,
  nextStatus,
  patchStatus,
  requestedAt,
  timestamp,
} from '../../controller/runtime/status.ts';
import type { Condition } from '../../crds/common.ts';
import type { SandboxSpec, SandboxStatus } from '../../crds/sandbox.ts';
import type { SimulatorStatus } from '../../crds/simulator.ts';
import { readSecret } from '../git-source/credentials.ts';
import { inProcessJobs } from '../simulation-run/jobs.ts';
import { addArtifact, markVerified, SIMULATOR, updateArtifacts } from '../simulator/artifacts.ts';
import { hashOf } from '../simulator/config.ts';
import { loadConfig, SourceUnavailableError } from '../simulator/load-config.ts';
import { openRepository, sourceOf } from '../simulator/repository.ts';
import {
  type Blocked,
  expiry,
  isBlocked,
  resolveSource,
  runFlowsRequest,
  type Source,
  sandboxEvents,
  sandboxStatus,
  snapshotLayer,
} from './decide.ts';
import { type FlowJobs, flowJob, jobFlowRunner } from './flow-job.ts';
import { chromiumFlowRunner, type FlowRunner, MAX_BROWSERS } from './flow-runner.ts';
import { kubernetesRuntime, POD, SERVICE } from './kubernetes-runtime.ts';
import { objectName, SANDBOX_LABEL } from './pod.ts';
import { type ProcessRuntimeOptions, processRuntime, sandboxDir } from './process-runtime.ts';
import type { Runtime, SandboxPlan } from './runtime.ts';
import { Session, type Wanted } from './session.ts';
import { jobSnapshotArchiver, type SnapshotJobs, snapshotJob } from './snapshot-job.ts';
import { runsOnWorkers } from './work-placement.ts';

export const SANDBOX = simopsKind('Sandbox');
export const FINALIZER = 'simops.dev/sandbox';

export interface SandboxOptions {
  /** Where the GitSource repositories are checked out. */
  cacheDir: string;
  /** Sandboxes under `<artifactDir>/sandboxes/`, snapshots under `<artifactDir>/snapshots/`. */
  artifactDir: string;
  /** The process runtime runs commands from git: on in embedded mode, off in a cluster unless enabled. */
  processRuntime: boolean;
  /** The browser that runs flows in this process (default: Chromium through playwright-core). */
  flows?: FlowRunner;
  /** Another runner of flow jobs (workers) for sandboxes on the kubernetes runtime
   * (work-placement.ts); otherwise flow runs are jobs in this process. */
  flowJobs?: () => FlowJobs;
  /** Another runner of snapshot jobs (workers) for sandboxes on the kubernetes runtime; otherwise
   * snapshots are archived in this process. */
  snapshotJobs?: () => SnapshotJobs;
  /** Tuning of the process runtime (tests). */
  process?: Partial<ProcessRuntimeOptions>;
}

const RETRY_MS = 15_000;

const keyOf = (r: Request) => `${r.namespace}/${r.name}`;

/** Secret variables of the services, by service, from the Secrets their envFrom names. */
const secretsReader =
  (client: KubeClient, namespace: string, plan: () => SandboxPlan) =>
  async (names: readonly string[]): Promise<Record<string, Record<string, string>>> => {
    const out: Record<string, Record<string, string>> = {};
    for (const s of plan().dataset.processServices) {
      if (!names.includes(s.name)) continue;
      const vars: Record<string, string> = {};
      for (const ref of s.spec.envFrom ?? []) {
        const secret = await client.get(coreKind('Secret'), namespace, ref.secretRef.name);
        if (!secret)
          throw new Error(`service ${s.name}: Secret ${namespace}/${ref.secretRef.name} not found`);
        const read = await readSecret(client, namespace, ref.secretRef.name);
        const keys = new Set([
          ...Object.keys((secret.data ?? {}) as object),
          ...Object.keys((secret.stringData ?? {}) as object),
        ]);
        for (const k of keys) vars[k] = read(k) ?? '';
      }
      out[s.name] = vars;
    }
    return out;
  };

export const sandboxReconciler = (opts: SandboxOptions): Reconciler => {
  const sessions = new Map<string, Session>();
  /** The runtime each session runs on. */
  const sessionRuntime = new Map<string, string>();
  const root = join(opts.artifactDir, 'sandboxes');
  const snapshots = join(opts.artifactDir, 'snapshots');
  /** In this process, and queued for workers (if queues are set). */
  let flowJobs: { local: FlowJobs; queued?: FlowJobs } | undefined;
  let snapshotJobs: { local: SnapshotJobs; queued?: SnapshotJobs } | undefined;
  let runtimes: { process: Runtime; kubernetes: Runtime } | undefined;
  let enqueue: ((r: Request) => void) | undefined;
  /** Set when the controller stops: no new session may start (a reconcile may still be in flight). */
  let stopping = false;

  const sessionFor = (req: Request, runtime: Runtime, log: Log): Session => {
    const key = keyOf(req);
    let s = sessions.get(key);
    if (!s) {
      const dir = sandboxDir(root, req.namespace, req.name);
      const flows = flowJobs!;
      const archives = snapshotJobs!;
      s = new Session({
        runtime,
        flows: jobFlowRunner(flows.queued && runsOnWorkers(runtime.name) ? flows.queued : flows.local, {
          key,
          artifactDir: opts.artifactDir,
        }),
        snapshots: jobSnapshotArchiver(
          archives.queued && runsOnWorkers(runtime.name) ? archives.queued : archives.local,
          { key, artifactDir: opts.artifactDir },
        ),
        artifactRoot: dir,
        runDir: join(dir, 'run'),
        onChange: () => enqueue?.(req),
        log,
      });
      sessions.set(key, s);
      sessionRuntime.set(key, runtime.name);
    }
    return s;
  };

  const destroy = async (req: Request, client: KubeClient) => {
    const key = keyOf(req);
    const s = sessions.get(key);
    sessions.delete(key);
    sessionRuntime.delete(key);
    if (s) await s.destroy();
    // Whatever an earlier controller made and no session here knows of.
    const dir = sandboxDir(root, req.namespace, req.name);
    await rm(join(dir, 'work'), { recursive: true, force: true });
    await rm(join(dir, 'run'), { recursive: true, force: true });
    for (const kind of [POD, SERVICE]) {
      const obj = await client.get(kind, req.namespace, objectName(req.name));
      if (obj?.metadata.labels?.[SANDBOX_LABEL] === req.name)
        await client.delete(kind, req.namespace, objectName(req.name));
    }
  };

  const reconcile = async (req: Request, ctx: ReconcileContext) => {
    if (stopping || ctx.signal.aborted) return undefined;
    const o = await ctx.client.get(SANDBOX, req.namespace, req.name);
    if (!o) {
      await destroy(req, ctx.client);
      return undefined;
    }
    const live = await finalizerGate(ctx.client, SANDBOX, o, FINALIZER, async () => {
      await destroy(req, ctx.client);
      ctx.log.info({}, 'sandbox deleted: environment removed');
    });
    if (!live) return undefined;
    const spec = o.spec as SandboxSpec;
    const old = (o.status ?? {}) as SandboxStatus;
    const nowMs = Date.now();
    const rt = runtimes![spec.runtime ?? 'process'];
    if (sessions.has(keyOf(req)) && sessionRuntime.get(keyOf(req)) !== rt.name) {
      // Moved to another runtime: what ran on the old one goes.
      await destroy(req, ctx.client);
    }
    const existing = sessions.get(keyOf(req));

    // 1. What it runs: the runtime, the Simulator, the source, the dataset of the config.
    const prepared = await prepare(o, ctx);
    let session = existing;
    let mode: 'running' | 'stopped' = 'stopped';
    const exp = expiry(o, existing?.observe(), nowMs);
    if (stopping) return undefined;
    if (!isBlocked(prepared)) {
      mode = spec.operatingMode === 'Stopped' || exp.expired ? 'stopped' : 'running';
      session = sessionFor(req, rt, ctx.log);
      session.want({ ...prepared.wanted, mode }, old.lastSnapshot?.requestedAt);
    } else if (!prepared.terminal && prepared.reason === 'SourceUnavailable') {
      // The repository cannot be read now: what runs keeps running; try again later.
    } else {
      existing?.want({ mode: 'stopped', flows: new Map(), specFlows: [] }, old.lastSnapshot?.requestedAt);
    }
    const obs = session?.observe();

    // 2. Record what the session produced in the Simulator: a snapshot, a verified artifact.
    const simName = spec.simulatorRef.name;
    if (obs?.snapshot?.artifact && obs.snapshot.requestedAt !== old.lastSnapshot?.requestedAt) {
      const s = obs.snapshot;
      await updateArtifacts(
        ctx.client,
        req.namespace,
        simName,
        addArtifact({
          id: s.artifact!,
          dataset: s.dataset,
          digest: s.digest!,
          layer: s.layer,
          created: s.created!,
          sourceSandbox: req.name,
          verified: false,
        }),
      );
      session?.snapshotRecorded(s.requestedAt);
      ctx.events.record(
        o,
        'Normal',
        'Snapshotted',
        `${s.artifact} (${s.layer}, ${s.digest}) recorded in simulator ${simName}`,
      );
    }
    if (obs?.snapshot?.error && obs.snapshot.requestedAt !== old.lastSnapshot?.requestedAt) {
      ctx.events.record(o, 'Warning', 'SnapshotFailed', obs.snapshot.error);
    }
    if (obs?.verified) {
      await updateArtifacts(
        ctx.client,
        req.namespace,
        simName,
        markVerified(obs.verified, req.name, timestamp()),
      );
      ctx.events.record(
        o,
        'Normal',
        'Verified',
        `${obs.verified}: the flows passed on a sandbox started from it`,
      );
      session?.verifiedRecorded(obs.verified);
    }

    // 3. One status patch, with Events for what changed.
    const decision = sandboxStatus({
      o,
      now: timestamp(),
      ...(isBlocked(prepared) ? { blocked: prepared } : {}),
      mode,
      expiry: exp,
      obs,
      resolved: isBlocked(prepared) ? old.resolvedSource : prepared.resolved,
    });
    if (
      obs?.snapshot &&
      obs.snapshot.requestedAt !== old.lastSnapshot?.requestedAt &&
      obs.snapshot.artifact
    ) {
      decision.fields.lastSnapshot = {
        artifact: obs.snapshot.artifact,
        digest: obs.snapshot.digest!,
        layer: obs.snapshot.layer,
        created: obs.snapshot.created!,
        requestedAt: obs.snapshot.requestedAt,
      };
    } else if (obs?.snapshot?.error && obs.snapshot.requestedAt !== old.lastSnapshot?.requestedAt) {
      decision.outcome = { kind: 'failed', reason: 'SnapshotFailed', message: obs.snapshot.error };
    }
    for (const e of sandboxEvents(old, decision)) ctx.events.record(o, e.type, e.reason, e.message);
    const status = nextStatus(o, decision.fields, decision.outcome);
    status.conditions = decision.conditions(status.conditions as Condition[]);
    await patchStatus(ctx.client, SANDBOX, o, status);

    // 4. Look again: at expiry, at the next heartbeat check, or to retry what was unavailable.
    const waits: number[] = [];
    if (exp.inMs !== undefined && mode === 'running') waits.push(exp.inMs + 50);
    if (obs?.state === 'Ready') {
      waits.push(spec.heartbeatIntervalSeconds * 1000);
      void session?.check();
    }
    if (isBlocked(prepared) && !prepared.terminal) waits.push(RETRY_MS);
    return waits.length ? { requeueAfterMs: Math.min(...waits) } : undefined;
  };

  /** The plan and the wanted work, or why the sandbox cannot start. */
  const prepare = async (
    o: KubeObject,
    ctx: ReconcileContext,
  ): Promise<
    | (Blocked & { reason: string })
    | { wanted: Omit<Wanted, 'mode'>; resolved: SandboxStatus['resolvedSource'] }
  > => {
    const spec = o.spec as SandboxSpec;
    const namespace = o.metadata.namespace ?? 'default';
    if (spec.runtime === 'process' && !opts.processRuntime) {
      return {
        reason: 'RuntimeDisabled',
        message:
          'the process runtime runs commands from git repositories and is off in cluster mode: start the controller with --enable-process-runtime (Helm: controller.processRuntime=true), or use runtime: kubernetes',
        terminal: true,
      };
    }
    const simulator = await ctx.client.get(SIMULATOR, namespace, spec.simulatorRef.name);
    if (!simulator)
      return {
        reason: 'SimulatorNotFound',
        message: `Simulator ${namespace}/${spec.simulatorRef.name} not found`,
        terminal: false,
      };
    const simStatus = (simulator.status ?? {}) as SimulatorStatus;
    const source: Source | Blocked = resolveSource(spec, simStatus);
    if (isBlocked(source)) return source;
    let loaded: Awaited<ReturnType<typeof loadConfig>>;
    try {
      loaded = await loadConfig(ctx.client, simulator, opts.cacheDir, ctx.signal);
    } catch (err) {
      if (err instanceof SourceUnavailableError)
        return { reason: 'SourceUnavailable', message: err.message, terminal: false };
      throw err;
    }
    if (!loaded.ok)
      return {
        reason: 'InvalidConfig',
        message: `the simulator's config is invalid: ${loaded.errors.join('; ')}`,
        terminal: false,
      };
    const dataset = loaded.config.datasets[spec.dataset];
    if (!dataset)
      return {
        reason: 'UnknownDataset',
        message: `spec.dataset: the simulator has no dataset ${spec.dataset} (it has ${Object.keys(loaded.config.datasets).join(', ')})`,
        terminal: true,
      };
    const manual = requestedAt(o) ?? '';
    const provisionKey =
      source.kind === 'config'
        ? hashOf({ runtime: spec.runtime, config: dataset.envHash, dataset: spec.dataset, manual })
        : hashOf({ runtime: spec.runtime, artifact: source.digest, manual });
    const simSource = sourceOf(simulator);
    const plan: SandboxPlan = {
      namespace,
      name: o.metadata.name!,
      uid: o.metadata.uid!,
      simulator: simulator.metadata.name!,
      dataset,
      source:
        source.kind === 'config'
          ? {
              kind: 'config',
              repository: async () => {
                if (!simSource)
                  throw new Error(
                    'the simulator was not applied by a GitSource: there is no repository to copy',
                  );
                return openRepository(ctx.client, simSource, opts.cacheDir);
              },
            }
          : { kind: 'artifact', id: source.id, digest: source.digest },
      provisionKey,
      secrets: secretsReader(ctx.client, namespace, () => plan),
    };
    const seed = spec.seed?.length ? { steps: spec.seed, key: hashOf(spec.seed) } : undefined;
    return {
      wanted: {
        plan,
        flows: new Map(dataset.flows.map((f) => [f.name, f])),
        specFlows: spec.flows ?? [],
        ...(runFlowsRequest(o) ? { runFlows: runFlowsRequest(o)! } : {}),
        ...(spec.snapshot
          ? {
              snapshot: {
                requestedAt: spec.snapshot.requestedAt,
                layer: snapshotLayer(spec, source),
                dataset: spec.snapshot.dataset ?? spec.dataset,
              },
            }
          : {}),
        ...(seed ? { seed } : {}),
      },
      resolved:
        source.kind === 'config'
          ? { configHash: loaded.config.configHash }
          : { artifact: source.id, digest: source.digest },
    };
  };

  return {
    kind: SANDBOX,
    concurrency: 4,
    start(queue, ctx) {
      enqueue = queue;
      flowJobs = {
        local: inProcessJobs(
          flowJob({ artifactDir: opts.artifactDir, browser: opts.flows ?? chromiumFlowRunner() }),
          { concurrency: MAX_BROWSERS, progressIntervalMs: 250 },
        ),
        queued: opts.flowJobs?.(),
      };
      snapshotJobs = {
        local: inProcessJobs(snapshotJob({ artifactDir: opts.artifactDir }), { concurrency: 2 }),
        queued: opts.snapshotJobs?.(),
      };
      runtimes = {
        process: processRuntime({ root, snapshotDir: snapshots, ...opts.process }),
        kubernetes: kubernetesRuntime({ client: ctx.client }),
      };
      // A Simulator's new artifacts or tags can unblock its sandboxes (a tag that now exists).
      const informer = startInformer(
        ctx.client.kubeConfig,
        SIMULATOR,
        (_type, sim) => {
          for (const sbx of ctx.cache.list(sim.metadata.namespace)) {
            if ((sbx.spec as SandboxSpec).simulatorRef?.name === sim.metadata.name)
              queue({ namespace: sbx.metadata.namespace ?? '', name: sbx.metadata.name ?? '' });
          }
        },
        ctx.log,
      );
      void informer.start().catch((err: unknown) => ctx.log.warn({ err: String(err) }, 'Simulator informer'));
      return async () => {
        stopping = true;
        await informer.stop();
        await Promise.all([...sessions.values()].map((s) => s.shutdown()));
        sessions.clear();
        await Promise.all(
          [flowJobs?.local, flowJobs?.queued, snapshotJobs?.local, snapshotJobs?.queued].map((j) =>
            j?.stop(),
          ),
        );
        await runtimes?.process.shutdown();
      };
    },
    reconcile,
  };
};
