// The six SimOps kinds: the one list every other module reads.
import { chaosScenario } from './chaos-scenario.ts';
import type { KindDefinition } from './common.ts';
import { gitSource } from './git-source.ts';
import { machine } from './machine.ts';
import { sandbox } from './sandbox.ts';
import { simulationRun } from './simulation-run.ts';
import { simulator } from './simulator.ts';

export * from './common.ts';

export const kinds: KindDefinition[] = [simulator, sandbox, machine, simulationRun, chaosScenario, gitSource];

export const kindByName = (kind: string): KindDefinition | undefined => kinds.find((k) => k.kind === kind);
