// Sandbox: a running instance of a Simulator (seed 000; shape after agent-sandbox and E2B).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  FreeForm,
  type KindDefinition,
  LocalObjectReference,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  StringMap,
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

export const SeedStep = withRules(
  Obj(
    {
      name: Type.Optional(Type.String({ description: 'For status and messages.' })),
      http: Type.Optional(
        Obj(
          {
            method: StringEnum(['GET', 'POST', 'PUT', 'PATCH', 'DELETE'], { default: 'POST' }),
            path: Type.String({ pattern: '^/', description: 'A path on the sandbox endpoint.' }),
            json: Type.Optional(FreeForm({ description: 'A JSON body.' })),
            body: Type.Optional(Type.String({ description: 'A text body.' })),
            headers: Type.Optional(StringMap()),
            expectStatus: Type.Optional(
              Type.Integer({ minimum: 100, maximum: 599, description: 'Default: any 2xx.' }),
            ),
          },
          { description: 'A request to the application (API seeding).' },
        ),
      ),
      command: Type.Optional(
        Obj(
          {
            command: Type.String({ minLength: 1 }),
            args: Type.Optional(Type.Array(Type.String())),
            env: Type.Optional(StringMap()),
          },
          { description: 'A command in the sandbox working directory (process runtime).' },
        ),
      ),
    },
    { description: 'A data seeding step (phase 4): run once, after the sandbox is Ready.' },
  ),
  [
    {
      rule: '(has(self.http) ? 1 : 0) + (has(self.command) ? 1 : 0) == 1',
      message: 'exactly one of http, command must be set',
      check: (s) => countSet(s.http, s.command) === 1,
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
  heartbeatIntervalSeconds: Type.Integer({
    minimum: 1,
    default: 30,
    description: 'How often the listeners of a Ready sandbox are checked again.',
  }),
  flows: Type.Optional(Type.Array(Type.String(), { description: 'Flows run once the sandbox is Ready.' })),
  seed: Type.Optional(Type.Array(SeedStep, { description: 'Data seeding steps, run once when Ready.' })),
  snapshot: Type.Optional(
    Obj(
      {
        requestedAt: Type.String({ minLength: 1, description: 'A new value requests a new snapshot.' }),
        dataset: Type.Optional(Type.String()),
        layer: Type.Optional(
          StringEnum(['base', 'data'], {
            description: 'Default: data when the sandbox seeds data or starts from a data artifact or a tag.',
          }),
        ),
      },
      { description: 'Snapshot request; the result is in status.lastSnapshot.' },
    ),
  ),
  operatingMode: StringEnum(['Running', 'Stopped'], { default: 'Running' }),
});

export const SANDBOX_PHASES = [
  'Pending',
  'Provisioning',
  'StartingServices',
  'Ready',
  'Seeding',
  'RunningFlows',
  'Snapshotting',
  'Stopped',
  'Expired',
  'Failed',
] as const;

export const ServiceState = Obj({
  name: Type.String(),
  state: StringEnum(['Starting', 'Running', 'Restarting', 'Failed', 'Stopped']),
  restarts: Type.Integer({ minimum: 0, default: 0 }),
  message: Type.Optional(Type.String()),
  log: Type.Optional(Type.String({ description: 'The log artifact of the service (process runtime).' })),
});

export const StepResult = Obj({
  index: Type.Integer({ minimum: 1 }),
  type: Type.String(),
  description: Type.Optional(Type.String()),
  result: StringEnum(['Passed', 'Failed', 'Skipped']),
  durationMs: Type.Integer({ minimum: 0 }),
  message: Type.Optional(Type.String()),
  screenshot: Type.Optional(Type.String()),
});

export const FlowRun = Obj({
  id: Type.Optional(Type.String()),
  flow: Type.String(),
  result: StringEnum(['Running', 'Passed', 'Failed']),
  trigger: Type.Optional(
    StringEnum(['spec', 'annotation'], {
      description: 'spec.flows, or the simops.dev/run-flows annotation.',
    }),
  ),
  startedAt: Type.String({ format: 'date-time' }),
  finishedAt: Type.Optional(Type.String({ format: 'date-time' })),
  durationMs: Type.Optional(Type.Integer({ minimum: 0 })),
  message: Type.Optional(Type.String()),
  screenshots: Type.Optional(Type.Array(Type.String())),
  steps: Type.Optional(Type.Array(StepResult)),
  artifacts: Type.Optional(
    Type.String({ description: 'The directory of the run: screenshots, result.json.' }),
  ),
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
  flowRuns: Type.Optional(Type.Array(FlowRun, { description: 'The latest flow runs, newest last.' })),
  lastHandledRunFlows: Type.Optional(
    Type.String({ description: 'The simops.dev/run-flows annotation value last acted on.' }),
  ),
  seed: Type.Optional(
    Obj({
      result: StringEnum(['Running', 'Passed', 'Failed']),
      steps: Type.Integer({ minimum: 0 }),
      completedAt: Type.Optional(Type.String({ format: 'date-time' })),
      message: Type.Optional(Type.String()),
    }),
  ),
  lastSnapshot: Type.Optional(
    Obj({
      artifact: Type.String(),
      digest: Type.String(),
      layer: Type.Optional(StringEnum(['base', 'data'])),
      created: Type.String({ format: 'date-time' }),
      requestedAt: Type.Optional(Type.String()),
    }),
  ),
  workDir: Type.Optional(Type.String({ description: 'The working directory (process runtime).' })),
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
