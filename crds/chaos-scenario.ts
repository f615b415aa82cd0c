// ChaosScenario: seeded traffic and timed faults against a target, judged by invariants (seed 004).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  Duration,
  FreeForm,
  type KindDefinition,
  LocalObjectReference,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  statusBase,
  withRules,
} from './common.ts';

export const CHAOS_PRESETS = ['baseline', 'growth-curve', 'disaster-mix', 'vendor-sla', 'soak'] as const;

export const ChaosTarget = withRules(
  Obj({
    sandboxRef: Type.Optional(LocalObjectReference('A Sandbox whose endpoint is the target.')),
    url: Type.Optional(Type.String({ pattern: '^https?://', description: 'An explicit base URL.' })),
    chaosHookUrl: Type.Optional(
      Type.String({ description: 'Where application events are delivered (signed webhook).' }),
    ),
    metricsUrl: Type.Optional(
      Type.String({ description: 'JSON or Prometheus endpoint of business metrics.' }),
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
  customerSpawnRate: Type.Optional(Type.Number({ minimum: 0, description: 'Agents per sim minute.' })),
  vendorSpawnRate: Type.Optional(Type.Number({ minimum: 0 })),
  maxConcurrentAgents: Type.Optional(Type.Integer({ minimum: 1 })),
  tickMs: Type.Optional(Type.Integer({ minimum: 10, description: 'Real milliseconds per tick.' })),
  rescheduleChance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  cancelChance: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
});

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'] as const;
export const JourneyStep = Obj({
  name: Type.String({ minLength: 1 }),
  method: StringEnum(METHODS, { default: 'GET' }),
  path: Type.String({ pattern: '^/', description: 'Path on the target.' }),
  body: Type.Optional(FreeForm({ description: 'JSON body; `{{agent.id}}`-style fields are filled in.' })),
  expectStatus: Type.Optional(Type.Array(Type.Integer({ minimum: 100, maximum: 599 }))),
  thinkTimeMs: Type.Integer({ minimum: 0, default: 0 }),
  choice: Type.Optional(
    StringEnum(['cancel', 'reschedule'], { description: 'Taken with the policy probability only.' }),
  ),
});

export const Journey = Obj({
  name: Type.String({ minLength: 1 }),
  agent: StringEnum(['customer', 'vendor'], { default: 'customer' }),
  weight: Type.Number({ minimum: 0, default: 1 }),
  steps: Type.Array(JourneyStep, { minItems: 1 }),
});

export const ChaosEvent = Obj({
  type: Type.String({
    minLength: 1,
    description:
      'LATENCY, ERRORS, RESET_PEER, BANDWIDTH, TIMEOUT, RATE_LIMIT_BURST, or an application event such as CACHE_INVALIDATION_STORM.',
  }),
  triggerAt: Type.Number({ minimum: 0, description: 'Sim minutes from the start.' }),
  duration: Type.Number({ minimum: 0, description: 'Sim minutes.' }),
  parameters: Type.Optional(FreeForm()),
});

export const Invariant = Obj({
  name: Type.String({ minLength: 1 }),
  metric: Type.String({
    minLength: 1,
    description: 'p95_latency_ms, error_rate, or a business metric name.',
  }),
  op: StringEnum(['<', '<=', '>', '>=', '==', '!=']),
  threshold: Type.Number(),
  severity: StringEnum(['critical', 'warning'], { default: 'critical' }),
  abortOnFail: Type.Boolean({ default: false }),
  breachWindow: Type.Optional(Duration({ description: 'abortOnFail waits for a breach this long.' })),
});

export const ChaosScenarioSpec = Obj({
  target: ChaosTarget,
  preset: Type.Optional(StringEnum(CHAOS_PRESETS)),
  seed: Type.Integer({ minimum: 0, default: 42 }),
  duration: Type.Optional(
    Obj({ realSeconds: Type.Number({ minimum: 1 }), simHours: Type.Number({ minimum: 0.01 }) }),
  ),
  policies: Type.Optional(Policies),
  journeys: Type.Optional(Type.Array(Journey)),
  events: Type.Optional(Type.Array(ChaosEvent)),
  invariants: Type.Optional(Type.Array(Invariant)),
  state: StringEnum(['Active', 'Stopped'], { default: 'Active', description: 'Stopped is the kill switch.' }),
});

export const CHAOS_PHASES = [
  'Pending',
  'Running',
  'Passed',
  'Failed',
  'Aborted',
  'Stopped',
  'Error',
] as const;

export const Violation = Obj({
  invariant: Type.String(),
  metric: Type.String(),
  op: Type.String(),
  threshold: Type.Number(),
  observed: Type.Number(),
  severity: Type.String(),
  atSimMinute: Type.Number(),
});

export const ChaosScenarioStatus = Obj({
  ...statusBase,
  phase: Type.Optional(StringEnum(CHAOS_PHASES)),
  runId: Type.Optional(Type.String()),
  progress: Type.Optional(Obj({ simMinutes: Type.Number(), percent: Type.Integer() })),
  summary: Type.Optional(
    Obj({
      requests: Type.Integer(),
      errors: Type.Integer(),
      errorRate: Type.Number(),
      p50Ms: Type.Number(),
      p95Ms: Type.Number(),
      p99Ms: Type.Number(),
      throughputRps: Type.Number(),
      agentsSpawned: Type.Integer(),
      violations: Type.Integer(),
    }),
  ),
  violations: Type.Optional(Type.Array(Violation)),
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
    readyColumn,
    { name: 'Progress', type: 'integer', jsonPath: '.status.progress.percent' },
    { name: 'Violations', type: 'integer', jsonPath: '.status.summary.violations' },
    { name: 'P95(ms)', type: 'number', jsonPath: '.status.summary.p95Ms', priority: 1 },
    ageColumn,
  ],
};
