// ChaosScenario: seeded traffic and timed faults against a target, judged by invariants (seed 004).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  Duration,
  FreeForm,
  type KindDefinition,
  LocalObjectReference,
  NAME_PATTERN,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  statusBase,
  withRules,
} from './common.ts';

export const CHAOS_PRESETS = ['baseline', 'growth-curve', 'disaster-mix', 'vendor-sla', 'soak'] as const;

export const SecretKeyReference = Obj(
  {
    name: Type.String({ pattern: NAME_PATTERN, maxLength: 253, description: 'A Secret in the namespace.' }),
    key: Type.String({ minLength: 1, default: 'secret', description: 'The key holding the value.' }),
  },
  { description: 'A key of a Secret in the same namespace.' },
);

export const ChaosTarget = withRules(
  Obj({
    sandboxRef: Type.Optional(
      LocalObjectReference('A Sandbox whose status.endpoint is the target; the run waits until it has one.'),
    ),
    url: Type.Optional(Type.String({ pattern: '^https?://', description: 'An explicit base URL.' })),
    chaosHookUrl: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'Where application events are delivered (a signed webhook): a URL, or a path on the target (default /api/chaos).',
      }),
    ),
    chaosHookSecretRef: Type.Optional(SecretKeyReference),
    metricsUrl: Type.Optional(
      Type.String({
        minLength: 1,
        description:
          'JSON or Prometheus endpoint of business metrics: a URL, or a path on the target (default /metrics.json).',
      }),
    ),
    allowExternal: Type.Boolean({
      default: false,
      description: 'Allow a target outside loopback and the cluster; off by default for safety.',
    }),
  }),
  [
    {
      rule: '(has(self.sandboxRef) ? 1 : 0) + (has(self.url) ? 1 : 0) == 1',
      message: 'exactly one of sandboxRef, url must be set',
      check: (s) => countSet(s.sandboxRef, s.url) === 1,
    },
  ],
);

export const Policies = Obj({
  customerSpawnRate: Type.Optional(
    Type.Number({ minimum: 0, description: 'Customer agents per sim minute.' }),
  ),
  vendorSpawnRate: Type.Optional(Type.Number({ minimum: 0, description: 'Vendor agents per sim minute.' })),
  maxConcurrentAgents: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Arrivals beyond this many running agents are turned away.' }),
  ),
  tickMs: Type.Optional(Type.Integer({ minimum: 10, description: 'Real milliseconds per tick.' })),
  rescheduleChance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  cancelChance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  requestTimeoutMs: Type.Optional(
    Type.Integer({ minimum: 1, description: 'A request without an answer after this long is a timeout.' }),
  ),
  windowTicks: Type.Optional(
    Type.Integer({ minimum: 1, description: 'Invariants are evaluated over the last this many ticks.' }),
  ),
});

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const JourneyStep = Obj({
  name: Type.String({ minLength: 1 }),
  method: StringEnum(METHODS, { default: 'GET' }),
  path: Type.String({
    pattern: '^/',
    description: 'Path on the target; `{{agent.id}}`, `{{last.<field>}}` and the like are filled in.',
  }),
  body: Type.Optional(
    FreeForm({ description: 'JSON body; `{{agent.id}}`-style strings are filled in (see docs/chaos.md).' }),
  ),
  expectStatus: Type.Optional(
    Type.Array(Type.Integer({ minimum: 100, maximum: 599 }), {
      description: 'Statuses that count as success (default: 2xx and 3xx).',
    }),
  ),
  thinkTimeMs: Type.Integer({ minimum: 0, default: 0, description: 'Real milliseconds before the step.' }),
  choice: Type.Optional(
    StringEnum(['cancel', 'reschedule'], {
      description: 'Taken only with the policy probability (cancelChance, rescheduleChance).',
    }),
  ),
});

export const Journey = Obj({
  name: Type.String({ minLength: 1 }),
  agent: StringEnum(['customer', 'vendor'], { default: 'customer' }),
  weight: Type.Number({ minimum: 0, default: 1 }),
  steps: Type.Array(JourneyStep, { minItems: 1 }),
});

export const FAULT_EVENTS = ['LATENCY', 'ERRORS', 'RESET_PEER', 'BANDWIDTH', 'TIMEOUT'] as const;
export const TRAFFIC_EVENTS = ['RATE_LIMIT_BURST'] as const;

export const ChaosEvent = Obj({
  type: Type.String({
    minLength: 1,
    pattern: '^[A-Z][A-Z0-9_]*$',
    description:
      'A fault (LATENCY, ERRORS, RESET_PEER, BANDWIDTH, TIMEOUT), RATE_LIMIT_BURST, or an application event such as CACHE_INVALIDATION_STORM (delivered to the chaos hook).',
  }),
  triggerAt: Type.Number({ minimum: 0, description: 'Sim minutes from the start.' }),
  duration: Type.Number({ minimum: 0, description: 'Sim minutes.' }),
  parameters: Type.Optional(FreeForm()),
});

export const Invariant = Obj({
  name: Type.String({ minLength: 1, description: 'Merged by name with the preset invariant of that name.' }),
  metric: Type.Optional(
    Type.String({
      minLength: 1,
      description:
        'p50_latency_ms, p95_latency_ms, p99_latency_ms, error_rate, throughput_rps, tick_drift_ms, memory_usage, or a business metric of the target.',
    }),
  ),
  op: Type.Optional(StringEnum(['<', '<=', '>', '>=', '==', '!='])),
  threshold: Type.Optional(Type.Number()),
  severity: Type.Optional(StringEnum(['critical', 'warning'], { description: 'Default critical.' })),
  abortOnFail: Type.Optional(Type.Boolean({ description: 'Stop the run after a sustained breach.' })),
  breachWindow: Type.Optional(
    Duration({ description: 'abortOnFail waits for a breach this long (default: the evaluation window).' }),
  ),
  disabled: Type.Optional(Type.Boolean({ description: "Drop the preset's invariant of this name." })),
});

export const ChaosScenarioSpec = Obj({
  target: ChaosTarget,
  preset: Type.Optional(StringEnum(CHAOS_PRESETS)),
  seed: Type.Integer({ minimum: 0, default: 42 }),
  duration: Type.Optional(
    Obj(
      {
        realSeconds: Type.Optional(Type.Number({ minimum: 1 })),
        simHours: Type.Optional(Type.Number({ minimum: 0.01 })),
      },
      { description: "Either or both; the rest from the preset. The preset's events scale with simHours." },
    ),
  ),
  policies: Type.Optional(Policies),
  journeys: Type.Optional(Type.Array(Journey, { description: 'Replace the default journeys.' })),
  events: Type.Optional(Type.Array(ChaosEvent, { description: "Replace the preset's events." })),
  invariants: Type.Optional(Type.Array(Invariant)),
  state: StringEnum(['Active', 'Stopped'], { default: 'Active', description: 'Stopped is the kill switch.' }),
});

export const CHAOS_PHASES = ['Pending', 'Running', 'Passed', 'Failed', 'Stopped', 'Error'] as const;

export const Violation = Obj({
  invariant: Type.String(),
  metric: Type.String(),
  op: Type.String(),
  threshold: Type.Number(),
  observed: Type.Number(),
  severity: Type.String(),
  atSimMinute: Type.Number(),
  simTime: Type.String({ description: 'The sim time of the first breach, as H:MM.' }),
  during: Type.Optional(Type.Array(Type.String(), { description: 'Events active at that time.' })),
  at: StringEnum(['continuous', 'end']),
  seed: Type.Integer(),
  runId: Type.String(),
});

export const InvariantResult = Obj({
  name: Type.String(),
  metric: Type.String(),
  op: Type.String(),
  threshold: Type.Number(),
  severity: Type.String(),
  value: Type.Optional(Type.Number()),
  verdict: StringEnum(['Pass', 'Fail', 'NoData']),
});

export const ChaosScenarioStatus = Obj({
  ...statusBase,
  phase: Type.Optional(StringEnum(CHAOS_PHASES)),
  runId: Type.Optional(Type.String()),
  seed: Type.Optional(Type.Integer()),
  scheduleDigest: Type.Optional(
    Type.String({ description: 'sha256 of the agent arrivals, journey choices and events.' }),
  ),
  target: Type.Optional(Type.String({ description: 'The URL the agents use.' })),
  progress: Type.Optional(
    Obj({
      simMinutes: Type.Number(),
      simTime: Type.String({ description: 'Sim time elapsed / total, as H:MM/H:MM.' }),
      percent: Type.Integer(),
      realSeconds: Type.Number(),
      agents: Type.Integer({ description: 'Running agents.' }),
      agentsSpawned: Type.Integer(),
      requests: Type.Integer(),
      p95Ms: Type.Optional(Type.Number({ description: 'Over the evaluation window; at the end, the run.' })),
      errorRate: Type.Number(),
      errors: Type.String({ description: 'Error count and rate, for the column.' }),
      violations: Type.Integer(),
    }),
  ),
  summary: Type.Optional(
    Obj({
      verdict: StringEnum(['Passed', 'Failed', 'Stopped']),
      message: Type.String(),
      requests: Type.Integer(),
      errors: Type.Integer(),
      errorRate: Type.Number(),
      resets: Type.Integer(),
      timeouts: Type.Integer(),
      p50Ms: Type.Number(),
      p95Ms: Type.Number(),
      p99Ms: Type.Number(),
      throughputRps: Type.Number(),
      tickDriftP99Ms: Type.Number(),
      agentsSpawned: Type.Integer(),
      agentsThrottled: Type.Integer(),
      simMinutes: Type.Number(),
      realSeconds: Type.Number(),
      aborted: Type.Optional(Type.String({ description: 'The invariant that aborted the run.' })),
      violations: Type.Integer(),
      invariants: Type.Array(InvariantResult),
    }),
  ),
  violations: Type.Optional(Type.Array(Violation, { description: 'The first 50; summary.json has all.' })),
  artifacts: Type.Optional(
    Obj({
      location: Type.String(),
      summary: Type.String(),
      timeline: Type.String(),
      chart: Type.String(),
    }),
  ),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export type ChaosScenarioSpec = Static<typeof ChaosScenarioSpec>;
export type ChaosScenarioStatus = Static<typeof ChaosScenarioStatus>;

export const chaosScenario: KindDefinition = {
  kind: 'ChaosScenario',
  plural: 'chaosscenarios',
  singular: 'chaosscenario',
  shortNames: ['chaos'],
  description: 'A seeded chaos scenario against a target, with invariants as pass/fail gates.',
  spec: ChaosScenarioSpec,
  status: ChaosScenarioStatus,
  printerColumns: [
    { name: 'Preset', type: 'string', jsonPath: '.spec.preset' },
    phaseColumn,
    { name: 'Sim time', type: 'string', jsonPath: '.status.progress.simTime' },
    { name: 'P95(ms)', type: 'number', jsonPath: '.status.progress.p95Ms' },
    { name: 'Errors', type: 'string', jsonPath: '.status.progress.errors' },
    { name: 'Violations', type: 'integer', jsonPath: '.status.progress.violations' },
    readyColumn,
    { name: 'Seed', type: 'integer', jsonPath: '.status.seed', priority: 1 },
    { name: 'Run', type: 'string', jsonPath: '.status.runId', priority: 1 },
    ageColumn,
  ],
};
