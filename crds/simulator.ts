// Simulator: a versioned simulation environment definition (seed 000, plato-config.yml).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  type KindDefinition,
  LocalObjectReference,
  MapOf,
  Obj,
  Port,
  phaseColumn,
  readyColumn,
  StringEnum,
  StringMap,
  statusBase,
  withRules,
} from './common.ts';

export const Compute = Obj(
  {
    cpus: Type.Integer({ minimum: 1, default: 1, description: 'CPU cores.' }),
    memoryMiB: Type.Integer({ minimum: 64, default: 1024, description: 'Memory in MiB.' }),
    diskMiB: Type.Integer({ minimum: 64, default: 10240, description: 'Disk in MiB.' }),
    appPort: Port({ default: 80, description: 'Port the application listens on.' }),
    messagingPort: Type.Optional(Port({ description: 'Port of the messaging worker.' })),
  },
  { description: 'Resources the sandbox gets.' },
);

export const DatasetMetadata = Obj({
  displayName: Type.Optional(Type.String()),
  description: Type.Optional(Type.String()),
  startUrl: Type.String({ default: '/', description: 'Path the browser opens first.' }),
  flowsPath: Type.Optional(Type.String({ description: 'Flows file, relative to the repository.' })),
});

const SERVICE_TYPES = ['compose', 'process'] as const;
export const ServiceSpec = withRules(
  Obj(
    {
      type: StringEnum(SERVICE_TYPES, { description: 'compose: a docker-compose file; process: a command.' }),
      file: Type.Optional(
        Type.String({ description: 'compose: the compose file, relative to the repository.' }),
      ),
      command: Type.Optional(Type.String({ description: 'process: the executable.' })),
      args: Type.Optional(Type.Array(Type.String())),
      env: Type.Optional(
        StringMap({
          description:
            'Environment variables; `$(NAME)` expands an earlier one or SIMOPS_PORT_<LISTENER> (the port a listener gets).',
        }),
      ),
      envFrom: Type.Optional(
        Type.Array(
          Obj({
            secretRef: LocalObjectReference('A Secret in the namespace; every key becomes a variable.'),
          }),
          { description: 'Variables from Secrets; their values are never logged nor written to status.' },
        ),
      ),
      workingDir: Type.Optional(Type.String({ description: 'process: relative to the sandbox directory.' })),
    },
    { description: 'A service the sandbox starts.' },
  ),
  [
    {
      rule: "self.type != 'compose' || has(self.file)",
      message: 'a compose service needs file',
      check: (s) => s.type !== 'compose' || s.file !== undefined,
    },
    {
      rule: "self.type != 'process' || has(self.command)",
      message: 'a process service needs command',
      check: (s) => s.type !== 'process' || s.command !== undefined,
    },
  ],
);

export const Listener = Obj({
  name: Type.String({ minLength: 1 }),
  port: Port(),
  protocol: StringEnum(['http', 'tcp'], { default: 'http' }),
  path: Type.Optional(Type.String({ description: 'http: the path polled until it answers 2xx/3xx.' })),
});

export const Dataset = Obj({
  compute: Compute,
  metadata: Type.Optional(DatasetMetadata),
  services: Type.Optional(MapOf(ServiceSpec)),
  listeners: Type.Optional(Type.Array(Listener)),
});

const STEP_TYPES = [
  'navigate',
  'fill',
  'click',
  'wait',
  'screenshot',
  'verify_no_errors',
  'wait_for',
  'assert_text',
] as const;
export const FlowStep = withRules(
  Obj({
    type: StringEnum(STEP_TYPES),
    description: Type.Optional(Type.String()),
    url: Type.Optional(Type.String({ description: 'navigate: absolute, or a path on the sandbox.' })),
    selector: Type.Optional(
      Type.String({ description: 'fill, click, wait, wait_for, assert_text: a CSS selector.' }),
    ),
    value: Type.Optional(Type.String({ description: 'fill: the text typed.' })),
    text: Type.Optional(
      Type.String({
        description:
          'assert_text: the text the element (default body) must contain; wait_for: text to wait for.',
      }),
    ),
    state: Type.Optional(
      StringEnum(['visible', 'hidden', 'attached', 'detached'], {
        description: 'wait_for: the state the selector must reach (default visible).',
      }),
    ),
    duration: Type.Optional(Type.Integer({ minimum: 0, description: 'wait: milliseconds.' })),
    filename: Type.Optional(Type.String({ description: 'screenshot: the file name of the artifact.' })),
    timeoutMs: Type.Optional(Type.Integer({ minimum: 0 })),
  }),
  [
    {
      rule: "self.type != 'navigate' || has(self.url)",
      message: 'a navigate step needs url',
      check: (s) => s.type !== 'navigate' || s.url !== undefined,
    },
    {
      rule: "self.type != 'fill' || (has(self.selector) && has(self.value))",
      message: 'a fill step needs selector and value',
      check: (s) => s.type !== 'fill' || (s.selector !== undefined && s.value !== undefined),
    },
    {
      rule: "self.type != 'click' || has(self.selector)",
      message: 'a click step needs selector',
      check: (s) => s.type !== 'click' || s.selector !== undefined,
    },
    {
      rule: "self.type != 'wait' || has(self.duration) || has(self.selector)",
      message: 'a wait step needs duration or selector',
      check: (s) => s.type !== 'wait' || s.duration !== undefined || s.selector !== undefined,
    },
    {
      rule: "self.type != 'screenshot' || has(self.filename)",
      message: 'a screenshot step needs filename',
      check: (s) => s.type !== 'screenshot' || s.filename !== undefined,
    },
    {
      rule: "self.type != 'wait_for' || has(self.selector) || has(self.text) || has(self.url)",
      message: 'a wait_for step needs selector, text or url',
      check: (s) => s.type !== 'wait_for' || countSet(s.selector, s.text, s.url) > 0,
    },
    {
      rule: "self.type != 'assert_text' || has(self.text)",
      message: 'an assert_text step needs text',
      check: (s) => s.type !== 'assert_text' || s.text !== undefined,
    },
  ],
);

export const Flow = Obj({
  name: Type.String({ minLength: 1 }),
  description: Type.Optional(Type.String()),
  steps: Type.Array(FlowStep, { minItems: 1 }),
});

export const Review = Obj({
  artifact: Type.String({ minLength: 1, description: 'The artifact id under review.' }),
  decision: StringEnum(['pending', 'approved', 'rejected'], { default: 'pending' }),
  reviewer: Type.Optional(Type.String()),
  comment: Type.Optional(Type.String()),
});

export const SimulatorSpec = Obj({
  service: Type.String({ minLength: 1, description: 'The simulator name, as in `mysim:prod-latest`.' }),
  target: Type.Optional(Type.String({ description: 'Host name the simulated application answers to.' })),
  datasets: MapOf(Dataset, { minProperties: 1, description: 'Datasets by name (`base`, ...).' }),
  flows: Type.Optional(Type.Array(Flow, { description: 'Flows defined inline (in addition to flowsPath).' })),
  reviews: Type.Optional(Obj({ base: Type.Optional(Review), data: Type.Optional(Review) })),
});

export const SIMULATOR_PHASES = [
  'Setup',
  'Development',
  'BaseReview',
  'DataLayer',
  'DataReview',
  'Production',
] as const;

export const ARTIFACT_LAYERS = ['base', 'data'] as const;

export const Artifact = Obj({
  id: Type.String(),
  dataset: Type.String(),
  digest: Type.String({ description: 'sha256 of the snapshot content.' }),
  layer: StringEnum(ARTIFACT_LAYERS, {
    default: 'base',
    description: 'base: the environment (phase 2); data: the environment with seeded data (phase 4).',
  }),
  created: Type.String({ format: 'date-time' }),
  sourceSandbox: Type.Optional(Type.String()),
  verified: Type.Boolean({ default: false }),
  verifiedBy: Type.Optional(
    Type.String({ description: 'The sandbox, started from this artifact, whose flows passed.' }),
  ),
  verifiedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export const Tag = Obj({ artifact: Type.String(), digest: Type.String() });

export const SimulatorStatus = Obj({
  ...statusBase,
  phase: Type.Optional(StringEnum(SIMULATOR_PHASES)),
  configHash: Type.Optional(Type.String()),
  artifacts: Type.Optional(Type.Array(Artifact)),
  tags: Type.Optional(MapOf(Tag)),
  reviewComment: Type.Optional(Type.String()),
  flows: Type.Optional(Type.Array(Type.String(), { description: 'The flows the config defines, by name.' })),
  revision: Type.Optional(Type.String({ description: 'The GitSource revision the config was read at.' })),
});

export type SimulatorSpec = Static<typeof SimulatorSpec>;
export type SimulatorStatus = Static<typeof SimulatorStatus>;

export const simulator: KindDefinition = {
  kind: 'Simulator',
  plural: 'simulators',
  singular: 'simulator',
  shortNames: ['sim'],
  description: 'A versioned simulation environment: datasets, services, listeners, flows and reviews.',
  spec: SimulatorSpec,
  status: SimulatorStatus,
  printerColumns: [
    { name: 'Service', type: 'string', jsonPath: '.spec.service' },
    phaseColumn,
    readyColumn,
    { name: 'Production', type: 'string', jsonPath: '.status.tags.prod-latest.artifact' },
    { name: 'Digest', type: 'string', jsonPath: '.status.tags.prod-latest.digest', priority: 1 },
    ageColumn,
  ],
};
