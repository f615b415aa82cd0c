// SimulationRun: a FlowTime-style run from a template, parameters and a seed (seed 002).
import { type Static, Type } from '@sinclair/typebox';
import {
  ageColumn,
  countSet,
  FreeForm,
  type KindDefinition,
  Obj,
  phaseColumn,
  readyColumn,
  StringEnum,
  statusBase,
  withRules,
} from './common.ts';

export const TemplateSource = withRules(
  Obj(
    {
      inline: Type.Optional(FreeForm({ description: 'The template itself (FlowTime template shape).' })),
      path: Type.Optional(Type.String({ minLength: 1, description: 'A file in the GitSource repository.' })),
      configMapRef: Type.Optional(
        Obj({ name: Type.String({ minLength: 1 }), key: Type.String({ default: 'template.yaml' }) }),
      ),
    },
    { description: 'Where the template comes from: exactly one of inline, path, configMapRef.' },
  ),
  [
    {
      rule: '(has(self.inline) ? 1 : 0) + (has(self.path) ? 1 : 0) + (has(self.configMapRef) ? 1 : 0) == 1',
      message: 'exactly one of inline, path, configMapRef must be set',
      check: (s) => countSet(s.inline, s.path, s.configMapRef) === 1,
    },
  ],
);

export const SimulationRunSpec = Obj({
  template: TemplateSource,
  templateId: Type.String({ pattern: '^[A-Za-z0-9][-A-Za-z0-9_.]*$', description: "The template's id." }),
  mode: StringEnum(['simulation', 'telemetry'], { default: 'simulation' }),
  parameters: Type.Optional(FreeForm({ description: 'Parameter values by name, overriding defaults.' })),
  rng: Type.Optional(
    Obj({
      kind: StringEnum(['pcg32'], { default: 'pcg32' }),
      seed: Type.Integer({ minimum: 0, default: 0 }),
    }),
  ),
  deterministicRunId: Type.Boolean({ default: true }),
  runId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9][-A-Za-z0-9_]*$' })),
  overwriteExisting: Type.Boolean({ default: false }),
  dryRun: Type.Boolean({ default: false, description: 'Validate and report the plan only.' }),
});

export const SIMULATION_RUN_PHASES = ['Pending', 'Validating', 'Running', 'Succeeded', 'Failed'] as const;

export const SimulationRunStatus = Obj({
  ...statusBase,
  phase: Type.Optional(StringEnum(SIMULATION_RUN_PHASES)),
  runId: Type.Optional(Type.String()),
  warnings: Type.Optional(
    Type.Array(Obj({ code: Type.String(), message: Type.String(), nodeId: Type.Optional(Type.String()) }), {
      description: 'The first warnings of the run (run.json lists them all).',
    }),
  ),
  warningCount: Type.Optional(Type.Integer({ minimum: 0 })),
  progress: Type.Optional(
    Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the bins evaluated.' }),
  ),
  plan: Type.Optional(
    Obj(
      {
        nodes: Type.Integer({ minimum: 0 }),
        series: Type.Integer({ minimum: 0 }),
        bins: Type.Integer({ minimum: 0 }),
        reuse: Type.Boolean(),
      },
      { description: 'On dryRun: what a run would do.' },
    ),
  ),
  grid: Type.Optional(Obj({ bins: Type.Integer(), binSize: Type.Integer(), binUnit: Type.String() })),
  artifacts: Type.Optional(
    Obj({
      location: Type.String(),
      runJson: Type.Boolean(),
      manifestJson: Type.Boolean(),
      seriesIndex: Type.Boolean(),
      seriesCount: Type.Integer({ minimum: 0 }),
    }),
  ),
  canReplay: Type.Optional(Type.Boolean()),
  durationMs: Type.Optional(
    Type.Number({ minimum: 0, description: 'The whole run: validation to artifacts.' }),
  ),
  evaluationMs: Type.Optional(Type.Number({ minimum: 0, description: 'The evaluation alone.' })),
  startedAt: Type.Optional(Type.String({ format: 'date-time' })),
  completedAt: Type.Optional(Type.String({ format: 'date-time' })),
});

export type SimulationRunSpec = Static<typeof SimulationRunSpec>;
export type SimulationRunStatus = Static<typeof SimulationRunStatus>;

export const simulationRun: KindDefinition = {
  kind: 'SimulationRun',
  plural: 'simulationruns',
  singular: 'simulationrun',
  shortNames: ['simrun'],
  description: 'A FlowTime-style simulation run evaluated into canonical artifacts.',
  spec: SimulationRunSpec,
  status: SimulationRunStatus,
  printerColumns: [
    { name: 'Template', type: 'string', jsonPath: '.spec.templateId' },
    { name: 'Mode', type: 'string', jsonPath: '.spec.mode' },
    phaseColumn,
    { name: 'Run ID', type: 'string', jsonPath: '.status.runId' },
    { name: 'Warnings', type: 'integer', jsonPath: '.status.warningCount' },
    { ...readyColumn, priority: 1 },
    { name: 'Duration(ms)', type: 'number', jsonPath: '.status.durationMs', priority: 1 },
    ageColumn,
  ],
};
