// A ChaosScenario spec merged with its preset: durations (the preset's events and tick scale with
// the spec's duration), policies field by field, journeys and events replaced when given,
// invariants merged by name. Pure; errors name the spec field.
import { parseDuration } from '../../controller/runtime/duration.ts';
import type { ChaosScenarioSpec } from '../../crds/chaos-scenario.ts';
import type {
  EventKind,
  JourneySpec,
  Op,
  ResolvedEvent,
  ResolvedInvariant,
  ResolvedPolicies,
  ResolvedScenario,
  Severity,
} from './model.ts';
import {
  DEFAULT_JOURNEYS,
  DEFAULT_POLICIES,
  FAULT_TYPES,
  INVARIANTS,
  NO_PRESET,
  PRESETS,
  TRAFFIC_TYPES,
} from './presets.ts';

export interface FieldError {
  field: string;
  message: string;
}

export type Resolution =
  | { ok: true; scenario: ResolvedScenario; notes: string[] }
  | { ok: false; errors: FieldError[] };

export const DEFAULT_WINDOW_TICKS = 10;
export const MIN_WINDOW_MS = 2000;
export const DEFAULT_REQUEST_TIMEOUT_MS = 10_000;
/** More arrivals than this in one run is a spec mistake (or a job for several workers). */
export const MAX_ARRIVALS = 2_000_000;
const MIN_SCALED_TICK_MS = 50;

export const eventKind = (type: string): EventKind =>
  FAULT_TYPES.has(type) ? 'fault' : TRAFFIC_TYPES.has(type) ? 'traffic' : 'application';

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

/** What each fault and traffic event needs in `parameters`. */
const checkParameters = (e: ResolvedEvent, field: string, errors: FieldError[]) => {
  const p = e.parameters;
  const need = (name: string, min: number, max = Number.POSITIVE_INFINITY, required = true) => {
    const v = p[name];
    if (v === undefined && !required) return;
    const n = num(v);
    if (n === undefined || n < min || n > max)
      errors.push({
        field: `${field}.parameters.${name}`,
        message: `${e.type} needs a number${max < Number.POSITIVE_INFINITY ? ` in [${min}, ${max}]` : ` >= ${min}`}`,
      });
  };
  switch (e.type) {
    case 'LATENCY':
      need('latencyMs', 0);
      need('jitterMs', 0, Number.POSITIVE_INFINITY, false);
      need('toxicity', 0, 1, false);
      break;
    case 'ERRORS':
      need('rate', 0, 1);
      need('status', 400, 599, false);
      break;
    case 'RESET_PEER':
      need('toxicity', 0, 1, false);
      need('timeoutMs', 0, Number.POSITIVE_INFINITY, false);
      break;
    case 'BANDWIDTH':
      need('rateKBps', 0.001);
      need('toxicity', 0, 1, false);
      break;
    case 'TIMEOUT':
      need('timeoutMs', 0, Number.POSITIVE_INFINITY, false);
      need('toxicity', 0, 1, false);
      break;
    case 'RATE_LIMIT_BURST':
      need('multiplier', 0);
      break;
  }
};

const withJourneyDefaults = (j: JourneySpec): JourneySpec => ({
  ...j,
  agent: j.agent ?? 'customer',
  weight: j.weight ?? 1,
  steps: j.steps.map((s) => ({ ...s, method: s.method ?? 'GET', thinkTimeMs: s.thinkTimeMs ?? 0 })),
});

export const resolveScenario = (spec: ChaosScenarioSpec): Resolution => {
  const errors: FieldError[] = [];
  const notes: string[] = [];
  const preset = spec.preset ? PRESETS[spec.preset] : NO_PRESET;
  if (!preset)
    return { ok: false, errors: [{ field: 'spec.preset', message: `unknown preset ${spec.preset}` }] };

  const realSeconds = spec.duration?.realSeconds ?? preset.realSeconds;
  const simHours = spec.duration?.simHours ?? preset.simHours;
  const simMinutes = simHours * 60;
  const scale = simHours / preset.simHours;
  const tickMs =
    spec.policies?.tickMs ??
    Math.min(
      preset.tickMs,
      Math.max(MIN_SCALED_TICK_MS, Math.round((preset.tickMs * realSeconds) / preset.realSeconds)),
    );
  // At least 10 ticks and 2 s of real time: a window of a few requests says little.
  const windowTicks =
    spec.policies?.windowTicks ?? Math.max(DEFAULT_WINDOW_TICKS, Math.ceil(MIN_WINDOW_MS / tickMs));
  const requestTimeoutMs = spec.policies?.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;

  const policies: ResolvedPolicies = { ...DEFAULT_POLICIES };
  for (const source of [preset.policies, spec.policies ?? {}]) {
    for (const key of Object.keys(DEFAULT_POLICIES) as (keyof ResolvedPolicies)[]) {
      const v = (source as Partial<ResolvedPolicies>)[key];
      if (v !== undefined) policies[key] = v;
    }
  }

  const journeys = (spec.journeys ?? DEFAULT_JOURNEYS).map(withJourneyDefaults);
  for (const kind of ['customer', 'vendor'] as const) {
    const rate = kind === 'customer' ? policies.customerSpawnRate : policies.vendorSpawnRate;
    if (rate > 0 && !journeys.some((j) => j.agent === kind && j.weight > 0)) {
      notes.push(`no ${kind} journey: ${kind}SpawnRate ${rate} spawns no agents`);
      if (kind === 'customer') policies.customerSpawnRate = 0;
      else policies.vendorSpawnRate = 0;
    }
  }

  const events: ResolvedEvent[] = (
    spec.events
      ? spec.events.map((e) => ({ ...e, parameters: e.parameters ?? {} }))
      : preset.events.map((e) => ({ ...e, triggerAt: e.triggerAt * scale, duration: e.duration * scale }))
  ).map((e) => ({ ...e, kind: eventKind(e.type) }));
  events.forEach((e, i) => {
    const field = `spec.events[${i}]`;
    if (e.triggerAt >= simMinutes)
      errors.push({
        field: `${field}.triggerAt`,
        message: `${e.triggerAt} is not before the end of the run (${simMinutes} sim minutes)`,
      });
    checkParameters(e, field, errors);
  });

  const merged = new Map<
    string,
    Partial<ResolvedInvariant> & { disabled?: boolean; breachWindow?: string }
  >();
  for (const name of preset.invariants) merged.set(name, { ...INVARIANTS[name]! });
  const fields = new Map<string, number>();
  (spec.invariants ?? []).forEach((inv, i) => {
    fields.set(inv.name, i);
    const base =
      merged.get(inv.name) ?? (INVARIANTS[inv.name] ? { ...INVARIANTS[inv.name] } : { name: inv.name });
    const next = { ...base };
    for (const [k, v] of Object.entries(inv)) if (v !== undefined) (next as Record<string, unknown>)[k] = v;
    merged.set(inv.name, next);
  });
  const invariants: ResolvedInvariant[] = [];
  for (const [name, inv] of merged) {
    if (inv.disabled) continue;
    const i = fields.get(name);
    const field = i === undefined ? `invariant ${name}` : `spec.invariants[${i}]`;
    if (inv.metric === undefined || inv.op === undefined || inv.threshold === undefined) {
      errors.push({
        field: `${field}.${inv.metric === undefined ? 'metric' : inv.op === undefined ? 'op' : 'threshold'}`,
        message: 'required: no preset invariant has this name',
      });
      continue;
    }
    let breachWindowMs = windowTicks * tickMs;
    if (inv.breachWindow !== undefined) {
      try {
        breachWindowMs = parseDuration(inv.breachWindow);
      } catch (err) {
        errors.push({ field: `${field}.breachWindow`, message: (err as Error).message });
      }
    }
    invariants.push({
      name,
      metric: inv.metric,
      op: inv.op as Op,
      threshold: inv.threshold,
      severity: (inv.severity ?? 'critical') as Severity,
      abortOnFail: inv.abortOnFail ?? false,
      breachWindowMs,
    });
  }

  const expected = expectedArrivals(policies, events, simMinutes);
  if (expected > MAX_ARRIVALS)
    errors.push({
      field: 'spec.policies',
      message: `about ${Math.round(expected)} agent arrivals, more than ${MAX_ARRIVALS} in one run`,
    });
  if (tickMs > realSeconds * 1000)
    errors.push({
      field: 'spec.policies.tickMs',
      message: `${tickMs} is longer than the run (${realSeconds} s)`,
    });

  if (errors.length) return { ok: false, errors };
  return {
    ok: true,
    notes,
    scenario: {
      ...(spec.preset ? { preset: spec.preset } : {}),
      seed: spec.seed ?? 42,
      realSeconds,
      simHours,
      tickMs,
      windowTicks,
      requestTimeoutMs,
      policies,
      journeys,
      events,
      invariants,
    },
  };
};

/** The spawn multiplier at a sim minute: the product of the active RATE_LIMIT_BURST multipliers. */
export const spawnMultiplier = (events: readonly ResolvedEvent[], simMinute: number): number => {
  let m = 1;
  for (const e of events)
    if (e.type === 'RATE_LIMIT_BURST' && simMinute >= e.triggerAt && simMinute < e.triggerAt + e.duration)
      m *= num(e.parameters.multiplier) ?? 1;
  return m;
};

const expectedArrivals = (p: ResolvedPolicies, events: readonly ResolvedEvent[], simMinutes: number) => {
  let extra = 0;
  for (const e of events) {
    if (e.type !== 'RATE_LIMIT_BURST') continue;
    const m = num(e.parameters.multiplier) ?? 1;
    extra += Math.max(0, m - 1) * Math.min(e.duration, Math.max(0, simMinutes - e.triggerAt));
  }
  return (p.customerSpawnRate + p.vendorSpawnRate) * (simMinutes + extra);
};

export const formatFieldError = (e: FieldError): string => `${e.field}: ${e.message}`;
