// A ChaosScenario once its preset and overrides are merged: what the schedule and the runner read.
import type { Static } from '@sinclair/typebox';
import type { Journey } from '../../crds/chaos-scenario.ts';

export type JourneySpec = Static<typeof Journey>;
export type Op = '<' | '<=' | '>' | '>=' | '==' | '!=';
export type Severity = 'critical' | 'warning';
export type EventKind = 'fault' | 'traffic' | 'application';

export interface ResolvedEvent {
  type: string;
  kind: EventKind;
  /** Sim minutes from the start. */
  triggerAt: number;
  /** Sim minutes. */
  duration: number;
  parameters: Record<string, unknown>;
}

export interface ResolvedInvariant {
  name: string;
  metric: string;
  op: Op;
  threshold: number;
  severity: Severity;
  abortOnFail: boolean;
  /** Real milliseconds a breach must last before abortOnFail stops the run. */
  breachWindowMs: number;
}

export interface ResolvedPolicies {
  customerSpawnRate: number;
  vendorSpawnRate: number;
  maxConcurrentAgents: number;
  rescheduleChance: number;
  cancelChance: number;
}

export interface ResolvedScenario {
  preset?: string;
  seed: number;
  realSeconds: number;
  simHours: number;
  tickMs: number;
  windowTicks: number;
  requestTimeoutMs: number;
  policies: ResolvedPolicies;
  journeys: JourneySpec[];
  events: ResolvedEvent[];
  invariants: ResolvedInvariant[];
}

export const totalSimMinutes = (s: ResolvedScenario): number => s.simHours * 60;
/** Sim minutes that pass per real millisecond. */
export const simMinutesPerMs = (s: ResolvedScenario): number => (s.simHours * 60) / (s.realSeconds * 1000);
export const totalTicks = (s: ResolvedScenario): number =>
  Math.max(1, Math.ceil((s.realSeconds * 1000) / s.tickMs));

/** `H:MM` of a sim time in minutes (`26:05` after a day and two hours). */
export const formatSimTime = (minutes: number): string => {
  const m = Math.max(0, Math.floor(minutes + 1e-9));
  return `${Math.floor(m / 60)}:${String(m % 60).padStart(2, '0')}`;
};

export const isActive = (e: ResolvedEvent, simMinute: number): boolean =>
  simMinute >= e.triggerAt && simMinute < e.triggerAt + e.duration;
