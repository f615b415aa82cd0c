// Sandbox: a running instance of a Simulator (seed 000; shape after agent-sandbox and E2B).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  type KindDefinition,
  LocalObjectReference,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  statusBase,
  withRules,
} from './common.ts';

export const SandboxSource = withRules(
  Obj(
    {
      config: Type.Optional(
        Type.Boolean({ description: "Start from the Simulator's config (`--from-config`)." }),
      ),
      artifact: Type.Optional(Type.String({ minLength: 1, description: 'Start from this artifact id.' })),
      tag: Type.Optional(Type.String({ minLength: 1, description: 'Start from a tag, e.g. `prod-latest`.' })),
    },
    { description: 'Where the sandbox starts from: exactly one of config, artifact, tag.' },
  ),
  [
    {
      rule: '(has(self.config) && self.config ? 1 : 0) + (has(self.artifact) ? 1 : 0) + (has(self.tag) ? 1 : 0) == 1',
      message: 'exactly one of config, artifact, tag must be set',
      check: (s) => countSet(s.config, s.artifact, s.tag) === 1,
    },
  ],
);

export const SandboxSpec = Obj({
  simulatorRef: LocalObjectReference('The Simulator this sandbox runs.'),
  dataset: Type.String({ default: 'base', description: "The Simulator's dataset." }),
  source: Type.Optional(SandboxSource),
  runtime: StringEnum(['process', 'kubernetes'], {
    default: 'process',
    description: 'process: child processes on this host; kubernetes: one Pod.',
  }),
  timeoutSeconds: Type.Integer({
    minimum: 0,
    default: 3600,
    description: 'The sandbox expires this long after the last heartbeat; 0 never expires.',
  }),
  heartbeatIntervalSeconds: Type.Integer({ minimum: 1, default: 30 }),
  flows: Type.Optional(Type.Array(Type.String(), { description: 'Flows run once the sandbox is Ready.' })),
  snapshot: Type.Optional(
    Obj(
      {
        requestedAt: Type.String({ minLength: 1, description: 'A new value requests a new snapshot.' }),
        dataset: Type.Optional(Type.String()),
      },
      { description: 'Snapshot request; the result is in status.lastSnapshot.' },
    ),
  ),
  operatingMode: StringEnum(['Running', 'Stopped'], { default: 'Running' }),
});

export const SANDBOX_PHASES = ['Pending', 'Starting', 'Running', 'Stopped', 'Failed', 'Expired'] as const;

export const ServiceState = Obj({
  name: Type.String(),
  state: StringEnum(['Starting', 'Running', 'Restarting', 'Failed', 'Stopped']),
  restarts: Type.Integer({ minimum: 0, default: 0 }),
  message: Type.Optional(Type.String()),
});

export const FlowRun = Obj({
  flow: Type.String(),
  result: StringEnum(['Running', 'Passed', 'Failed']),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  message: Type.Optional(Type.String()),
  screenshots: Type.Optional(Type.Array(Type.String())),
});

export const SandboxStatus = Obj({
  ...statusBase,
  phase: Type.Optional(StringEnum(SANDBOX_PHASES)),
  endpoint: Type.Optional(Type.String()),
  resolvedSource: Type.Optional(
    Obj({
      artifact: Type.Optional(Type.String()),
      digest: Type.Optional(Type.String()),
      configHash: Type.Optional(Type.String()),
    }),
  ),
  services: Type.Optional(Type.Array(ServiceState)),
  flowRuns: Type.Optional(Type.Array(FlowRun)),
  lastSnapshot: Type.Optional(
    Obj({
      artifact: Type.String(),
      digest: Type.String(),
      created: Type.String({ format: 'date-time' }),
      requestedAt: Type.Optional(Type.String()),
    }),
  ),
  lastHeartbeat: Type.Optional(Type.String({ format: 'date-time' })),
  expiresAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export type SandboxSpec = Static<typeof SandboxSpec>;
export type SandboxStatus = Static<typeof SandboxStatus>;

export const sandbox: KindDefinition = {
  kind: 'Sandbox',
  plural: 'sandboxes',
  singular: 'sandbox',
  shortNames: ['sbx'],
  description: 'A running instance of a Simulator, started from its config, an artifact or a tag.',
  spec: SandboxSpec,
  status: SandboxStatus,
  printerColumns: [
    { name: 'Simulator', type: 'string', jsonPath: '.spec.simulatorRef.name' },
    phaseColumn,
    readyColumn,
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint' },
    { name: 'Runtime', type: 'string', jsonPath: '.spec.runtime', priority: 1 },
    ageColumn,
  ],
};
