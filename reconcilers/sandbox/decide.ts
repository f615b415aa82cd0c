// The Sandbox's decisions, as pure functions: where it starts from, whether it should run (operating
// mode, idle expiry), which flows and snapshots are asked for, and what its status says given what
// the session observed.
import type { KubeObject } from '../../apiserver/types.ts';
import { type Outcome, setCondition } from '../../controller/runtime/conditions.ts';
import type { EventType } from '../../controller/runtime/events.ts';
import type { Condition } from '../../crds/common.ts';
import type { SandboxSpec, SandboxStatus } from '../../crds/sandbox.ts';
import type { SimulatorStatus } from '../../crds/simulator.ts';
import { QUEUE_UNAVAILABLE } from '../simulation-run/jobs.ts';
import type { Observation } from './session.ts';

export const RUN_FLOWS = 'simops.dev/run-flows';
export const HEARTBEAT = 'simops.dev/heartbeat';
/** Flow runs kept in status. */
export const MAX_FLOW_RUNS = 10;

export type Blocked = { reason: string; message: string; terminal: boolean };

export type Source =
  | { kind: 'config' }
  | { kind: 'artifact'; id: string; digest: string; layer: 'base' | 'data'; tag?: string };

/** Where the sandbox starts from: the config, an artifact of the Simulator, or a tag it set. */
export const resolveSource = (
  spec: SandboxSpec,
  simulator: SimulatorStatus | undefined,
): Source | Blocked => {
  const src = spec.source ?? { config: true };
  if (src.config) return { kind: 'config' };
  const artifacts = simulator?.artifacts ?? [];
  if (src.tag !== undefined) {
    const tag = simulator?.tags?.[src.tag];
    if (!tag)
      return {
        reason: 'TagNotFound',
        message: `the simulator has no tag ${src.tag} yet (tags: ${Object.keys(simulator?.tags ?? {}).join(', ') || 'none'})`,
        terminal: false,
      };
    const a = artifacts.find((x) => x.id === tag.artifact);
    return {
      kind: 'artifact',
      id: tag.artifact,
      digest: tag.digest,
      layer: a?.layer ?? 'base',
      tag: src.tag,
    };
  }
  const a = artifacts.find((x) => x.id === src.artifact);
  if (!a)
    return {
      reason: 'ArtifactNotFound',
      message: `${src.artifact} is not an artifact of the simulator (known: ${artifacts.map((x) => x.id).join(', ') || 'none'})`,
      terminal: false,
    };
  return { kind: 'artifact', id: a.id, digest: a.digest, layer: a.layer ?? 'base' };
};

export const isBlocked = <T extends object>(s: T | Blocked): s is Blocked => 'reason' in s;

const BUSY = new Set(['Provisioning', 'StartingServices', 'Seeding', 'RunningFlows', 'Snapshotting']);

const ms = (t: string | undefined) => {
  const v = t ? Date.parse(t) : Number.NaN;
  return Number.isNaN(v) ? undefined : v;
};
const iso = (t: number) => `${new Date(t).toISOString().slice(0, 19)}Z`;

/**
 * The last sign of activity (the seed's heartbeat): creation, a spec change, a heartbeat
 * annotation (an RFC 3339 time), the sandbox becoming Ready, a flow run, a snapshot, work under way.
 */
export const lastActivity = (o: KubeObject, obs: Observation | undefined, nowMs: number): number => {
  const status = (o.status ?? {}) as SandboxStatus & { observedGeneration?: number };
  const times = [
    ms(o.metadata.creationTimestamp),
    ms(status.lastHeartbeat),
    ms(o.metadata.annotations?.[HEARTBEAT]),
    ms(obs?.readyAt),
    ms(status.lastSnapshot?.created),
    ...(obs?.flowRuns ?? []).map((r) => ms(r.finishedAt)),
    status.observedGeneration !== o.metadata.generation ? nowMs : undefined,
    // Work under way is activity: a sandbox does not expire while it starts, seeds, runs flows or snapshots.
    obs && BUSY.has(obs.state) ? nowMs : undefined,
  ].filter((t): t is number => t !== undefined);
  return Math.min(nowMs, Math.max(...times, 0));
};

export interface Expiry {
  lastHeartbeat: string;
  expiresAt?: string;
  expired: boolean;
  /** When to look again (ms from now), if it will expire. */
  inMs?: number;
}

export const expiry = (o: KubeObject, obs: Observation | undefined, nowMs: number): Expiry => {
  const spec = o.spec as SandboxSpec;
  const last = lastActivity(o, obs, nowMs);
  if (!spec.timeoutSeconds) return { lastHeartbeat: iso(last), expired: false };
  const at = last + spec.timeoutSeconds * 1000;
  return {
    lastHeartbeat: iso(last),
    expiresAt: iso(at),
    expired: nowMs >= at,
    ...(nowMs < at ? { inMs: at - nowMs } : {}),
  };
};

/** The run-flows annotation (`login,smoke`, optionally `@token` to ask again), when not yet handled. */
export const runFlowsRequest = (o: KubeObject): { value: string; flows: string[] } | undefined => {
  const value = o.metadata.annotations?.[RUN_FLOWS];
  if (!value) return undefined;
  if (value === (o.status as SandboxStatus | undefined)?.lastHandledRunFlows) return undefined;
  const flows = value
    .split('@')[0]!
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  return flows.length ? { value, flows } : undefined;
};

/** The layer of a snapshot: as asked, else data once the sandbox seeds data or starts from data or a tag. */
export const snapshotLayer = (spec: SandboxSpec, source: Source): 'base' | 'data' => {
  if (spec.snapshot?.layer) return spec.snapshot.layer;
  if (spec.seed?.length) return 'data';
  if (source.kind === 'artifact' && (source.layer === 'data' || source.tag !== undefined)) return 'data';
  return 'base';
};

type FlowRunStatus = NonNullable<SandboxStatus['flowRuns']>[number];

/** Status flow runs: the recorded ones updated with the session's, newest last, the last MAX kept. */
export const mergeFlowRuns = (
  old: readonly FlowRunStatus[],
  runs: Observation['flowRuns'],
): FlowRunStatus[] => {
  const out = [...old];
  for (const r of runs) {
    const i = out.findIndex((x) => x.id === r.id);
    const entry: FlowRunStatus = {
      id: r.id,
      flow: r.flow,
      result: r.result,
      trigger: r.trigger,
      startedAt: r.startedAt,
      ...(r.finishedAt ? { finishedAt: r.finishedAt } : {}),
      ...(r.durationMs !== undefined ? { durationMs: r.durationMs } : {}),
      ...(r.message ? { message: r.message } : {}),
      ...(r.screenshots?.length ? { screenshots: r.screenshots } : {}),
      ...(r.steps ? { steps: r.steps } : {}),
      artifacts: r.artifacts,
    };
    if (i >= 0) out[i] = entry;
    else out.push(entry);
  }
  return out.slice(-MAX_FLOW_RUNS);
};

/** FlowsPassed: True when the latest run of every flow passed, False when one failed, Unknown while one runs. */
export const flowsCondition = (runs: readonly FlowRunStatus[]) => {
  if (!runs.length) return undefined;
  const latest = new Map<string, FlowRunStatus>();
  for (const r of runs) latest.set(r.flow, r);
  const all = [...latest.values()];
  const failed = all.filter((r) => r.result === 'Failed');
  if (failed.length)
    return {
      status: 'False' as const,
      reason: 'FlowFailed',
      message: failed.map((r) => `${r.flow}: ${r.message ?? 'failed'}`).join('; '),
    };
  if (all.some((r) => r.result === 'Running'))
    return { status: 'Unknown' as const, reason: 'FlowRunning', message: 'a flow is running' };
  return {
    status: 'True' as const,
    reason: 'FlowsPassed',
    message: `passed: ${all.map((r) => r.flow).join(', ')}`,
  };
};

export interface StatusInput {
  o: KubeObject;
  now: string;
  blocked?: Blocked;
  mode: 'running' | 'stopped';
  expiry: Expiry;
  obs?: Observation;
  resolved?: { artifact?: string; digest?: string; configHash?: string };
}

export interface StatusDecision {
  fields: Partial<SandboxStatus> & Record<string, unknown>;
  outcome: Outcome;
  /** Extra conditions (FlowsPassed), set after the kstatus ones. */
  conditions: (conditions: Condition[] | undefined) => Condition[] | undefined;
}

const RUNNING_STATES = new Set(['Ready', 'Seeding', 'RunningFlows']);

export const sandboxStatus = (input: StatusInput): StatusDecision => {
  const { o, obs } = input;
  const spec = o.spec as SandboxSpec;
  const old = (o.status ?? {}) as SandboxStatus;
  const flowRuns = mergeFlowRuns(old.flowRuns ?? [], obs?.flowRuns ?? []);
  const running = obs !== undefined && RUNNING_STATES.has(obs.state) && input.mode === 'running';
  const services = obs?.services.length ? obs.services : undefined;
  const fields: StatusDecision['fields'] = {
    endpoint: running ? obs.endpoint : undefined,
    resolvedSource: input.resolved,
    services: input.mode === 'running' || obs?.state === 'Stopped' ? services : old.services,
    flowRuns: flowRuns.length ? flowRuns : undefined,
    lastHandledRunFlows: obs?.acceptedRunFlows ?? old.lastHandledRunFlows,
    seed: obs?.seed ?? old.seed,
    lastHeartbeat: input.expiry.lastHeartbeat,
    expiresAt: input.expiry.expiresAt,
    workDir: obs?.workDir ?? old.workDir,
  };
  if (!o.metadata.annotations?.[RUN_FLOWS]) fields.lastHandledRunFlows = undefined;
  const fc = flowsCondition(flowRuns);
  const conditions = (list: Condition[] | undefined) =>
    fc
      ? setCondition(list, { type: 'FlowsPassed', ...fc }, o.metadata.generation, input.now)
      : list?.filter((c) => c.type !== 'FlowsPassed');
  const result = (phase: string, outcome: Outcome): StatusDecision => ({
    fields: { ...fields, phase: phase as SandboxStatus['phase'] },
    outcome,
    conditions,
  });

  if (input.blocked) {
    const b = input.blocked;
    return result(b.terminal ? 'Failed' : 'Pending', {
      kind: b.terminal ? 'stalled' : 'progressing',
      reason: b.reason,
      message: b.message,
    });
  }
  if (spec.operatingMode === 'Stopped') {
    const done = !obs || obs.state === 'Stopped' || obs.state === 'Idle';
    return result('Stopped', {
      kind: done ? 'failed' : 'progressing',
      reason: 'SandboxStopped',
      message: done ? 'operatingMode is Stopped: every service is stopped' : 'stopping the services',
    });
  }
  if (input.mode === 'stopped' && input.expiry.expired) {
    return result('Expired', {
      kind: 'failed',
      reason: 'SandboxExpired',
      message: `no activity since ${input.expiry.lastHeartbeat} (timeoutSeconds ${spec.timeoutSeconds}): the services were stopped; annotate ${HEARTBEAT} with the current time, or change the spec, to start it again`,
    });
  }
  const state = obs?.state ?? 'Idle';
  switch (state) {
    case 'Idle':
      return result('Pending', { kind: 'progressing', reason: 'Pending', message: 'waiting to start' });
    case 'Provisioning':
      return result('Provisioning', {
        kind: 'progressing',
        reason: 'Provisioning',
        message: 'making the working directory (copying the repository or restoring the artifact)',
      });
    case 'StartingServices': {
      const waiting = services?.find((s) => s.message)?.message;
      return result('StartingServices', {
        kind: 'progressing',
        reason: 'StartingServices',
        message: `starting ${services?.map((s) => s.name).join(', ') || 'the services'} and waiting for the listeners${waiting ? ` (${waiting})` : ''}`,
      });
    }
    case 'Snapshotting':
      if (obs?.queueUnavailable)
        return result('Snapshotting', {
          kind: 'failed',
          reason: QUEUE_UNAVAILABLE,
          message: `services quiesced: the snapshot waits for the job queue: ${obs.queueUnavailable}`,
        });
      return result('Snapshotting', {
        kind: 'progressing',
        reason: 'Snapshotting',
        message: 'services quiesced: archiving the working directory',
      });
    case 'Stopping':
    case 'Stopped':
      return result('Stopped', { kind: 'progressing', reason: 'Stopping', message: 'stopping the services' });
    case 'Failed':
      return result('Failed', {
        kind: 'stalled',
        reason: obs?.failure?.reason ?? 'Failed',
        message: `${obs?.failure?.message ?? 'the sandbox failed'} (annotate simops.dev/requestedAt or change the spec to start again)`,
      });
    default: {
      const restarting = services?.find((s) => s.state === 'Restarting');
      const phase = state === 'Ready' ? 'Ready' : state;
      if (restarting)
        return result(phase, {
          kind: 'failed',
          reason: 'ServiceRestarting',
          message: `service ${restarting.name} ${restarting.message ?? 'is restarting'} (${restarting.restarts} restarts)`,
        });
      if (obs?.degraded)
        return result(phase, { kind: 'failed', reason: 'ListenerDown', message: obs.degraded });
      if (obs?.queueUnavailable)
        return result(phase, {
          kind: 'failed',
          reason: QUEUE_UNAVAILABLE,
          message: `a flow waits for the job queue: ${obs.queueUnavailable}`,
        });
      const what =
        state === 'Seeding' ? 'seeding data' : state === 'RunningFlows' ? 'running flows' : undefined;
      return result(phase, {
        kind: 'ready',
        reason: state === 'Ready' ? 'Ready' : state,
        message: `${obs?.endpoint ?? ''}: ${services?.map((s) => s.name).join(', ') || 'services'} running${what ? `; ${what}` : ''}`,
      });
    }
  }
};

export interface SandboxEvent {
  type: EventType;
  reason: string;
  message: string;
}

/** Events for `kubectl describe`: phase changes that matter, flow results, seeding, snapshots, restarts. */
export const sandboxEvents = (old: SandboxStatus, next: StatusDecision): SandboxEvent[] => {
  const events: SandboxEvent[] = [];
  const f = next.fields;
  const o = next.outcome;
  if (old.phase !== f.phase) {
    if (f.phase === 'Ready' && o.kind === 'ready')
      events.push({ type: 'Normal', reason: 'Ready', message: o.message });
    if (f.phase === 'Failed' || f.phase === 'Expired' || f.phase === 'Stopped')
      events.push({
        type: f.phase === 'Failed' ? 'Warning' : 'Normal',
        reason: o.reason,
        message: o.message,
      });
  }
  for (const r of f.flowRuns ?? []) {
    const before = old.flowRuns?.find((x) => x.id === r.id);
    if (r.result !== 'Running' && before?.result !== r.result)
      events.push(
        r.result === 'Passed'
          ? { type: 'Normal', reason: 'FlowPassed', message: `${r.flow} passed in ${r.durationMs ?? 0} ms` }
          : { type: 'Warning', reason: 'FlowFailed', message: `${r.flow}: ${r.message ?? 'failed'}` },
      );
  }
  if (
    f.seed &&
    f.seed.result !== 'Running' &&
    (old.seed?.result !== f.seed.result || old.seed?.completedAt !== f.seed.completedAt)
  )
    events.push({
      type: f.seed.result === 'Passed' ? 'Normal' : 'Warning',
      reason: f.seed.result === 'Passed' ? 'Seeded' : 'SeedFailed',
      message: f.seed.message ?? '',
    });
  for (const s of f.services ?? []) {
    // A restart may be over before a reconcile sees it Restarting: a higher count tells too.
    const before = old.services?.find((x) => x.name === s.name);
    const restarting = s.state === 'Restarting' && before?.state !== 'Restarting';
    if (restarting || s.restarts > (before?.restarts ?? 0))
      events.push({
        type: 'Warning',
        reason: 'ServiceRestarting',
        message: `${s.name}: ${s.message ?? 'restarting'}`,
      });
  }
  return events;
};
