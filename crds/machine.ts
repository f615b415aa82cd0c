// Machine: a simulated (or live) lab machine (seed 001; phases after Cluster API).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  FreeForm,
  type KindDefinition,
  MapOf,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  statusBase,
  withRules,
} from './common.ts';

/** The 15 categories of seed 001, by their PyLabRobot frontend class name. */
export const MACHINE_CATEGORIES = [
  'LiquidHandler',
  'PlateReader',
  'HeaterShaker',
  'Shaker',
  'TemperatureController',
  'Centrifuge',
  'Thermocycler',
  'Pump',
  'PumpArray',
  'Fan',
  'Sealer',
  'Peeler',
  'PowderDispenser',
  'Incubator',
  'SCARA',
] as const;

/** Any JSON value, kept as written (a canned result can be a number, a list, an object…). */
const AnyValue = (description: string) =>
  Type.Unsafe<unknown>({ 'x-kubernetes-preserve-unknown-fields': true, description });

const has = (o: object, k: string) => Object.hasOwn(o, k);

/** What the simulated device answers to one operation: a result, a sequence, or an error. */
export const CannedResponse = withRules(
  Obj({
    result: Type.Optional(AnyValue('Returned as the result of every call.')),
    sequence: Type.Optional(
      Type.Array(AnyValue('One result.'), {
        minItems: 1,
        description: 'Returned in turn, one per call; the last one repeats.',
      }),
    ),
    error: Type.Optional(Type.String({ minLength: 1, description: 'Every call fails with this message.' })),
  }),
  [
    {
      rule: '[has(self.result), has(self.sequence), has(self.error)].filter(x, x).size() == 1',
      message: 'exactly one of result, sequence, error must be set',
      check: (s) => ['result', 'sequence', 'error'].filter((k) => has(s, k)).length === 1,
    },
  ],
);

export const MachineSpec = withRules(
  Obj({
    // Not an enum: the catalog can be extended from git (a ConfigMap) without a release.
    category: Type.String({
      pattern: '^[A-Z][A-Za-z0-9]*$',
      description: `Machine category, one of the catalog's: ${MACHINE_CATEGORIES.join(', ')}.`,
    }),
    simulated: Type.Boolean({ default: true, description: 'false binds a real device (live mode).' }),
    backend: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Simulation backend: a short name (`chatterbox`) or an FQN.',
      }),
    ),
    definition: Type.Optional(
      Type.String({
        description: 'Legacy: a specific simulated definition FQN; migrated to the category form.',
      }),
    ),
    connectionInfo: Type.Optional(
      FreeForm({ description: 'Live: host and port; legacy: backend_fqn. Free-form, as the seed keeps it.' }),
    ),
    location: Type.Optional(Type.String()),
    simulation: Type.Optional(
      Obj({
        responses: Type.Optional(
          MapOf(CannedResponse, {
            description:
              'Canned responses of the command endpoint, by operation name (e.g. read_absorbance).',
          }),
        ),
      }),
    ),
    checkIntervalSeconds: Type.Integer({
      minimum: 1,
      default: 30,
      description: 'Live: seconds between reachability checks (a TCP connect to host:port).',
    }),
  }),
  [
    {
      rule: 'self.simulated || has(self.connectionInfo)',
      message: 'a live machine (simulated: false) needs connectionInfo',
      check: (s) => s.simulated !== false || s.connectionInfo !== undefined,
    },
  ],
);

export const MACHINE_PHASES = [
  'Pending',
  'Provisioning',
  'Running',
  'Unreachable',
  'Failed',
  'Deleting',
] as const;

export const MachineStatus = Obj({
  ...statusBase,
  phase: Type.Optional(Type.String()),
  mode: Type.Optional(StringEnum(['simulated', 'live'], { description: 'simulated or live.' })),
  definition: Type.Optional(Obj({ name: Type.String(), fqn: Type.String(), frontendFqn: Type.String() })),
  backend: Type.Optional(Obj({ name: Type.String(), fqn: Type.String() })),
  migratedFrom: Type.Optional(
    Obj({ definition: Type.Optional(Type.String()), backendFqn: Type.Optional(Type.String()) }),
  ),
  endpoint: Type.Optional(Type.String({ description: 'Command endpoint of a simulated machine.' })),
});

export type MachineSpec = Static<typeof MachineSpec>;
export type MachineStatus = Static<typeof MachineStatus>;

export const machine: KindDefinition = {
  kind: 'Machine',
  plural: 'machines',
  singular: 'machine',
  shortNames: ['mach'],
  description: 'A lab machine of one category, simulated with a backend chosen per machine, or live.',
  spec: MachineSpec,
  status: MachineStatus,
  printerColumns: [
    { name: 'Category', type: 'string', jsonPath: '.spec.category' },
    { name: 'Backend', type: 'string', jsonPath: '.status.backend.name' },
    { name: 'Mode', type: 'string', jsonPath: '.status.mode' },
    readyColumn,
    { ...phaseColumn, priority: 1 },
    { name: 'Location', type: 'string', jsonPath: '.spec.location', priority: 1 },
    { name: 'Endpoint', type: 'string', jsonPath: '.status.endpoint', priority: 1 },
    ageColumn,
  ],
};
